import uuid

from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q

from common.querysets import VisibleQuerySet
from common.validation import validate_json_storable


class ProviderQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Owners of the operating organisation see their providers (staff and support see all)."""
        from federation.models import Customer

        return self.filter(customer__in=Customer.objects.owned_by(user))


class Provider(models.Model):
    """A site that runs resources and speaks the provider protocol."""

    class Env(models.TextChoices):
        PRODUCTION = "production"
        TEST = "test"
        DEVELOPMENT = "development"

    class Status(models.TextChoices):
        ENABLED = "enabled"
        MAINTENANCE = "maintenance"
        DISABLED = "disabled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.CharField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lower-case letters, digits and dashes.")],
        help_text="The provider's id in the protocol (`iss` of its tokens); never changes.",
    )
    name = models.CharField(max_length=150)
    domain = models.CharField(max_length=255, help_text="Host name, with a port when not the default one.")
    https = models.BooleanField(default=True)
    env = models.CharField(max_length=20, choices=Env.choices, default=Env.PRODUCTION)
    customer = models.ForeignKey(
        "federation.Customer", on_delete=models.PROTECT, related_name="providers", help_text="Operating organisation."
    )
    jwks = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_json_storable],
        help_text='The provider\'s public signing keys: {"keys": [...]}',
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ENABLED)
    manifest = models.JSONField(default=dict, blank=True)
    manifest_fetched_at = models.DateTimeField(null=True, blank=True)
    usage_cursor = models.BigIntegerField(default=0)
    last_verify = models.JSONField(default=dict, blank=True)
    # Health
    available = models.BooleanField(default=True, help_text="False after repeated failures: deliveries pause.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_manifest_pull_at = models.DateTimeField(null=True, blank=True)
    last_usage_pull_at = models.DateTimeField(null=True, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    @property
    def base_url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.domain}"

    @property
    def accepts_deliveries(self) -> bool:
        return self.status == self.Status.ENABLED and self.available


class ProviderEndpoint(models.Model):
    """A service endpoint of a provider, by GOCDB service type, probed by `check_provider`.

    `service_type` is GOCDB's (`org.openstack.nova`, `org.openstack.swift`, `eu.egi.cloud.accounting`)
    or our own (`org.federation.provider-api`); `url` is http(s)://… for an HTTP check, or
    tcp://host:port for a plain connection check.
    """

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="endpoints")
    service_type = models.CharField(
        max_length=100,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9.-]*$", "Lower-case letters, digits, dots and dashes.")],
    )
    url = models.CharField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https", "tcp"])],
        help_text="http(s)://… or tcp://host:port",
    )
    monitored = models.BooleanField(default=True, help_text="Probed by check_provider.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider_id", "service_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "service_type", "url"],
                name="provider_endpoint_unique",
                violation_error_message="The provider already lists this endpoint.",
            )
        ]

    def __str__(self):
        return f"{self.provider_id} {self.service_type} {self.url}"


class ProviderOffering(models.Model):
    """Which provider runs an offering. Offerings without a row here are handled by hand."""

    offering = models.OneToOneField("marketplace.Offering", on_delete=models.CASCADE, related_name="provider_link")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offering_links")

    def __str__(self):
        return f"{self.offering} @ {self.provider}"


class OutboxMessage(models.Model):
    """A message that must reach a provider. Written in the same transaction as the change it reports."""

    class Kind(models.TextChoices):
        ORDER = "order"
        MEMBERSHIP = "membership"
        PAUSE = "pause"

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    order_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    payload = models.JSONField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["provider", "next_attempt_at"], condition=Q(state="pending"), name="outbox_due"),
        ]
        constraints = [
            # An order is delivered once: re-approving it cannot queue a second delivery.
            models.UniqueConstraint(fields=["order_uuid"], condition=Q(kind="order"), name="outbox_one_row_per_order"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.provider_id} ({self.state})"


class SigningKey(models.Model):
    """The orchestrator's own Ed25519 keys. The newest active key signs; all published keys verify."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True, help_text="Signs new tokens (only the newest active key does).")
    published = models.BooleanField(default=True, help_text="Listed at /.well-known/jwks.json.")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return self.kid


class SeenToken(models.Model):
    """Token ids already accepted from providers, per issuer, kept until they expire (replay protection)."""

    issuer = models.CharField(max_length=50)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="seen_token_once_per_issuer")]

    def __str__(self):
        return f"{self.issuer}:{self.jti}"


class UserConnection(models.Model):
    """A user's account at a provider: the provider-local username, confirmed by the provider."""

    class State(models.TextChoices):
        PENDING = "pending"
        CONNECTED = "connected"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_connections")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="connections")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    username = models.CharField(max_length=100, blank=True)
    redirect_url = models.URLField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    connected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "provider"], condition=Q(state="connected"), name="one_connection_per_provider"
            )
        ]

    def __str__(self):
        return f"{self.user} @ {self.provider}: {self.username or self.state}"
