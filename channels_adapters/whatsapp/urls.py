"""Twilio's WhatsApp webhooks (paste them into the WhatsApp sender's settings: docs/whatsapp.md)."""

from django.urls import path

from . import inbound, status

app_name = "whatsapp"
urlpatterns = [
    path("", inbound.receive_whatsapp, name="inbound"),
    path("status/", status.receive_status, name="status"),
]
