"""Websocket routes of the widget, wired in config/asgi.py."""

websocket_urlpatterns: list = []
