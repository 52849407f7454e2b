"""The case-insensitive text filters are served by trigram indexes on PostgreSQL."""

import pytest
from django.db import connection

from common.db import index_name
from federation.filters import CustomerFilter, ProjectFilter
from federation.models import Customer, Project
from marketplace.filters import OfferingFilter, ResourceFilter
from marketplace.models import Offering, Resource
from tests.sql import index_plan as plan

pytestmark = pytest.mark.django_db

# (filter set, filter name, model, table, column): every text filter a list offers by substring.
# The projects list's customer_name and abbreviation filter the (few) customers the join starts from,
# through the customer indexes below.
TEXT_FILTERS = [
    (ProjectFilter, "name", Project, "federation_project", "name"),
    (ProjectFilter, "description", Project, "federation_project", "description"),
    (CustomerFilter, "name", Customer, "federation_customer", "name"),
    (CustomerFilter, "abbreviation", Customer, "federation_customer", "abbreviation"),
    (CustomerFilter, "native_name", Customer, "federation_customer", "native_name"),
    (OfferingFilter, "name", Offering, "marketplace_offering", "name"),
    (ResourceFilter, "name", Resource, "marketplace_resource", "name"),
]


@pytest.mark.parametrize(("filterset", "field", "model", "table", "column"), TEXT_FILTERS)
def test_text_filter_uses_its_trigram_index(filterset, field, model, table, column):
    assert connection.vendor == "postgresql"
    queryset = filterset({field: "glacier"}, queryset=model.objects.all()).qs
    assert index_name(table, column) in plan(queryset)


def test_the_indexes_exist_with_the_trigram_operator_class():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        indexes = dict(cursor.fetchall())
    for _, _, _, table, column in TEXT_FILTERS:
        definition = indexes[index_name(table, column)]
        assert "USING gin" in definition and "gin_trgm_ops" in definition, definition
        assert f"upper({column})" in definition or f"upper(({column})::text)" in definition, definition


def test_filters_still_match_substrings_in_any_case(customer):
    Project.objects.create(customer=customer, name="Glacier retreat", slug="g1")
    Project.objects.create(customer=customer, name="Ocean heat", slug="o1")
    found = ProjectFilter({"name": "GLACIER"}, queryset=Project.objects.all()).qs
    assert [p.name for p in found] == ["Glacier retreat"]
