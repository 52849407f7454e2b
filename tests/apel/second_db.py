"""A second, empty database of our own schema, driven through manage.py in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# The same catalogue as the first database (names, VOs, mapping), but no usage.
SETUP = """
from decimal import Decimal
from apel.models import ApelMapping
from apel.services import mapping_save
from marketplace.models import Resource
from tests.factories import CustomerFactory, ProjectFactory, agent_offering
spec = {spec!r}
offering = agent_offering(customer=CustomerFactory(name="Site"), name="Mapped offering")
for component in spec["extra_components"]:
    offering.components.create(type=component, name=component, billing_type="usage")
fields = {{**spec["mapping"], "benchmark_value": Decimal(spec["mapping"]["benchmark_value"])}}
mapping_save(mapping=ApelMapping(offering=offering, **fields))
for name, vo in spec["resources"]:
    project = ProjectFactory(name="Project " + name, backend_id=vo)
    Resource.objects.create(name=name, slug=name, offering=offering, project=project, state="OK")
"""

DUMP = """
import json
from accounting.models import ComponentUsage
rows = ComponentUsage.objects.select_related("resource")
print(json.dumps(sorted([r.resource.name, r.component_type, r.billing_period.isoformat(), r.username,
                         format(r.usage.normalize(), "f")] for r in rows)))
"""


class SecondDatabase:
    def __init__(self):
        settings = connection.settings_dict
        self.name = f"{settings['NAME']}_second_{uuid.uuid4().hex[:8]}"
        host, port, user = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432, settings.get("USER")
        self.admin_url = f"postgres://{user or 'postgres'}@{host}:{port}/postgres"
        self.url = f"postgres://{user or 'postgres'}@{host}:{port}/{self.name}"

    def __enter__(self) -> SecondDatabase:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.manage("migrate", "--noinput")
        return self

    def __exit__(self, *exc) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, DATABASE_URL=self.url, PYTHONPATH=str(ROOT))
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def setup(self, spec: dict) -> None:
        self.manage("shell", "-c", SETUP.format(spec=spec))

    def usage(self) -> list[list[str]]:
        return json.loads(self.manage("shell", "-c", DUMP).stdout.strip().splitlines()[-1])


def usage_rows(resources) -> list[list[str]]:
    """The same dump as DUMP, of this (the first) database."""
    from accounting.models import ComponentUsage

    rows = ComponentUsage.objects.filter(resource__in=resources).select_related("resource")
    return sorted(
        [r.resource.name, r.component_type, r.billing_period.isoformat(), r.username, format(r.usage.normalize(), "f")]
        for r in rows
    )
