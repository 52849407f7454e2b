"""Event mode for Waldur site agents against the local RabbitMQ: registering a queue, what is
published to it (order states, project roles), who may register, a broker that is down, and a
token that stops authenticating.

Messages are read back from RabbitMQ as the agent's own user, with the API token it registered with.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from events.models import Event
from events.services import events_dispatch
from federation import services as structure
from federation.models import AuthToken, Role, RoleName
from marketplace import services as market
from tests.factories import ProjectFactory, UserFactory, grant
from waldur_provider import event_queues
from waldur_provider.api.agents import identity_uuid
from waldur_provider.models import AgentMessage, AgentQueue

from . import rabbitmq

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings, django_user_model):
    rabbitmq.require_broker()
    settings.AGENT_EVENTS_BROKER_API = rabbitmq.API
    settings.AGENT_EVENTS_BROKER_URL = rabbitmq.AMQP_URL
    yield
    users = django_user_model.objects.values_list("uuid", flat=True)
    rabbitmq.remove_agent_objects(f"agent_{uuid.hex}" for uuid in users)


def _owner(site):
    """Another owner of the provider organisation, approving by hand (not the agent's account)."""
    owner = UserFactory()
    grant(owner, site.customer, RoleName.CUSTOMER_OWNER)
    return owner


def _client(user) -> tuple[APIClient, str]:
    token = structure.token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


def _register(client, offering, object_types=None):
    body = {} if object_types is None else {"object_types": object_types}
    path = f"/api/marketplace-site-agent-identities/{identity_uuid(offering)}/register_queue/"
    return client.post(path, body, format="json")


def _read(agent, token, offering) -> list[dict]:
    queue = AgentQueue.objects.get(user=agent, offering=offering)
    return rabbitmq.read_queue(username=queue.rmq_username, password=token, vhost=queue.vhost, queue=queue.queue_name)


def _dispatch(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events_dispatch()


def test_register_queue_answers_what_the_agent_reads_and_is_idempotent(broker, site_a):
    client, token = _client(site_a.agent)
    first = _register(client, site_a.offering, ["order", "user_role"])
    assert first.status_code == 201, first.content
    body = first.json()
    assert body == {
        "rmq_username": f"agent_{site_a.agent.uuid.hex}",
        "queue_name": f"consumer_{site_a.offering.uuid.hex}",
        "vhost": f"agent_{site_a.agent.uuid.hex}",
        "observable_object_types": ["order", "user_role"],
    }
    again = _register(client, site_a.offering, ["order"])
    assert again.status_code == 200
    assert again.json()["observable_object_types"] == ["order"]
    assert AgentQueue.objects.count() == 1
    assert rabbitmq.can_log_in(username=body["rmq_username"], password=token, vhost=body["vhost"])
    assert not rabbitmq.can_log_in(username=body["rmq_username"], password=token + "x", vhost=body["vhost"])


def test_order_states_reach_the_queue_in_waldurs_shape(broker, site_a, research, django_capture_on_commit_callbacks):
    _dispatch(django_capture_on_commit_callbacks)  # the fixture's order, handed on before the queue exists
    client, token = _client(site_a.agent)
    assert _register(client, site_a.offering, ["order"]).status_code == 201

    order = market.order_create(
        actor=research.manager,
        project=research.project,
        offering=site_a.offering,
        plan=site_a.offering.plans.get(),
        attributes={"name": "second"},
        limits={"cpu": 5},
    )
    market.order_approve_by_provider(order=order, actor=site_a.agent)
    _dispatch(django_capture_on_commit_callbacks)

    messages = _read(site_a.agent, token, site_a.offering)
    # The agent's own approval (executing) is not sent back to it.
    assert [m["order_state"] for m in messages] == ["pending-consumer", "pending-provider"]
    assert {m["order_uuid"] for m in messages} == {order.uuid.hex}
    assert {m["object_type"] for m in messages} == {"order"}
    assert AgentMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_a_queue_gets_only_its_offerings_orders_and_the_types_it_asked_for(
    broker, site_a, site_b, research, django_capture_on_commit_callbacks
):
    _dispatch(django_capture_on_commit_callbacks)  # the fixtures' orders, handed on before the queues exist
    client_a, token_a = _client(site_a.agent)
    client_b, token_b = _client(site_b.agent)
    assert _register(client_a, site_a.offering, ["user_role"]).status_code == 201
    assert _register(client_b, site_b.offering, []).status_code == 201  # empty: everything
    market.order_approve_by_provider(order=site_b.order, actor=_owner(site_b))
    market.order_approve_by_provider(order=site_a.order, actor=_owner(site_a))
    _dispatch(django_capture_on_commit_callbacks)

    assert _read(site_a.agent, token_a, site_a.offering) == []
    assert [(m["order_uuid"], m["order_state"]) for m in _read(site_b.agent, token_b, site_b.offering)] == [
        (site_b.order.uuid.hex, "executing")
    ]


def test_project_roles_reach_the_queues_of_offerings_with_a_resource_there(
    broker, site_a, research, django_capture_on_commit_callbacks
):
    client, token = _client(site_a.agent)
    assert _register(client, site_a.offering).status_code == 201
    _dispatch(django_capture_on_commit_callbacks)
    _read(site_a.agent, token, site_a.offering)  # empty the queue of the order's messages
    member = UserFactory(username="newcomer")
    elsewhere = ProjectFactory(customer=research.project.customer)
    grant(research.manager, elsewhere, RoleName.PROJECT_MANAGER)
    role = Role.objects.get(name=RoleName.PROJECT_MEMBER)

    structure.role_grant(actor=research.manager, scope=research.project, user=member, role=role)
    structure.role_grant(actor=research.manager, scope=elsewhere, user=member, role=role)  # no resource there
    structure.role_revoke(actor=research.manager, scope=research.project, user=member, role=role)
    _dispatch(django_capture_on_commit_callbacks)

    messages = [m for m in _read(site_a.agent, token, site_a.offering) if m["object_type"] == "user_role"]
    assert messages == [
        {
            "object_type": "user_role",
            "user_uuid": member.uuid.hex,
            "user_username": "newcomer",
            "project_uuid": research.project.uuid.hex,
            "project_name": research.project.name,
            "role_name": RoleName.PROJECT_MEMBER,
            "granted": granted,
        }
        for granted in (True, False)
    ]


def test_another_providers_agent_gets_404_and_nothing_is_made(broker, site_a, site_b):
    client, _ = _client(site_b.agent)
    answer = _register(client, site_a.offering)
    assert answer.status_code == 404
    assert not AgentQueue.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"object_types": ["orders"]}, "object_types"), ({"object_types": "order"}, "object_types")],
)
def test_bad_object_types_are_refused_naming_the_field(broker, site_a, body, field):
    client, _ = _client(site_a.agent)
    answer = client.post(
        f"/api/marketplace-site-agent-identities/{identity_uuid(site_a.offering)}/register_queue/", body, format="json"
    )
    assert answer.status_code == 400
    assert field in answer.json()
    assert not AgentQueue.objects.exists()


