"""A list read as values (`rows_from_values`, the projects list) answers exactly what the same rows read
as model instances answer, field for field and in the same order; other lists are unchanged."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from common.api.serializers import PageQuerySet, ReadListSerializer, _value_paths
from federation.api.serializers import ProjectSerializer
from federation.models import Project
from marketplace.api.serializers.orders import OrderSerializer
from marketplace.models import Order
from tests.factories import CustomerFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _as_instances(request, queryset) -> list[dict]:
    context = {"request": request}
    return [ProjectSerializer(project, context=context).data for project in queryset]


def test_the_projects_page_read_as_values_is_what_instances_give(api, staff):
    other = CustomerFactory(name="Ödön Institute", native_name="Ödön", abbreviation="", slug="odon")
    ProjectFactory(name="With everything", backend_id="b-1", oecd_fos_2007_code="1.5", end_date=date(2031, 2, 28))
    ProjectFactory(name="Bare", description="", customer=other, end_date=None, backend_id="")
    ProjectFactory.create_batch(5)
    with CaptureQueriesContext(connection) as queries:
        answer = api.as_user(staff).get("/api/projects/", {"page_size": 4, "page": 2})
    assert answer.status_code == 200
    page = next(
        q["sql"] for q in queries.captured_queries if 'FROM "federation_project"' in q["sql"] and "LIMIT" in q["sql"]
    )
    columns = page.split(" FROM ")[0]
    assert '"federation_customer"."created"' not in columns  # the page's columns only: no instances were built
    expected = _as_instances(answer.wsgi_request, Project.objects.order_by("name", "id")[4:8])
    assert answer.json() == expected
    assert answer["X-Result-Count"] == "7"


def test_a_field_through_a_nullable_relation_or_not_a_column_is_read_from_instances():
    def plan(serializer):
        return [ReadListSerializer._plan(field) for field in serializer()._readable_fields]

    assert _value_paths(Project, plan(ProjectSerializer)) is not None
    assert _value_paths(Order, plan(OrderSerializer)) is None  # plan and resource may be null

    class WithMethod(serializers.ModelSerializer):
        label = serializers.CharField(source="__str__", read_only=True)

        class Meta:
            model = Project
            fields = ("label",)

    assert _value_paths(Project, plan(WithMethod)) is None


def test_a_page_that_cannot_be_read_as_values_is_read_as_instances(db):
    project = ProjectFactory(name="Only")
    request = APIRequestFactory().get("/api/orders/")

    class WithMethod(serializers.ModelSerializer):
        label = serializers.CharField(source="__str__", read_only=True)

        class Meta:
            model = Project
            list_serializer_class = ReadListSerializer
            fields = ("uuid", "label")

    rows = WithMethod(PageQuerySet(Project.objects.all()), many=True, context={"request": request}).data
    assert rows == [{"uuid": str(project.uuid), "label": str(project)}]
