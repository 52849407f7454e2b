"""What the APEL exchange stores: a mapping per offering, the records imported, and those that matched nothing."""

import uuid

from django.db import models

from common.querysets import VisibleQuerySet


class MappingKind(models.TextChoices):
    CLOUD = "cloud"  # cloud records in, cloud summaries out
    HPC = "hpc"  # job records and job summaries in, job summaries out


# The APEL fields a component can feed. Cloud fields marked True are cumulative per VM; the others are
# sizes (cores, MB, GB), which become size × hours of the month's wall time on import of VM records.
CLOUD_FIELDS = {
    "WallDuration": True,
    "CpuDuration": True,
    "NetworkInbound": True,
    "NetworkOutbound": True,
    "CpuCount": False,
    "Memory": False,
    "Disk": False,
}
HPC_FIELDS = ("WallDuration", "CpuDuration")


class ApelMapping(models.Model):
    """How one offering's usage reads as APEL records, and APEL records as its usage.

    `components` is {component_type: {"field": APEL field, "factor": "APEL units per component unit"}}:
    `cpu_k_hours` → {"field": "CpuDuration", "factor": "3600000"} says one k-CPU-hour is 3.6 million
    CPU seconds. Checked by `apel.services.mapping_problems` (admin form and services alike).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    offering = models.OneToOneField("marketplace.Offering", on_delete=models.CASCADE, related_name="apel_mapping")
    kind = models.CharField(max_length=10, choices=MappingKind.choices)
    site_name = models.CharField(max_length=255, help_text="The site's GOCDB name (SiteName / Site).")
    service = models.CharField(
        max_length=255, blank=True, help_text="CloudComputeService (cloud) or SubmitHost (hpc); may be empty."
    )
    benchmark_type = models.CharField(max_length=50, blank=True, help_text="HEPscore23, hepspec or si2k (hpc).")
    benchmark_value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    vo_default = models.CharField(
        max_length=255, blank=True, help_text="The VO of projects that name none (default: APEL_DEFAULT_VO)."
    )
    components = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "APEL mapping"
        ordering = ["site_name", "service", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site_name", "service"],
                name="apel_mapping_one_per_site_service",
                violation_error_message="Another offering already maps this site and service.",
            )
        ]

    def __str__(self):
        return f"{self.site_name}/{self.service or '-'} → {self.offering_id}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .services.mappings import mapping_problems

        problems = mapping_problems(self)
        if problems:
            raise ValidationError(problems)


class ApelProjectVO(models.Model):
    """The VO a project's usage is published under (default: the project's backend_id)."""

    project = models.OneToOneField("federation.Project", on_delete=models.CASCADE, related_name="apel_vo")
    vo = models.CharField(max_length=255)

    class Meta:
        verbose_name = "APEL project VO"

    def __str__(self):
        return f"{self.project_id}: {self.vo}"


class ApelRecord(models.Model):
    """One imported record as last received, keyed as APEL keys it, so a resent message changes nothing.

    `values` holds the record's numbers as sent ({field: number}); the month's usage of a resource
    is recomputed from these rows after every import. Cloud VM records are cumulative: the row of a
    month holds the VM's latest record in that month.
    """

    mapping = models.ForeignKey(ApelMapping, on_delete=models.CASCADE, related_name="records")
    format = models.CharField(max_length=20)
    key = models.CharField(max_length=255)
    month = models.DateField()
    resource = models.ForeignKey("marketplace.Resource", on_delete=models.CASCADE, related_name="apel_records")
    username = models.CharField(max_length=100, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    values = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = "APEL record"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "format", "key", "month"], name="apel_record_once_per_month")
        ]
        indexes = [models.Index(fields=["resource", "month"])]

    def __str__(self):
        return f"{self.format} {self.key} {self.month:%Y-%m}"


class UnmatchedQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        return self.none()  # staff and support only


class UnmatchedApelRecord(models.Model):
    """A valid record that names no mapped offering or resource: kept for staff, counted on each resend."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, help_text="The record's identity (format, site, key).")
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.SET_NULL)
    format = models.CharField(max_length=20)
    site_name = models.CharField(max_length=255)
    service = models.CharField(max_length=255, blank=True)
    vo = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)
    record = models.TextField(help_text="The record as received.")
    times_received = models.PositiveIntegerField(default=1)
    first_received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()

    objects = UnmatchedQuerySet.as_manager()

    class Meta:
        verbose_name = "unmatched APEL record"
        ordering = ["-last_received_at", "-id"]

    def __str__(self):
        return f"{self.format} {self.site_name}: {self.reason}"
