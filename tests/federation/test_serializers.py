"""The list fast path renders exactly what DRF's per-object path renders."""

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from common.api.serializers import ReadListSerializer
from federation.api import serializers as s
from federation.models import Customer, Project, Role, RoleGrant, RoleName, User
from tests.factories import ProjectFactory, UserFactory, grant


@pytest.fixture
def request_(db):
    return Request(RequestFactory().get("/api/projects/"))


@pytest.fixture
def rows(project, member, manager, owner):
    ProjectFactory(customer=project.customer, end_date="2031-02-03", oecd_fos_2007_code="1.2", description="d")
    UserFactory(cuid="x@idp", full_name="")
    Customer.objects.create(name="Second", slug="second", email="a@b.org", backend_id="b")
    # A grant without created_by (its creator was deleted): the `created_by.*` fields fall back to None.
    grant(UserFactory(), project, RoleName.PROJECT_ADMIN, created_by=None)
    grant(UserFactory(), project, RoleName.PROJECT_MEMBER, created_by=owner)


@pytest.mark.parametrize(
    ("serializer", "queryset"),
    [
        (s.ProjectSerializer, lambda: Project.objects.select_related("customer")),
        (s.CustomerSerializer, lambda: Customer.objects.all()),
        (s.UserSerializer, lambda: User.objects.all()),
        (s.RoleSerializer, lambda: Role.objects.all()),
        (s.RoleGrantSerializer, lambda: RoleGrant.objects.select_related("user", "role", "created_by")),
    ],
)
def test_list_matches_one_by_one(rows, request_, serializer, queryset):
    objects = list(queryset())
    assert len(objects) >= 2
    many = serializer(objects, many=True, context={"request": request_})
    assert isinstance(many, ReadListSerializer)
    one_by_one = [serializer(obj, context={"request": request_}).data for obj in objects]
    assert many.data == one_by_one
    assert [list(row) for row in many.data] == [list(row) for row in one_by_one]  # same key order


def test_fallback_handles_sources_the_fast_path_does_not(db, request_):
    from rest_framework import serializers

    class Odd(serializers.Serializer):
        full = serializers.CharField(source="get_full_name")  # a method: DRF calls it
        everything = serializers.SerializerMethodField()
        missing = serializers.CharField(source="no_such_attr", required=False)  # skipped
        defaulted = serializers.CharField(source="nope.deeper", default="dflt")

        class Meta:
            list_serializer_class = ReadListSerializer

        def get_everything(self, obj):
            return obj.username.upper()

    users = [UserFactory(first_name="Ada", last_name="L"), UserFactory(first_name="", last_name="")]
    many = Odd(users, many=True, context={"request": request_}).data
    assert many == [Odd(u).data for u in users]
    assert many[0] == {"full": "Ada L", "everything": users[0].username.upper(), "defaulted": "dflt"}
