import uuid

from django.db import models

from .managers import CustomerQuerySet, ProjectQuerySet

# OECD Fields of Science and Technology (FOS 2007), as used by Puhuri Core / Waldur.
OECD_FOS_2007_CODES = {
    "1.1": "Mathematics",
    "1.2": "Computer and information sciences",
    "1.3": "Physical sciences",
    "1.4": "Chemical sciences",
    "1.5": "Earth and related environmental sciences",
    "1.6": "Biological sciences",
    "1.7": "Other natural sciences",
    "2.1": "Civil engineering",
    "2.2": "Electrical engineering, electronic engineering, information engineering",
    "2.3": "Mechanical engineering",
    "2.4": "Chemical engineering",
    "2.5": "Materials engineering",
    "2.6": "Medical engineering",
    "2.7": "Environmental engineering",
    "2.8": "Environmental biotechnology",
    "2.9": "Industrial biotechnology",
    "2.10": "Nano-technology",
    "2.11": "Other engineering and technologies",
    "3.1": "Basic medicine",
    "3.2": "Clinical medicine",
    "3.3": "Health sciences",
    "3.4": "Health biotechnology",
    "3.5": "Other medical sciences",
    "4.1": "Agriculture, forestry, and fisheries",
    "4.2": "Animal and dairy science",
    "4.3": "Veterinary science",
    "4.4": "Agricultural biotechnology",
    "4.5": "Other agricultural sciences",
    "5.1": "Psychology",
    "5.2": "Economics and business",
    "5.3": "Educational sciences",
    "5.4": "Sociology",
    "5.5": "Law",
    "5.6": "Political science",
    "5.7": "Social and economic geography",
    "5.8": "Media and communications",
    "5.9": "Other social sciences",
    "6.1": "History and archaeology",
    "6.2": "Languages and literature",
    "6.3": "Philosophy, ethics and religion",
    "6.4": "Arts (arts, history of arts, performing arts, music)",
    "6.5": "Other humanities",
}


class Customer(models.Model):
    """An organisation: it owns projects, and may operate a provider."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=60, unique=True, help_text="Stable short name, used by providers.")
    native_name = models.CharField(max_length=160, blank=True)
    abbreviation = models.CharField(max_length=12, blank=True)
    contact_details = models.TextField(max_length=1000, blank=True)
    email = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=40, blank=True)
    backend_id = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="customer_name_id_idx")]

    def __str__(self):
        return self.name


class Project(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, help_text="Stable short name within the customer, used by providers.")
    description = models.TextField(max_length=2000, blank=True)
    end_date = models.DateField(null=True, blank=True, help_text="Resources are terminated after this day.")
    backend_id = models.CharField(max_length=255, blank=True)
    oecd_fos_2007_code = models.CharField(
        max_length=5,
        blank=True,
        choices=sorted(OECD_FOS_2007_CODES.items(), key=lambda c: [int(p) for p in c[0].split(".")]),
    )
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "backend_id"],
                condition=~models.Q(backend_id=""),
                name="project_backend_id_unique_in_customer",
                violation_error_message="A project with this backend_id already exists in this customer.",
            ),
            models.UniqueConstraint(fields=["customer", "slug"], name="project_slug_unique_in_customer"),
        ]
        # The default ordering: a page of the list is an index range scan, not a sort of every row.
        indexes = [
            models.Index(fields=["created"]),
            models.Index(fields=["name", "id"], name="project_name_id_idx"),
            # Projects ending soon (the dashboard, the end-date mail): a range of this, not a scan of every project.
            models.Index(
                fields=["end_date", "id"],
                condition=models.Q(is_active=True, end_date__isnull=False),
                name="project_active_end_date_idx",
            ),
        ]

    def __str__(self):
        return self.name
