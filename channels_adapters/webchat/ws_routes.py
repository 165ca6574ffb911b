"""Websocket routes of the widget, wired in config/asgi.py.

The widget socket runs on shops' own domains, so it is not limited to ALLOWED_HOSTS:
the consumer checks the page's origin against its site's allowed origins and the signed
visitor token (channels_adapters/webchat/origins.py). It uses no cookies.
"""

from django.urls import path

from .consumers import WidgetConsumer

websocket_urlpatterns: list = [path("ws/widget/", WidgetConsumer.as_asgi())]
