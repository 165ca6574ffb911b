"""Websocket routes of the widget, wired in config/asgi.py."""

from django.urls import path

from .consumers import WidgetConsumer

websocket_urlpatterns: list = [path("ws/widget/", WidgetConsumer.as_asgi())]
