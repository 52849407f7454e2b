"""docs/provider-openapi.yaml is valid OpenAPI 3.0 and describes exactly the routes the agent serves."""

import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import yaml

from site_agent.api import routes

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "provider-openapi.yaml"
SAMPLES = {"order_uuid": "6d1a4e8c-0000-4000-8000-000000000001", "token": "A" * 43}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(SPEC_PATH.read_text())


def test_spec_is_valid_openapi_3_0(spec):
    found = importlib.util.find_spec("drf_spectacular")
    meta = Path(found.origin).parent / "validation" / "openapi_3_0_schema.json"
    jsonschema.validate(instance=spec, schema=json.loads(meta.read_text()))


def test_every_reference_resolves(spec):
    refs = re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(spec))
    assert refs
    for ref in refs:
        node = spec
        for part in ref.split("/"):
            node = node[part]


def test_spec_and_agent_routes_agree(spec):
    served = routes(SimpleNamespace(store=None))
    documented = set()
    for template, item in spec["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)
        for method in METHODS:
            if method in item:
                documented.add((method.upper(), template))
                assert any(r.method == method.upper() and r.pattern.match(path) for r in served), (method, template)
    assert len(documented) == len(served)
    public = {(r.method, r.pattern.pattern) for r in served if not r.signed}
    unsigned = {
        (method.upper(), template)
        for template, item in spec["paths"].items()
        for method in METHODS
        if method in item and item[method].get("security") == []
    }
    assert len(unsigned) == len(public)
