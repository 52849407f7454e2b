"""Events mark changes, not calls: transitions only, differences only, and one statement for a report's rows."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.services import UsageReport, usage_report
from events.models import Event
from federation import services as federation
from federation.models import Project, Role, RoleGrant, RoleName
from marketplace import services as marketplace
from providers import services as providers
from providers.models import Provider
from tests.factories import UserFactory, grant


def _types() -> list[str]:
    return list(Event.objects.order_by("id").values_list("event_type", flat=True))


def test_provider_health_records_transitions_only(world, django_assert_num_queries):
    provider_id = world.provider.id
    with django_assert_num_queries(1):  # a success while available stays one UPDATE
        providers.provider_record_success(provider_id=provider_id, field="last_delivery_at")
    for _ in range(settings.PROVIDER_FAILURE_THRESHOLD + 3):
        providers.provider_record_failure(provider_id=provider_id, error="connection refused")
    providers.provider_record_success(provider_id=provider_id, field="last_delivery_at")
    providers.provider_record_success(provider_id=provider_id, field="last_delivery_at")
    assert _types() == ["provider_unavailable", "provider_available"]
    unavailable = Event.objects.get(event_type="provider_unavailable")
    assert unavailable.context == {
        "provider_slug": "hpc-site",
        "provider_name": "HPC site",
        "last_error": "connection refused",
    }
    assert (unavailable.provider_uuid, unavailable.customer_uuid) == (world.provider.uuid, world.provider_org.uuid)
    assert Provider.objects.get(id=provider_id).available is True


def test_a_manifest_like_the_stored_one_records_nothing(world, request):
    server = request.getfixturevalue("manifest_server")
    Provider.objects.filter(id=world.provider.id).update(domain=server)
    for _ in range(3):
        assert providers.manifest_pull(provider=Provider.objects.get(id=world.provider.id))
    changed = Event.objects.get(event_type="provider_manifest_changed")
    assert changed.context["changed"] == ["components", "features", "offering_types", "provider_id"]


def test_a_project_update_that_changes_nothing_records_nothing(world):
    project = Project.objects.select_related("customer").get(id=world.project.id)
    federation.project_update(actor=world.manager, project=project, name=project.name, description="")
    assert _types() == []
    federation.project_update(actor=world.manager, project=project, name="Renamed", description="Now described")
    assert Event.objects.get().context["changed"] == ["name", "description"]


def test_a_grant_replacing_an_expired_one_records_its_expiry_first(world):
    late = UserFactory(username="late")
    old = grant(late, world.project, RoleName.PROJECT_MEMBER, expiration_time=timezone.now() + timedelta(hours=1))
    RoleGrant.objects.filter(id=old.id).update(expiration_time=timezone.now() - timedelta(minutes=1))
    role = Role.objects.get(name=RoleName.PROJECT_MEMBER)
    federation.role_grant(actor=world.owner, scope=world.project, user=late, role=role)
    assert _types() == ["role_expired", "role_granted"]
    assert federation.roles_deactivate_expired() == 0
    assert _types() == ["role_expired", "role_granted"]


def test_one_report_of_many_rows_records_an_event_each_in_one_insert(world):
    order = marketplace.order_create(
        actor=world.manager,
        project=world.project,
        offering=world.offering,
        plan=world.plan,
        attributes={"name": "Allocation"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )
    marketplace.order_approve_by_provider(order=order.uuid, actor=None)
    resource = marketplace.order_set_state_done(order=order.uuid, actor=None).resource
    month = timezone.localdate().replace(day=1)
    Event.objects.all().delete()

    def report(amounts: dict[str, str]) -> list:
        reports = [UsageReport(resource.id, component, month, Decimal(amount)) for component, amount in amounts.items()]
        with CaptureQueriesContext(connection) as queries:
            usage_report(reports=reports)
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "events_event"')]

    assert len(report({"gpu_hours": "4", "cpu_k_hours": "2", "storage_tb": "1"})) == 1
    assert len(report({"gpu_hours": "4", "cpu_k_hours": "2", "storage_tb": "1"})) == 0  # nothing changed
    assert len(report({"gpu_hours": "5", "cpu_k_hours": "1.5", "storage_tb": "1"})) == 1
    events = list(Event.objects.order_by("id"))
    assert [(e.event_type, e.context["component_type"]) for e in events] == [
        ("marketplace_component_usage_reported", "gpu_hours"),
        ("marketplace_component_usage_reported", "cpu_k_hours"),
        ("marketplace_component_usage_reported", "storage_tb"),
        ("marketplace_component_usage_reported", "gpu_hours"),
        ("marketplace_component_usage_decreased", "cpu_k_hours"),
    ]
    decreased = events[-1]
    assert (decreased.context["usage"], decreased.context["previous_usage"]) == ("1.5", "2")
    assert (decreased.resource_uuid, decreased.project_uuid, decreased.customer_uuid, decreased.offering_uuid) == (
        resource.uuid,
        world.project.uuid,
        world.customer.uuid,
        world.offering.uuid,
    )