def test_without_a_token_the_queue_has_no_password_and_is_refused(broker, site_a):
    client = APIClient()
    client.force_login(site_a.agent)
    answer = _register(client, site_a.offering)
    assert answer.status_code == 400
    assert "API token" in answer.content.decode()
    assert not AgentQueue.objects.exists()


def test_event_mode_off_answers_409_saying_how_to_turn_it_on(settings, site_a):
    settings.AGENT_EVENTS_BROKER_API = ""
    client, _ = _client(site_a.agent)
    answer = _register(client, site_a.offering)
    assert answer.status_code == 409
    assert "AGENT_EVENTS_BROKER_API" in answer.json()["detail"]
    assert not AgentQueue.objects.exists()


def test_messages_wait_while_the_broker_is_down_then_go(broker, settings, site_a, django_capture_on_commit_callbacks):
    _dispatch(django_capture_on_commit_callbacks)
    client, token = _client(site_a.agent)
    assert _register(client, site_a.offering, ["order"]).status_code == 201
    settings.AGENT_EVENTS_BROKER_URL = "amqp://guest:guest@127.0.0.1:9"  # nothing listens there
    market.order_approve_by_provider(order=site_a.order, actor=_owner(site_a))
    _dispatch(django_capture_on_commit_callbacks)
    waiting = AgentMessage.objects.filter(sent_at__isnull=True)
    assert waiting.count() == 1
    assert all(m.attempts == 1 and "failed" in m.last_error for m in waiting)

    settings.AGENT_EVENTS_BROKER_URL = rabbitmq.AMQP_URL
    assert event_queues.messages_send() == 1
    assert [m["order_state"] for m in _read(site_a.agent, token, site_a.offering)] == ["executing"]
    assert event_queues.messages_send() == 0  # sent once only


def test_a_token_that_no_longer_authenticates_loses_its_broker_login(broker, site_a):
    client, token = _client(site_a.agent)
    body = _register(client, site_a.offering).json()
    login = {"username": body["rmq_username"], "password": token, "vhost": body["vhost"]}
    assert event_queues.tokens_sweep() == 0
    assert rabbitmq.can_log_in(**login)

    structure.token_revoke(actor=site_a.agent, token=AuthToken.objects.get(user=site_a.agent))
    assert event_queues.tokens_sweep() == 1
    assert not rabbitmq.can_log_in(**login)
    assert event_queues.tokens_sweep() == 0


def test_fanning_out_costs_the_same_queries_whatever_the_number_of_events(
    broker, site_a, research, django_assert_num_queries
):
    client, _ = _client(site_a.agent)
    assert _register(client, site_a.offering).status_code == 201
    for count in (1, 20):
        orders = [
            market.order_create(
                actor=research.manager,
                project=research.project,
                offering=site_a.offering,
                plan=site_a.offering.plans.get(),
                attributes={"name": f"n{count}-{i}"},
                limits={"cpu": 1},
            )
            for i in range(count)
        ]
        events = list(Event.objects.filter(order_uuid__in=[o.uuid for o in orders]))
        with django_assert_num_queries(2):  # the queues, then one insert
            assert event_queues.messages_queue(events) == 2 * count  # created, approved by the consumer
