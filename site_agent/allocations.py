"""Turning stored allocations and incoming orders into the backend's Allocation."""

from __future__ import annotations

import re

from protocol.messages import OrderItem
from site_agent.backends.base import Allocation, Member

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def safe_slug(text: str, fallback: str) -> str:
    """Lower-case letters, digits, '-' and '_' only, at most 40 characters, never empty."""
    slug = _UNSAFE.sub("-", text.lower()).strip("-_")[:40].strip("-_")
    return slug or _UNSAFE.sub("", fallback.lower())[:12]


def record_from_order(item: OrderItem, backend_id: str = "") -> dict:
    """The allocation row an order describes, before the backend has touched it."""
    resource, project = item.resource, item.project
    return {
        "resource_uuid": resource.uuid,
        "backend_id": backend_id or resource.backend_id,
        "slug": safe_slug(resource.slug or resource.name, resource.uuid),
        "customer_uuid": project.customer_uuid,
        "customer_slug": safe_slug(project.customer_slug, project.customer_uuid),
        "project_uuid": project.uuid,
        "project_slug": safe_slug(project.slug, project.uuid),
        "offering_type": resource.offering_type,
        "limits": dict(item.limits or resource.limits),
        "attributes": {**resource.attributes, **item.attributes},
        "live": True,
    }


def to_allocation(record: dict, members: list[tuple[str, str]]) -> Allocation:
    return Allocation(
        resource_uuid=record["resource_uuid"],
        slug=record["slug"],
        customer_uuid=record["customer_uuid"],
        customer_slug=record["customer_slug"],
        project_uuid=record["project_uuid"],
        project_slug=record["project_slug"],
        offering_type=record["offering_type"],
        limits=dict(record["limits"]),
        attributes=dict(record["attributes"]),
        members=tuple(Member(username=username, role=role) for username, role in members),
        backend_id=record["backend_id"],
    )
