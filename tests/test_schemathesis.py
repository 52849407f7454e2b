"""Schemathesis against every operation of /api/schema/, as staff and as a signed-in user with no roles.

The app runs in-process (WSGI) on the test database, seeded with one object of each kind, so that
detail routes and references in bodies name real rows as well as random ones. No answer may be a
server error, and every answer must match the schema (status and body). The provider-facing API
(`/api/provider/…`, signed JWTs) is not in /api/schema/ and is not run here.

Bounded for CI: a fixed seed, no shrinking, a few generated requests per operation and role, and
the coverage phase (boundary and invalid values of every parameter and field) as staff, who gets
past the permission checks to the deepest code. `-m schema` selects this module;
SCHEMATHESIS_EXAMPLES and SCHEMATHESIS_SEED explore further.
"""

import json
import os
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounting.shares.services import share_grant
from config.wsgi import application
from federation import services
from federation.models import Role, RoleName
from marketplace import services as marketplace_services
from marketplace.models import OfferingState, OrderState
from protocol.keys import generate_private_key, jwks, public_jwk
from tests.factories import (
    CustomerFactory,
    ProjectFactory,
    ProviderFactory,
    ProviderOfferingFactory,
    UserFactory,
    catalogue_offering,
    grant,
)

pytestmark = [pytest.mark.schema, pytest.mark.django_db]
set_hypothesis_home_dir(Path(django_settings.VAR_DIR) / "hypothesis")  # not .hypothesis/ in the working tree

CHECKS = [not_a_server_error, response_schema_conformance]
SCHEMA_URL = "/api/schema/?format=json"
# Fields of request bodies that name another object; a generated body sometimes names a seeded one.
REF_FIELDS = ("customer", "project", "offering", "plan", "resource", "user")


def config(*, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": int(os.environ.get("SCHEMATHESIS_SEED", "20240601")),
            "generation": {
                "max-examples": int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8")),
                "no-shrink": True,
                "database": "none",
                "with-security-parameters": False,
            },
            "phases": {
                "stateful": {"enabled": False},
                "coverage": {"enabled": coverage, "unexpected-methods": []},
            },
        }
    )


# Seeded objects by the first path segment after /api/ (and `plan_uuid`), filled in by `world`.
KNOWN: dict[str, list[str]] = {}
REFS: dict[str, str] = {}


def add_hooks(schema):
    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Half of the detail requests name a seeded object, so they get past the 404."""
        path = context.operation.path
        names = KNOWN.get(path.split("/")[2]) if path.startswith("/api/") else None
        if not names or not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        key = "slug" if "slug" in path_parameters else "uuid"
        choices = {key: st.sampled_from(names)}
        if "plan_uuid" in path_parameters:
            choices["plan_uuid"] = st.sampled_from(KNOWN["plan_uuid"])
        known = st.fixed_dictionaries(choices).map(lambda picked: {**path_parameters, **picked})
        return st.one_of(st.just(path_parameters), known)

    @schema.hook
    def flatmap_body(context, body):
        """References in a body name a seeded object or keep the generated value, field by field."""
        present = [field for field in REF_FIELDS if isinstance(body, dict) and field in body]
        if not present:
            return st.just(body)

        def pick(choices):
            return {**body, **{field: REFS[field] for field, use in zip(present, choices, strict=True) if use}}

        return st.tuples(*[st.booleans() for _ in present]).map(pick)

    return schema


staff_schema = add_hooks(schemathesis.openapi.from_wsgi(SCHEMA_URL, application, config=config(coverage=True)))
nobody_schema = add_hooks(schemathesis.openapi.from_wsgi(SCHEMA_URL, application, config=config(coverage=False)))


@pytest.fixture
def in_process_app():
    """The WSGI app on the test's own database connection (as Django's test client runs it): the
    connection must outlive each request, since the test's transaction holds the seeded rows."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class SiteHandler(BaseHTTPRequestHandler):
    """The provider's side of a connection request: where to send the user to log in there."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        found = self.path == "/connections"
        answer = {"redirect_url": "https://site.example.org/login"} if found else {"detail": "Not found."}
        body = json.dumps(answer).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site_address():
    """A provider endpoint on 127.0.0.1 that answers connection requests (the seeded provider's domain)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def world(in_process_app, site_address, settings):
    """One object of each kind: a customer with a project and a member, a provider organisation with
    an active offering, its plan and provider, a resource (its create order done) and a pending order."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = {
        "staff": UserFactory(username="schema-staff", is_staff=True),
        "nobody": UserFactory(username="schema-nobody"),
        "member": UserFactory(username="schema-member"),
    }
    customer = CustomerFactory(name="Schema University")
    project = ProjectFactory(customer=customer, name="Schema project")
    grant(users["member"], project, RoleName.PROJECT_MEMBER)
    provider_org = CustomerFactory(name="Schema HPC")
    offering = catalogue_offering(customer=provider_org, name="Schema allocation", state=OfferingState.ACTIVE)
    plan = offering.plans.get()
    provider = ProviderFactory(
        slug="schema-site",
        name="Schema site",
        domain=site_address,
        https=False,
        env="test",
        customer=provider_org,
        jwks=jwks(public_jwk(generate_private_key(), "schema-site-1")),
    )
    ProviderOfferingFactory(offering=offering, provider=provider)

    def order(name, limits):
        return marketplace_services.order_create(
            actor=None,
            project=project,
            offering=offering,
            plan=plan,
            attributes={"name": name},
            limits=limits,
        )

    done = marketplace_services.order_approve_by_provider(order=order("Schema", {"cpu_k_hours": 10}), actor=None)
    done = marketplace_services.order_set_state_done(order=done, actor=None, backend_id="schema-1")
    assert done.state == OrderState.DONE
    pending = order("Second", {"cpu_k_hours": 20})
    today = timezone.localdate()
    share = share_grant(
        actor=None, customer=customer, offering=offering, component_type="cpu_k_hours", amount=Decimal(1000),
        start_date=today, end_date=today + timedelta(days=365),
    )  # fmt: skip
    KNOWN.clear()
    KNOWN.update(
        {
            "customers": [customer.uuid, provider_org.uuid],
            "projects": [project.uuid],
            "users": [user.uuid for user in users.values()],
            "roles": list(Role.objects.values_list("uuid", flat=True)),
            "marketplace-offerings": [offering.uuid],
            "marketplace-public-offerings": [offering.uuid],
            "marketplace-plans": [plan.uuid],
            "plan_uuid": [plan.uuid],
            "marketplace-orders": [done.uuid, pending.uuid],
            "marketplace-resources": [done.resource.uuid],
            "providers": [provider.slug],
            "shares": [share.uuid],
        }
    )
    for key, values in KNOWN.items():
        KNOWN[key] = [str(value) for value in values]
    refs = {"customer": customer, "project": project, "offering": offering, "plan": plan, "resource": done.resource}
    REFS.clear()
    REFS.update({field: str(obj.uuid) for field, obj in refs.items()})
    REFS["user"] = str(users["member"].uuid)
    return users


def signed_in(user) -> dict:
    return {"Authorization": f"Token {services.token_issue(user=user)}"}


def run(case, headers):
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.fixture
def as_staff(world):
    return signed_in(world["staff"])


@pytest.fixture
def as_nobody(world):
    return signed_in(world["nobody"])


@staff_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_staff(case, as_staff):
    run(case, as_staff)


@nobody_schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_user_with_no_roles(case, as_nobody):
    run(case, as_nobody)
