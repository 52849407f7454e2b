"""Plain updates write only the columns that changed, under a row lock, and nothing when nothing changed."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from federation import services
from federation.models import Customer, Project
from tests.sql import locks_rows, updated_columns


def test_customer_update_writes_only_the_changed_column_under_a_lock(staff, customer):
    with CaptureQueriesContext(connection) as ctx:
        services.customer_update(actor=staff, customer=customer, name="Renamed", abbreviation=customer.abbreviation)
    assert updated_columns(ctx.captured_queries, Customer) == [{"name"}]
    assert locks_rows(ctx.captured_queries, Customer)
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


def test_customer_update_without_a_change_writes_nothing(staff, customer):
    with CaptureQueriesContext(connection) as ctx:
        services.customer_update(actor=staff, customer=customer, name=customer.name, email=customer.email)
    assert updated_columns(ctx.captured_queries, Customer) == []


def test_project_update_writes_only_the_changed_columns_under_a_lock(staff, project):
    end = datetime.date(2031, 1, 31)
    with CaptureQueriesContext(connection) as ctx:
        services.project_update(actor=staff, project=project, name=project.name, description="New", end_date=end)
    assert updated_columns(ctx.captured_queries, Project) == [{"description", "end_date"}]
    assert locks_rows(ctx.captured_queries, Project)
    fresh = Project.objects.get(pk=project.pk)
    assert (fresh.description, fresh.end_date) == ("New", end)


def test_project_update_without_a_change_writes_nothing(staff, project):
    with CaptureQueriesContext(connection) as ctx:
        services.project_update(actor=staff, project=project, name=f"  {project.name} ", end_date=project.end_date)
    assert updated_columns(ctx.captured_queries, Project) == []


def test_two_edits_of_different_fields_both_stay(staff, project):
    """Each writer saves only its own field, so an edit made from a stale copy loses nothing of the other."""
    first, second = Project.objects.get(pk=project.pk), Project.objects.get(pk=project.pk)
    services.project_update(actor=staff, project=first, name="Renamed")
    services.project_update(actor=staff, project=second, description="Described")
    fresh = Project.objects.get(pk=project.pk)
    assert (fresh.name, fresh.description) == ("Renamed", "Described")
