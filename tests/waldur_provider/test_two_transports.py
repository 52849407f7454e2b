"""One offering's data served two ways in one run: by our push protocol and by the real Waldur agent.

Two provider organisations publish the same offering (one limit component, same unit and billing
type, same plan and price). One is run by the reference site agent with its slurm backend, fed by a
real Celery worker; the other by waldur-site-agent 1.0.7 with its Slurm plugin, polling the
provider side of Waldur's API. Both drive the real Slurm test cluster. One project manager orders
the same limits from each through the public API; both orders reach `done`, a job runs on each
allocation, and the usage of both lands in accounting. The rows each transport leaves behind
(order and resource, their state history, the events of the order, the usage rows and their
events) must have the same shape.
"""

from __future__ import annotations

from datetime import date

import pytest
import requests
from django.db.models import Q

from accounting.models import ComponentUsage
from events.models import Event
from federation import services as structure
from federation.models import RoleName
from marketplace.models import Order, Resource, StateChange
from providers.models import UserConnection
from tests.factories import (
    CustomerFactory,
    ProjectFactory,
    ProviderFactory,
    ProviderOfferingFactory,
    UserFactory,
    agent_offering,
    grant,
)
from tests.providers.harness import Agent, Worker, flush_broker
from tests.providers.stack import slurm_backend, slurm_prefixes
from tests.slurm import (
    USERS,
    account_row,
    assoc_rows,
    job_state,
    remove_accounts,
    sacct_cpu_minutes,
    sbatch,
    submitted_job_id,
    wait_until,
)

from .agent import AgentProcess, agent_config

