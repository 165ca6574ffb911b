"""The websocket process (uvicorn; daphne in live-server tests).

Only the Channels consumers are meant to be served from here: Django's sync views run
about 5x slower under an ASGI server than under gunicorn, so a proxy sends `/ws/` here and
everything else to the HTTP process. Plain HTTP is still answered, for tools that need one
server (live-server tests).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from base.middleware import RefuseUnstorableSocket  # noqa: E402
from channels_adapters.webchat import ws_routes as webchat_routing  # noqa: E402
from console import ws_routes as agent_routing  # noqa: E402
from operations.telemetry import SocketTelemetry  # noqa: E402

websocket_urlpatterns = agent_routing.websocket_urlpatterns + webchat_routing.websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # each route carries its own origin check: see the two routing modules
        # counts for /metrics; a NUL in the path or query is refused first (base/middleware.py)
        "websocket": SocketTelemetry(RefuseUnstorableSocket(URLRouter(websocket_urlpatterns))),
    }
)
