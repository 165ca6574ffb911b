"""The gunicorn application of the webhook benchmarks: the project's, on the bench's URLconf.

`config.wsgi` with one change: ROOT_URLCONF is `bench._floor_urls` (the project's URLs plus
the floor views), so the floors run in the very same server as the webhooks and never
appear among the project's public URLs. The settings are otherwise those the environment
gives, as for `gunicorn config.wsgi`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

settings.ROOT_URLCONF = "bench._floor_urls"
application = get_wsgi_application()
