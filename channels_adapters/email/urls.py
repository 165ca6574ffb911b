"""Email webhooks (paste these into the provider's console, docs/email.md)."""

from django.urls import path

from . import inbound, status, unsubscribe

app_name = "email"
urlpatterns = [
    path("postmark/inbound/", inbound.receive_postmark, name="postmark-inbound"),
    path("postmark/tracking/", status.receive_postmark, name="postmark-tracking"),
    path("mailgun/inbound/", inbound.receive_mailgun, name="mailgun-inbound"),
    path("mailgun/tracking/", status.receive_mailgun, name="mailgun-tracking"),
    path("unsubscribe/<str:token>/", unsubscribe.receive_unsubscribe, name="unsubscribe"),
]
