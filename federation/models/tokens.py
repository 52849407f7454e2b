import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

_FINGERPRINT_SALT = "federation.models.tokens.password_fingerprint"


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(user, *, secret: str | None = None) -> str:
    """A keyed digest of the user's password hash: it changes whenever the password does."""
    return salted_hmac(_FINGERPRINT_SALT, user.password, secret=secret, algorithm="sha256").hexdigest()


def password_fingerprints(user) -> list[str]:
    """The fingerprint under the current SECRET_KEY and each of SECRET_KEY_FALLBACKS (rotation keeps tokens)."""
    return [password_fingerprint(user, secret=key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]


class AuthTokenQuerySet(models.QuerySet):
    def usable_by(self, user):
        """The user's tokens that still authenticate: not expired, issued under the current password."""
        return self.filter(user=user, password_fingerprint__in=password_fingerprints(user)).exclude(
            expires_at__lte=timezone.now()
        )


class AuthToken(models.Model):
    """An API token. Only the SHA-256 of the key is stored; the key is shown once, at login.

    A token is bound to the password it was issued under (`password_fingerprint`): changing the
    password by any path (the API, the admin, `manage.py changepassword`) revokes every token of
    the user, as Django does for sessions.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters of the key, to tell tokens apart."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(
        null=True, blank=True, help_text="Last request made with the token (to the minute); the issue time at first."
    )
    password_fingerprint = models.CharField(max_length=64, default="", editable=False)

    objects = AuthTokenQuerySet.as_manager()

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

    def matches_password(self) -> bool:
        """True while the user's password is the one the token was issued under."""
        return any(constant_time_compare(self.password_fingerprint, f) for f in password_fingerprints(self.user))
