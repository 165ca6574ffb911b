"""A `Site` is one shop website that embeds the widget; `PhoneVerification` is one
"Continue by SMS" code (docs/widget.md)."""

import secrets

from django.db import models
from django.utils import timezone


def new_public_key() -> str:
    # Public (it sits in the script tag) but unguessable, so sites cannot be enumerated.
    return "pk_" + secrets.token_urlsafe(18)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Site(models.Model):
    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    # Signs identify claims (the HMAC `hash` and the HS256 JWT): it never leaves the shop's servers.
    secret = models.CharField(max_length=128, default=new_secret)
    # Exact origins ("https://shop.example.com") whose pages may embed the widget. The
    # platform's own origin (PUBLIC_BASE_URL, the demo shop) is always allowed.
    allowed_origins = models.JSONField(default=list, blank=True)
    # The older scheme: HMAC-SHA256 of the user id, with no expiry. Off unless the shop asks.
    identify_hash_enabled = models.BooleanField(default=False)
    default_greeting = models.CharField(
        max_length=500, default="Hi! How can we help you today?", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class PhoneVerification(models.Model):
    """One code texted to a phone a widget visitor wants to continue on.

    Only the code's hash is stored; it expires, and a few wrong guesses burn it.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=64)
    phone = models.CharField(max_length=32)  # E.164
    code_hash = models.CharField(max_length=128)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["visitor_id", "-created_at"], name="phone_verif_visitor_idx")
        ]

    def __str__(self) -> str:
        return f"Phone verification #{self.pk}"
