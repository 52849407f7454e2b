"""The OpenAPI schema validates without warnings; Swagger UI is served offline; settings are production-safe."""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.federation.settings_processes import production_env, run

ROOT = Path(__file__).resolve().parents[2]


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/customers/", "/api/projects/{uuid}/add_user/", "/api/remote-eduteams/", "/api-auth/password/"]:
        assert f"  {path}:" in text


def test_schema_endpoint(api, staff):
    response = api.as_user(staff).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Federation orchestrator API"
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    # Lists are documented as they are served: a plain array of objects, the rest in headers.
    for path, item in [("/api/projects/", "Project"), ("/api/projects/{uuid}/list_users/", "RoleGrant")]:
        response_200 = schema["paths"][path]["get"]["responses"]["200"]
        ref = response_200["content"]["application/json"]["schema"]["$ref"]
        listing = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert listing == {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
        assert set(response_200["headers"]) == {"X-Result-Count", "Link"}
    delete_user = schema["paths"]["/api/projects/{uuid}/delete_user/"]["post"]["responses"]["200"]
    assert "content" in delete_user


def test_swagger_ui_is_served_without_a_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


def test_sidecar_assets_exist():
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_check_deploy_is_clean():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_secret_key_refuses_to_start():
    env = production_env()
    env.pop("SECRET_KEY")
    result = run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("TOKEN_LIFETIME", "a week")])
def test_malformed_settings_are_refused_by_name(name, value):
    result = run(["-c", "import django; django.setup()"], production_env(**{name: value}))
    assert result.returncode != 0
    assert name in result.stderr


def test_production_defaults():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["PAGE_SIZE"] == 10
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.X_FRAME_OPTIONS == "DENY"
