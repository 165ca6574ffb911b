"""Websocket routes of the agent console, wired in config/asgi.py.

The agent socket authenticates with the admin session cookie, so it accepts only pages of
this deployment's own hosts (ALLOWED_HOSTS): the websocket equivalent of CSRF protection.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from console.consumers import AgentConsumer

websocket_urlpatterns = [
    path("ws/agent/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
]
