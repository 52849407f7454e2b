"""A mapping is checked when saved: the admin form and the service give the same reasons."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apel.models import ApelMapping
from apel.services import mapping_problems, mapping_save
from common.exceptions import ValidationFailed


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"components": {}}, "components", "Map at least one component"),
        ({"components": {"gpu": {"field": "CpuDuration", "factor": "1"}}}, "components", "gpu: the offering has no"),
        ({"components": {"cpu": {"field": "Memory", "factor": "1"}}}, "components", "'Memory' is not one of"),
        ({"components": {"cpu": {"field": "CpuDuration"}}}, "components", 'give exactly {"field"'),
        ({"components": {"cpu": {"field": "CpuDuration", "factor": "0"}}}, "components", "above zero"),
        ({"components": {"cpu": {"field": "CpuDuration", "factor": "x"}}}, "components", "above zero"),
        (
            {
                "components": {
                    "cpu": {"field": "CpuDuration", "factor": 1},
                    "wall_hours": {"field": "CpuDuration", "factor": 1},
                }
            },
            "components",
            "CpuDuration already feeds cpu",
        ),
        ({"benchmark_type": "", "benchmark_value": None}, "benchmark_type", "needs a benchmark type and value"),
        ({"benchmark_type": "specint"}, "benchmark_type", "must be one of si2k, hepspec, HEPscore23"),
        ({"benchmark_value": Decimal("-1")}, "benchmark_value", "above zero"),
        ({"site_name": "  "}, "site_name", "The site name is required."),
        ({"site_name": "A\nB"}, "site_name", "one line of text"),
        ({"service": "a%%b"}, "service", "one line of text"),
    ],
)
def test_each_problem_is_named_by_its_field(hpc_site, change, field, message):
    mapping = ApelMapping.objects.get(id=hpc_site.mapping.id)
    for name, value in change.items():
        setattr(mapping, name, value)
    problems = mapping_problems(mapping)
    assert any(message in text for text in problems.get(field, [])), problems
    with pytest.raises(ValidationFailed) as caught:
        mapping_save(mapping=mapping)
    assert caught.value.field == field
    with pytest.raises(ValidationError):
        mapping.full_clean()
    assert ApelMapping.objects.get(id=mapping.id).site_name == "SITE-A"  # nothing stored


def test_the_fixtures_mappings_are_sound(hpc_site, cloud_site):
    assert mapping_problems(hpc_site.mapping) == {} and mapping_problems(cloud_site.mapping) == {}
    cloud_site.mapping.benchmark_type = "HEPscore23"
    assert "Give both" in mapping_problems(cloud_site.mapping)["benchmark_type"][0]
