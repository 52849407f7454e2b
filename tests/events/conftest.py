import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from federation.models import RoleName
from tests.factories import CustomerFactory, ProviderFactory, UserFactory, catalogue_offering, grant

from .viewers import MANIFEST, World


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(customer, project, staff, support, owner, manager, member, outsider) -> World:
    project_admin = UserFactory(username="project-admin")
    grant(project_admin, project, RoleName.PROJECT_ADMIN)
    provider_org = CustomerFactory(name="HPC Centre")
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, provider_org, RoleName.CUSTOMER_OWNER)
    offering = catalogue_offering(customer=provider_org, name="HPC allocation")
    return World(
        customer=customer,
        project=project,
        staff=staff,
        support=support,
        owner=owner,
        manager=manager,
        member=member,
        project_admin=project_admin,
        provider_org=provider_org,
        provider_owner=provider_owner,
        outsider=outsider,
        offering=offering,
        plan=offering.plans.get(),
        provider=ProviderFactory(slug="hpc-site", name="HPC site", customer=provider_org),
    )


@pytest.fixture
def manifest_server():
    """A provider's manifest endpoint on a free local port; its domain."""
    body = json.dumps(MANIFEST).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200 if self.path == "/manifest" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
