import uuid

from django.db import models

from .managers import ResourceQuerySet


class ResourceState(models.TextChoices):
    """Waldur's resource states, spelled as Waldur serves them: its clients compare them exactly."""

    CREATING = "Creating", "Creating"
    OK = "OK", "OK"
    ERRED = "Erred", "Erred"
    UPDATING = "Updating", "Updating"
    TERMINATING = "Terminating", "Terminating"
    TERMINATED = "Terminated", "Terminated"


class Resource(models.Model):
    """An allocation a project holds from an offering; created together with its create order."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=60, help_text="Stable lower-case short name, unique within the offering.")
    description = models.TextField(max_length=2000, blank=True)
    offering = models.ForeignKey("marketplace.Offering", on_delete=models.PROTECT, related_name="resources")
    plan = models.ForeignKey(
        "marketplace.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="resources"
    )
    project = models.ForeignKey("federation.Project", on_delete=models.PROTECT, related_name="resources")
    limits = models.JSONField(
        default=dict, blank=True, help_text="{component_type: amount} for limit-billed components."
    )
    attributes = models.JSONField(default=dict, blank=True)
    backend_id = models.CharField(max_length=255, blank=True, help_text="The provider's identifier of the resource.")
    state = models.CharField(max_length=20, choices=ResourceState.choices, default=ResourceState.CREATING)
    end_date = models.DateField(null=True, blank=True, help_text="Terminated after this day.")
    current_usages = models.JSONField(default=dict, blank=True, help_text="{component_type: usage} this period.")
    paused = models.BooleanField(
        default=False, help_text="Work stopped at the provider (no new jobs), data kept; until resumed."
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "slug"],
                name="resource_slug_unique_in_offering",
                violation_error_message="A resource with this slug already exists in this offering.",
            ),
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["backend_id"])]

    def __str__(self):
        return self.name
