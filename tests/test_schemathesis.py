"""Schemathesis against every operation of /api/schema/, as staff and as a signed-in user with no roles.

The app runs in-process (WSGI) on the test database, seeded with one object of each kind so that
detail routes and references in bodies hit real rows as well as random ones. Every answer must be
something other than a server error and must match the schema (status, body). Bounded for CI: a
fixed seed, a few examples per operation and phase, no shrinking. `-m schema` selects it; set
SCHEMATHESIS_EXAMPLES to explore more.
"""

import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from django.core import signals
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from federation import services
from federation.models import RoleName
from federation.wsgi import application
from marketplace import services as marketplace_services
from marketplace.models import OfferingState, OrderState
from protocol.keys import generate_private_key, jwks, public_jwk
from providers.models import Provider, ProviderOffering
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, grant
from tests.marketplace.factories import catalogue_offering

pytestmark = [pytest.mark.schema, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("SCHEMATHESIS_SEED", "20240601")),
        "generation": {
            "max-examples": EXAMPLES,
            "no-shrink": True,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": os.environ.get("ST_COV", "1") == "1"}, "examples": {"enabled": os.environ.get("ST_EX", "1") == "1"}, "fuzzing": {"enabled": os.environ.get("ST_FUZZ", "1") == "1"}},
    }
)
CHECKS = [not_a_server_error, response_schema_conformance]
# Which seeded objects a path's `{uuid}` (or `{slug}`) may name, by the path's first segment after /api/.
REF_FIELDS = ("customer", "project", "offering", "plan", "resource", "user")


@pytest.fixture
def in_process_app():
    """The WSGI app on the test's own database connection (as Django's test client runs it): the
    connection must outlive each request, since the test's transaction holds the seeded rows."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings):
    """One object of each kind, reachable by staff; the user with no roles sees only themselves."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff = UserFactory(username="schema-staff", is_staff=True)
    nobody = UserFactory(username="schema-nobody")
    customer = CustomerFactory(name="Schema University")
    project = ProjectFactory(customer=customer, name="Schema project")
    member = UserFactory(username="schema-member")
    grant(member, project, RoleName.PROJECT_MEMBER)
    provider_org = CustomerFactory(name="Schema HPC")
    offering = catalogue_offering(customer=provider_org, name="Schema allocation", state=OfferingState.ACTIVE)
    plan = offering.plans.get()
    key = generate_private_key()
    provider = Provider.objects.create(
        slug="schema-site",
        name="Schema site",
        domain="127.0.0.1:9",
        https=False,
        env="test",
        customer=provider_org,
        jwks=jwks(public_jwk(key, "schema-site-1")),
    )
    ProviderOffering.objects.create(offering=offering, provider=provider)
    order = marketplace_services.order_create(
        actor=None,
        project=project,
        offering=offering,
        plan=plan,
        attributes={"name": "Schema allocation"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )
    for step in (marketplace_services.order_approve_by_provider,):
        order = step(order=order, actor=None)
    done = marketplace_services.order_set_state_done(order=order, actor=None, backend_id="schema-1")
    assert done.state == OrderState.DONE
    pending = marketplace_services.order_create(
        actor=None,
        project=project,
        offering=offering,
        plan=plan,
        attributes={"name": "Second allocation"},
        limits={"cpu_k_hours": 20, "storage_tb": 2},
    )
    known = {
        "customers": [customer.uuid, provider_org.uuid],
        "projects": [project.uuid],
        "users": [staff.uuid, nobody.uuid, member.uuid],
        "marketplace-offerings": [offering.uuid],
        "marketplace-public-offerings": [offering.uuid],
        "marketplace-plans": [plan.uuid],
        "marketplace-orders": [order.uuid, pending.uuid],
        "marketplace-resources": [done.resource.uuid],
        "providers": [provider.slug],
        "plan_uuid": [plan.uuid],
    }
    known["roles"] = [str(uuid) for uuid in _role_uuids()]
    refs = {
        "customer": customer.uuid,
        "project": project.uuid,
        "offering": offering.uuid,
        "plan": plan.uuid,
        "resource": done.resource.uuid,
        "user": member.uuid,
    }
    assert plan.components.filter(price__gt=Decimal(0)).exists()
    return {"staff": staff, "nobody": nobody, "known": known, "refs": refs}


def _role_uuids():
    from federation.models import Role

    return Role.objects.values_list("uuid", flat=True)


@pytest.fixture(params=["staff", "nobody"])
def role(request):
    return request.param


@pytest.fixture
def auth_headers(world, role, in_process_app):
    KNOWN.clear()
    KNOWN.update(world["known"])
    REFS.clear()
    REFS.update(world["refs"])
    return {"Authorization": f"Token {services.token_issue(user=world[role])}"}


KNOWN: dict = {}
REFS: dict = {}
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half of the detail requests name a seeded object, so they get past the 404."""
    segment = context.operation.path.split("/")[2] if context.operation.path.startswith("/api/") else ""
    names = KNOWN.get(segment)
    if not names or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    key = "slug" if "slug" in path_parameters else "uuid"
    choices = {key: st.sampled_from([str(n) for n in names])}
    if "plan_uuid" in path_parameters:
        choices["plan_uuid"] = st.sampled_from([str(n) for n in KNOWN["plan_uuid"]])
    known = st.fixed_dictionaries(choices).map(lambda picked: {**path_parameters, **picked})
    return st.one_of(st.just(path_parameters), known)


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or not set(body) & set(REF_FIELDS):
        return st.just(body)
    present = [field for field in REF_FIELDS if field in body]

    def real(picks):
        return {**body, **{field: str(REFS[field]) for field, use in zip(present, picks, strict=True) if use}}

    return st.tuples(*[st.booleans() for _ in present]).map(real)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case, auth_headers):
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=CHECKS, headers=auth_headers)


CALLS = {}


@schema.hook
def after_call(context, case, response):
    CALLS[context.operation.label] = CALLS.get(context.operation.label, 0) + 1
    if os.environ.get("ST_COUNT"):
        with open("/tmp/h4/calls.txt", "a") as f:
            f.write(f"{context.operation.label} {case.meta.phase.name if case.meta else '-'} {response.status_code}\n")
