"""Twilio voice webhooks (paste the first into the Twilio console, docs/twilio.md)."""

from django.urls import path

from . import gather, inbound, outbound, recording, status

app_name = "voice"
urlpatterns = [
    path("", inbound.receive_call, name="inbound"),
    path("gather/", gather.receive_gather, name="gather"),
    path("status/", status.receive_status, name="status"),
    path("recording/", recording.receive_recording, name="recording"),
    path("bridge/", outbound.bridge, name="bridge"),
]
