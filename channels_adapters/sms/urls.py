"""Twilio messaging webhooks (paste these into the Twilio console, docs/twilio.md)."""

from django.urls import path

urlpatterns: list = []
