"""Mappings: which components feed which APEL fields, and which project a record's VO names."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Coalesce, NullIf

from apel.messages import BENCHMARK_TYPES
from apel.models import CLOUD_FIELDS, HPC_FIELDS, ApelMapping, MappingKind
from common.exceptions import ValidationFailed
from marketplace.models import Resource


def _text_problem(value: str) -> str | None:
    """APEL values are single lines; `%%` would end the record."""
    if any(c in value for c in "\r\n\x00") or "%%" in value:
        return "must be one line of text without '%%'."
    return None


def mapping_problems(mapping: ApelMapping) -> dict[str, list[str]]:
    """Every reason the mapping cannot be used, by field; empty when it is sound."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    for field in ("site_name", "service", "vo_default"):
        problem = _text_problem(getattr(mapping, field))
        if problem:
            add(field, f"{field} {problem}")
    if not mapping.site_name.strip():
        add("site_name", "The site name is required.")
    allowed = tuple(CLOUD_FIELDS) if mapping.kind == MappingKind.CLOUD else HPC_FIELDS
    has_type, has_value = bool(mapping.benchmark_type), mapping.benchmark_value is not None
    if has_value and mapping.benchmark_value <= 0:
        add("benchmark_value", "The benchmark value must be above zero.")
    if mapping.kind == MappingKind.HPC:
        if not (has_type and has_value):
            add("benchmark_type", "An HPC mapping needs a benchmark type and value (job records carry both).")
        elif mapping.benchmark_type.lower() not in {t.lower() for t in BENCHMARK_TYPES}:
            add("benchmark_type", f"The benchmark type must be one of {', '.join(BENCHMARK_TYPES)}.")
    elif has_type != has_value:
        add("benchmark_type", "Give both the benchmark type and value, or neither.")
    if not isinstance(mapping.components, dict) or not mapping.components:
        add("components", 'Map at least one component: {"cpu_k_hours": {"field": "CpuDuration", "factor": "3600000"}}.')
        return problems
    known = set(mapping.offering.components.values_list("type", flat=True)) if mapping.offering_id else set()
    used: dict[str, str] = {}
    for component, rule in mapping.components.items():
        if component not in known:
            add("components", f"{component}: the offering has no such component.")
        if not isinstance(rule, dict) or set(rule) != {"field", "factor"}:
            add("components", f'{component}: give exactly {{"field": ..., "factor": ...}}.')
            continue
        if rule["field"] not in allowed:
            add("components", f"{component}: {rule['field']!r} is not one of {', '.join(allowed)}.")
        elif rule["field"] in used:
            add("components", f"{component}: {rule['field']} already feeds {used[rule['field']]}.")
        else:
            used[rule["field"]] = component
        try:
            factor = Decimal(str(rule["factor"]))
        except (InvalidOperation, ValueError):
            factor = None
        if factor is None or not factor.is_finite() or factor <= 0:
            add("components", f"{component}: the factor must be a number above zero.")
    return problems


def mapping_save(*, mapping: ApelMapping) -> ApelMapping:
    """Store the mapping if it is sound; otherwise ValidationFailed naming the first problem's field."""
    problems = mapping_problems(mapping)
    if problems:
        field, messages = next(iter(problems.items()))
        raise ValidationFailed(" ".join(messages), field=field)
    with transaction.atomic():
        mapping.save()
    return mapping


def factor(mapping: ApelMapping, component: str) -> Decimal:
    return Decimal(str(mapping.components[component]["factor"]))


def default_vo(mapping: ApelMapping) -> str:
    return mapping.vo_default or getattr(settings, "APEL_DEFAULT_VO", "")


def resources_with_vo(mapping: ApelMapping):
    """The offering's resources, each annotated with `apel_vo`: its project's VO, backend_id, or the default."""
    return Resource.objects.filter(offering_id=mapping.offering_id).annotate(
        apel_vo=Coalesce(
            NullIf("project__apel_vo__vo", Value("")),
            NullIf("project__backend_id", Value("")),
            Value(default_vo(mapping)),
            output_field=CharField(),
        )
    )


def resources_by_vo(mapping: ApelMapping, vos: set[str]) -> dict[str, list[int]]:
    if not vos:
        return {}
    found: dict[str, list[int]] = {}
    for resource_id, vo in resources_with_vo(mapping).filter(apel_vo__in=vos).values_list("id", "apel_vo"):
        found.setdefault(vo, []).append(resource_id)
    return found


def resources_by_backend_id(mapping: ApelMapping, backend_ids: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    rows = Resource.objects.filter(Q(offering_id=mapping.offering_id), Q(backend_id__in=backend_ids - {""}))
    for resource_id, backend_id in rows.values_list("id", "backend_id"):
        found.setdefault(backend_id, []).append(resource_id)
    return found
