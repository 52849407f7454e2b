"""A provider's connection endpoint on 127.0.0.1 for the tests of connecting accounts, and a project member
who may connect (the project holds a resource of the provider's offering)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test import override_settings

from federation.models import RoleName
from marketplace import services as marketplace
from tests.factories import ProjectFactory, UserFactory, grant


class SiteServer:
    """A provider's /connections endpoint on 127.0.0.1: answers at once, or hangs until closed."""

    def __init__(self, *, hang: bool = False):
        self.calls = 0
        self.bodies: list[dict] = []
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                site.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                site.calls += 1
                if hang:
                    site.release.wait(60)
                body = json.dumps({"redirect_url": "http://site.example.org/connect/abc"}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def member_with_a_resource_at(offering):
    """A project member (not its manager) of a project holding a resource of `offering`."""
    project = ProjectFactory(name="Physics")
    manager, member = UserFactory(username="physics-pm"), UserFactory(username="physics-member")
    grant(manager, project, RoleName.PROJECT_MANAGER)
    grant(member, project, RoleName.PROJECT_MEMBER)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        order = marketplace.order_create(
            actor=manager,
            project=project,
            offering=offering,
            plan=offering.plans.first(),
            attributes={"name": "alloc"},
            limits={"cpu": 10},
        )
    order.refresh_from_db()
    return member, order.resource
