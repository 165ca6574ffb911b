"""API keys: how the shop's servers authenticate (docs/api.md, "Authentication")."""

from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A secret the shop's server sends as `Authorization: Bearer <key>`.

    Only a SHA-256 of the key is stored (the key is 32 random bytes, so a slow hash would
    add nothing); `prefix` is its first characters, shown in the admin so people can
    tell keys apart. The whole key is shown once, when it is created.
    """

    name = models.CharField(max_length=100)  # who uses it: "Shopify production"
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
