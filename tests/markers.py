"""What the suite's own markers mean when a test is set up (registered in pyproject.toml)."""

from django.db import connection


def postgresql_skip_reason(item) -> str | None:
    """Why a test marked `postgresql` cannot run on this database, or None when it can."""
    if item.get_closest_marker("postgresql") is None or connection.vendor == "postgresql":
        return None
    return f"needs PostgreSQL (row locks held across connections); the test database is {connection.vendor}"


def _restores_serialized_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("serialized_rollback"))


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(marker and marker.kwargs.get("transaction")) or bool(fixtures & {"transactional_db", "live_server"})


def serialized_first(items: list) -> list:
    """The tests in pytest-django's order, except that those restoring the serialized database
    (`serialized_rollback=True`) run first among the transactional ones, whatever files are selected.

    A transactional test without it leaves the flushed tables refilled by post_migrate (content types,
    permissions) under new ids; restoring the serialized rows after it collides with them."""
    restoring = [item for item in items if _restores_serialized_database(item)]
    rest = [item for item in items if not _restores_serialized_database(item)]
    first = next((index for index, item in enumerate(rest) if _transactional(item)), len(rest))
    return rest[:first] + restoring + rest[first:]
