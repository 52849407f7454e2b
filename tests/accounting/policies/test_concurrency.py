"""Real threads on PostgreSQL: usage batches that cross one threshold at the same moment fire it once.

Each batch locks the policies it evaluates (in id order), so the second sees the first's firing.
Marked `postgresql`: on any other database it is skipped with the reason.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.policies.models import PolicyFiring
from accounting.services import UsageReport, usage_report
from events.models import Event
from tests.concurrency import race
from tests.factories import ProjectFactory

pytestmark = pytest.mark.postgresql

N = 8


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_batches_fire_a_threshold_once(customer, offering, staff, make_resource, add_policy):
    resources = [make_resource(ProjectFactory(customer=customer), offering, f"r{i}") for i in range(N)]
    policy = add_policy(staff, customer, "notify", percent=50, limit=100)
    month = timezone.localdate().replace(day=1)

    def report(resource):
        return usage_report(reports=[UsageReport(resource.id, "gpu_hours", month, Decimal(60))])

    results, errors = race(report, resources)
    assert not errors, errors
    assert results == [1] * N
    firing = PolicyFiring.objects.get(policy=policy)
    assert firing.threshold == 50 and firing.active
    assert Event.objects.filter(event_type="policy_fired").count() == 1
