import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AuthToken(models.Model):
    """An API token. Only the SHA-256 of the key is stored; the key is shown once, at login."""

    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters of the key, to tell tokens apart."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(20)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()