pytestmark = [pytest.mark.e2e, pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

MEMBER = USERS[1]  # the project manager's username here and at both sites (a Linux user of the cluster)
# CPU-minutes: the Waldur agent rounds what it reports to two decimals of the unit, so a job of
# seconds shows in this unit (as 0.02 or more) where in k-hours it would round to 0.
UNIT_FACTOR = 1
PUSH_BACKEND = {**slurm_backend("tt2x"), "components": {"cpu": {"tres": "cpu", "unit_factor": UNIT_FACTOR}}}
WALDUR_PREFIX = "tt2w"  # the Waldur agent's accounts: tt2wc_ (customer), tt2wp_ (project), tt2wa_ (allocation)
PREFIXES = tuple(  # this file's own accounts, children before parents
    prefix for pair in zip(slurm_prefixes(PUSH_BACKEND), ("tt2wa_", "tt2wp_", "tt2wc_"), strict=True) for prefix in pair
)
# The offering both providers publish: one limit component, CPU-minutes.
COMPONENT = {
    "type": "cpu",
    "name": "CPU",
    "measured_unit": "CPU-minutes",
    "billing_type": "limit",
    "limit_period": "",
    "min_value": 0,
    "max_value": 100000,
}
PRICE = "0.01"
LIMITS = {"cpu": 100}
FINAL = {"done", "erred", "rejected", "canceled"}


def _offering(name: str, slug: str, owner: str):
    org = CustomerFactory(name=name, slug=slug)
    person = UserFactory(username=owner)
    grant(person, org, RoleName.CUSTOMER_OWNER)
    offering = agent_offering(customer=org, name="HPC", auto_approve=False, component=COMPONENT, price=PRICE)
    return offering, structure.token_issue(user=person)


@pytest.fixture
def sites(slurm_cluster, live_server, tmp_path, waldur_agent_venv):
    flush_broker()
    project = ProjectFactory(name="Genomics", slug="genomics", customer=CustomerFactory(slug="research-org"))
    manager = UserFactory(username=MEMBER)
    grant(manager, project, RoleName.PROJECT_MANAGER)

    push_offering, push_owner_token = _offering("Push Site", "push-site", "push-owner")
    agent = Agent(tmp_path, orchestrator_url=live_server.url, backend_name="slurm", backend=PUSH_BACKEND)
    provider = ProviderFactory(
        slug=agent.provider_id,
        domain=f"127.0.0.1:{agent.port}",
        https=False,
        env="development",
        customer=push_offering.customer,
        jwks=agent.jwks(),
    )
    ProviderOfferingFactory(offering=push_offering, provider=provider)
    UserConnection.objects.create(user=manager, provider=provider, state="connected", username=MEMBER)

    waldur_offering, waldur_token = _offering("Waldur Site", "waldur-site", "waldur-agent")
    config = agent_config(
        api_url=f"{live_server.url}/api/",
        token=waldur_token,
        offering_uuid=waldur_offering.uuid.hex,
        prefix=WALDUR_PREFIX,
    )
    config["offerings"][0]["backend_components"]["cpu"].update(measured_unit="CPU-minutes", unit_factor=UNIT_FACTOR)
    waldur = AgentProcess(waldur_agent_venv, tmp_path, config)
    reporter = AgentProcess(waldur_agent_venv, tmp_path, config, name="report")

    remove_accounts(PREFIXES[0], PREFIXES)  # anything an interrupted run of this file left
    worker = Worker(tmp_path).start()
    agent.start()
    yield {
        "url": live_server.url,
        "project": project,
        "manager_token": structure.token_issue(user=manager),
        "push": push_offering,
        "push_owner_token": push_owner_token,
        "waldur": waldur_offering,
        "agent": agent,
        "worker": worker,
        "waldur_agent": waldur,
        "reporter": reporter,
    }
    waldur.stop()
    reporter.stop()
    worker.stop()
    agent.stop()
    for account in {row[1] for row in assoc_rows() if row[1].startswith(PREFIXES)}:
        remove_accounts(account, PREFIXES)


def _api(sites, method: str, path: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Token {token}"}
    return requests.request(method, sites["url"] + path, headers=headers, timeout=30, **kwargs)


def _place_order(sites, offering) -> str:
    url = sites["url"]
    answer = _api(
        sites,
        "POST",
        "/api/marketplace-orders/",
        sites["manager_token"],
        json={
            "project": f"{url}/api/projects/{sites['project'].uuid}/",
            "offering": f"{url}/api/marketplace-public-offerings/{offering.uuid}/",
            "plan": f"{url}/api/marketplace-plans/{offering.plans.get().uuid}/",
            "attributes": {"name": "Sequencing"},
            "limits": LIMITS,
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "pending-provider"
    return answer.json()["uuid"]


# -- shapes ----------------------------------------------------------------------------------------


def _filled(values: dict) -> list[str]:
    """The names of the fields that hold something."""
    return sorted(name for name, value in values.items() if value not in (None, "", {}, []))


def _offering_data(offering) -> dict:
    components = list(
        offering.components.values(
            "type", "name", "measured_unit", "billing_type", "limit_period", "min_value", "max_value", "default_limit"
        )
    )
    plans = [
        (plan.name, plan.unit, sorted((c.component.type, str(c.price), c.amount) for c in plan.components.all()))
        for plan in offering.plans.all()
    ]
    return {"type": offering.type, "auto_approve": offering.auto_approve, "components": components, "plans": plans}


ORDER_FIELDS = [f.attname for f in Order._meta.concrete_fields]
RESOURCE_FIELDS = [f.attname for f in Resource._meta.concrete_fields]
# Who acted is compared apart (`actors`): the one difference the two transports are meant to have.
EVENT_FIELDS = [
    f.attname
    for f in Event._meta.concrete_fields
    if f.attname not in {"id", "uuid", "message", "actor_uuid", "actor_username"}
]
USAGE_FIELDS = [f.attname for f in ComponentUsage._meta.concrete_fields]


def _history(**subject) -> list[tuple]:
    return list(StateChange.objects.filter(**subject).order_by("created", "id").values_list("from_state", "to_state"))


def actors(order: Order) -> dict:
    """Who is named as having made each change: in the order's and the resource's history, and in the
    order's events."""

    def names(**subject):
        changes = StateChange.objects.filter(**subject).select_related("actor").order_by("created", "id")
        return [change.actor.username if change.actor else None for change in changes]

    events = Event.objects.filter(order_uuid=order.uuid).order_by("created", "id")
    return {
        "order": names(order=order),
        "resource": names(resource_id=order.resource_id),
        "events": [event.actor_username or None for event in events],
    }


def _events(**concerning) -> list[tuple]:
    """(type, the columns filled, the context's keys) of each event, in the order they were recorded."""
    rows = Event.objects.filter(**concerning).order_by("created", "id")
    return [
        (e.event_type, tuple(_filled({f: getattr(e, f) for f in EVENT_FIELDS})), tuple(sorted(e.context))) for e in rows
    ]


def _usage_rows(resource) -> list[tuple]:
    """(component, month, username, the fields filled, decreased) of each row, the total first.

    `previous_usage` is left out: it is filled when a row was written before, which depends on how
    often a site reads usage (the push site reports its zero usage as soon as the account exists)."""
    rows = ComponentUsage.objects.filter(resource=resource).order_by("component_type", "billing_period", "username")
    return [
        (
            row.component_type,
            row.billing_period,
            row.username,
            _filled({f: getattr(row, f) for f in USAGE_FIELDS if f != "previous_usage"}),
            row.decreased,
        )
        for row in rows
    ]


def shape(order: Order) -> dict:
    """Everything one transport leaves in our rows for one create order, without names and amounts."""
    order = Order.objects.get(pk=order.pk)
    resource = Resource.objects.get(pk=order.resource_id)
    return {
        "order": _filled({f: getattr(order, f) for f in ORDER_FIELDS}),
        "order_values": (order.type, order.state, order.limits, order.error_message),
        "resource": _filled({f: getattr(resource, f) for f in RESOURCE_FIELDS}),
        "resource_values": (resource.state, resource.limits),
        "order_history": _history(order=order),
        "resource_history": _history(resource=resource),
        "order_events": _events(order_uuid=order.uuid),
        "usage_rows": _usage_rows(resource),
        # The resource's other events: the usage reports (how many depends on how often a site reads
        # usage, so each kind counts once).
        "usage_events": sorted(set(_events(resource_uuid=resource.uuid, order_uuid__isnull=True))),
    }


# -- the test --------------------------------------------------------------------------------------


def _finished(uuids: list[str]) -> dict[str, Order] | None:
    orders = {str(o.uuid): o for o in Order.objects.filter(uuid__in=uuids).select_related("resource")}
    return orders if all(o.state in FINAL for o in orders.values()) else None


def test_one_offering_served_by_push_and_by_the_waldur_agent_leaves_rows_of_one_shape(sites):
    assert _offering_data(sites["push"]) == _offering_data(sites["waldur"])

    push_uuid = _place_order(sites, sites["push"])
    waldur_uuid = _place_order(sites, sites["waldur"])
    # The push site's owner approves in the portal's place; the Waldur agent approves its own.
    approved = _api(
        sites, "POST", f"/api/marketplace-orders/{push_uuid}/approve_by_provider/", sites["push_owner_token"]
    )
    assert approved.status_code == 200, approved.text
    waldur = sites["waldur_agent"].start("order_process")

    orders = wait_until(lambda: _finished([push_uuid, waldur_uuid]), timeout=120, interval=0.3)
    assert orders is not None, (
        dict(Order.objects.filter(uuid__in=[push_uuid, waldur_uuid]).values_list("uuid", "state")),
        sites["worker"].log(),
        sites["agent"].log(),
        waldur.log()[-6000:],
    )
    push, pulled = orders[push_uuid], orders[waldur_uuid]
    assert (push.state, pulled.state) == ("done", "done"), (push.error_message, pulled.error_message)
    for order in (push, pulled):
        assert order.resource.state == "OK"
        assert order.resource.backend_id
        # The ordered limit in Slurm, on an account of the site's own naming.
        assert account_row(order.resource.backend_id)[4] == "cpu=100", assoc_rows(order.resource.backend_id)
    assert push.resource.backend_id.startswith("tt2xa_")
    assert pulled.resource.backend_id == f"{WALDUR_PREFIX}a_{pulled.resource.slug}".lower()

    # The manager has an association on both accounts (the Waldur agent adds the team after `done`).
    accounts = [push.resource.backend_id, pulled.resource.backend_id]

    def members_everywhere():
        return all(MEMBER in {row[2] for row in assoc_rows(account)} for account in accounts)

    assert wait_until(members_everywhere, timeout=60), ([assoc_rows(a) for a in accounts], waldur.log()[-6000:])
    waldur.stop()

    # A job on each allocation. The push site's agent is stopped meanwhile, so that, like the Waldur
    # agent's `report` mode below, it reads the month's usage once the job has ended (a sample taken
    # while a job runs can count a second more than Slurm records at its end: a later, lower report).
    sites["agent"].stop()
    jobs = [submitted_job_id(sbatch(MEMBER, account, seconds=1)) for account in accounts]
    assert wait_until(lambda: all(job_state(job) == "COMPLETED" for job in jobs), timeout=90), [
        job_state(job) for job in jobs
    ]
    month = date.today().replace(day=1)

    def finished_usage():  # what sacct says once it holds both ended jobs, in the component's unit
        minutes = {account: sum(sacct_cpu_minutes(account, month, state="COMPLETED").values()) for account in accounts}
        return {account: value / UNIT_FACTOR for account, value in minutes.items()} if all(minutes.values()) else None

    expected = wait_until(finished_usage, timeout=30)
    assert expected, {account: sacct_cpu_minutes(account, month) for account in accounts}
    sites["agent"].start()
    reporter = sites["reporter"].start("report")

    def reported(resource, total: float, places: int | None):
        rows = dict(ComponentUsage.objects.filter(resource=resource).values_list("username", "usage"))
        wanted = pytest.approx(total, rel=1e-3) if places is None else pytest.approx(round(total, places), abs=1e-9)
        return rows if MEMBER in rows and float(rows.get("", -1)) == wanted else None

    # The push site reports sacct's amount as it is; the Waldur agent rounds it to two decimals.
    for order, places in ((push, None), (pulled, 2)):
        total = expected[order.resource.backend_id]
        usage = wait_until(lambda order=order, t=total, p=places: reported(order.resource, t, p), timeout=90)
        assert usage is not None, (
            dict(ComponentUsage.objects.filter(resource=order.resource).values_list("username", "usage")),
            expected,
            sites["agent"].log(),
            reporter.log()[-6000:],
        )
    reporter.stop()

    # Every event of both is handed on to notifications and webhooks (the worker's dispatch).
    concerning = Q(order_uuid__in=[push_uuid, waldur_uuid]) | Q(
        resource_uuid__in=[push.resource.uuid, pulled.resource.uuid]
    )
    undispatched = Event.objects.filter(concerning, dispatched_at__isnull=True)
    assert wait_until(lambda: not undispatched.exists(), timeout=30), list(
        undispatched.values_list("event_type", flat=True)
    )

    push_shape, pulled_shape = shape(push), shape(pulled)
    assert push_shape == pulled_shape
    assert [row[:3] for row in push_shape["usage_rows"]] == [("cpu", month, ""), ("cpu", month, MEMBER)]
    assert [kind[0] for kind in push_shape["usage_events"]] == ["marketplace_component_usage_reported"]
    assert [change[1] for change in push_shape["order_history"]] == [
        "pending-consumer", "pending-provider", "executing", "done"
    ]  # fmt: skip

    # What differs is who is named: the Waldur agent acts as its service account, a user of ours; a
    # push site's report is signed by the site itself, and names no person.
    consumer = [MEMBER] * 3  # created, the resource requested, approved on the consumer's side
    assert actors(push) == {
        "order": [MEMBER, MEMBER, "push-owner", None],
        "resource": [MEMBER, None],
        "events": [*consumer, "push-owner", None, None],
    }
    assert actors(pulled) == {
        "order": [MEMBER, MEMBER, "waldur-agent", "waldur-agent"],
        "resource": [MEMBER, "waldur-agent"],
        "events": [*consumer, "waldur-agent", "waldur-agent", "waldur-agent"],
    }
