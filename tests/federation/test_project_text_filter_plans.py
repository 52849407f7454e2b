"""The projects list's filters by its customer's name and abbreviation reach the customers' trigram
indexes through the join (the project's own name and description: test_text_filter_indexes), and
match the same on SQLite, which has no such index."""

import pytest

from common.db import index_name
from federation.filters import ProjectFilter
from federation.models import Project
from tests.sql import index_plan as plan

pytestmark = pytest.mark.django_db


@pytest.mark.postgresql
@pytest.mark.parametrize(("field", "column"), [("customer_name", "name"), ("abbreviation", "abbreviation")])
def test_the_customer_filters_of_the_projects_list_use_the_customer_indexes(field, column):
    queryset = ProjectFilter({field: "glacier"}, queryset=Project.objects.select_related("customer")).qs
    assert index_name("federation_customer", column) in plan(queryset)


@pytest.mark.parametrize("field", ["customer_name", "abbreviation"])
def test_they_match_substrings_in_any_case(customer, field):
    Project.objects.create(customer=customer, name="Glacier retreat", slug="g1")
    needle = (customer.name if field == "customer_name" else customer.abbreviation)[1:-1].swapcase()
    assert needle
    found = ProjectFilter({field: needle}, queryset=Project.objects.all()).qs
    assert [p.name for p in found] == ["Glacier retreat"]
