"""Catalogue updates write only the columns that changed, under a row lock, and nothing when nothing changed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import services
from marketplace.models import Offering, Plan
from tests.sql import locks_rows, updated_columns


def test_offering_update_writes_only_the_changed_column_under_a_lock(provider_owner, offering):
    with CaptureQueriesContext(connection) as ctx:
        services.offering_update(actor=provider_owner, offering=offering, name=offering.name, description="Faster")
    assert updated_columns(ctx.captured_queries, Offering) == [{"description", "modified"}]
    assert locks_rows(ctx.captured_queries, Offering)
    assert Offering.objects.get(pk=offering.pk).description == "Faster"


def test_offering_update_without_a_change_writes_nothing(provider_owner, offering):
    before = Offering.objects.get(pk=offering.pk).modified
    with CaptureQueriesContext(connection) as ctx:
        services.offering_update(
            actor=provider_owner, offering=offering, name=offering.name, auto_approve=offering.auto_approve
        )
    assert updated_columns(ctx.captured_queries, Offering) == []
    assert Offering.objects.get(pk=offering.pk).modified == before


def test_plan_update_writes_only_the_changed_column_under_a_lock(provider_owner, plan):
    with CaptureQueriesContext(connection) as ctx:
        services.plan_update(actor=provider_owner, plan=plan, name=" Gold ", unit=plan.unit)
    assert updated_columns(ctx.captured_queries, Plan) == [{"name"}]
    assert locks_rows(ctx.captured_queries, Plan)
    assert Plan.objects.get(pk=plan.pk).name == "Gold"


def test_plan_update_without_a_change_writes_nothing(provider_owner, plan):
    with CaptureQueriesContext(connection) as ctx:
        services.plan_update(actor=provider_owner, plan=plan, name=plan.name, description=plan.description)
    assert updated_columns(ctx.captured_queries, Plan) == []


def test_an_edit_from_a_stale_copy_keeps_the_other_change(provider_owner, offering):
    first, second = Offering.objects.get(pk=offering.pk), Offering.objects.get(pk=offering.pk)
    services.offering_update(actor=provider_owner, offering=first, name="Renamed")
    services.offering_update(actor=provider_owner, offering=second, description="Described")
    fresh = Offering.objects.get(pk=offering.pk)
    assert (fresh.name, fresh.description) == ("Renamed", "Described")
