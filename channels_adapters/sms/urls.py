"""Twilio messaging webhooks (paste these into the Twilio console, docs/twilio.md)."""

from django.urls import path

from . import inbound, status

app_name = "sms"
urlpatterns = [
    path("", inbound.receive_sms, name="inbound"),
    path("status/", status.receive_status, name="status"),
]
