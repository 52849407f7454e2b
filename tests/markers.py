"""What the suite's own markers mean when a test is set up (registered in pyproject.toml)."""

from django.db import connection


def postgresql_skip_reason(item) -> str | None:
    """Why a test marked `postgresql` cannot run on this database, or None when it can."""
    if item.get_closest_marker("postgresql") is None or connection.vendor == "postgresql":
        return None
    return f"needs PostgreSQL (row locks held across connections); the test database is {connection.vendor}"
