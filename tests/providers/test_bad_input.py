"""Registering a provider with keys the database cannot hold is a 400 naming `jwks`, and registers nothing."""

import pytest

from protocol.keys import generate_private_key, jwks, public_jwk
from providers.models import Provider
from tests.factories import ProviderFactory


def registration(customer, keys):
    return {
        "slug": "new-site",
        "domain": "agent.example.org",
        "customer": f"http://testserver/api/customers/{customer.uuid}/",
        "jwks": keys,
    }


def usable_keys():
    return jwks(public_jwk(generate_private_key(), "new-site-1"))


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"comment": "rotated\u0000"}, "comment: NUL characters"),
        ({"\u0000": "x"}, "NUL character"),
        ({"note": {"by": ["admin", "\u0000"]}}, "note.by[1]: NUL"),
    ],
)
def test_keys_with_nul_are_refused(api, staff, customer, extra, fragment):
    body = registration(customer, {**usable_keys(), **extra})
    response = api.as_user(staff).post("/api/providers/", body, format="json")
    assert response.status_code == 400
    assert fragment in str(response.json()["jwks"]), response.json()
    assert not Provider.objects.exists()


def test_keys_that_are_not_an_object_are_refused(api, staff, customer):
    response = api.as_user(staff).post("/api/providers/", registration(customer, ["key"]), format="json")
    assert response.status_code == 400 and "Expected an object" in str(response.json()["jwks"])
    assert not Provider.objects.exists()


def test_admin_form_refuses_keys_with_nul(customer):
    """Staff edit keys in the admin through a model form: the model field carries the same validator."""
    from django.contrib.admin.sites import site

    provider = ProviderFactory(slug="site", name="Site", domain="site.example.org", customer=customer)
    form_class = site._registry[Provider].get_form(None, provider)
    data = {"name": "Site", "domain": "site.example.org", "https": "on", "env": "test", "status": "enabled"}
    form = form_class(data={**data, "customer": customer.pk, "jwks": '{"keys": [], "x": "\\u0000"}'}, instance=provider)
    assert not form.is_valid()
    assert "NUL" in str(form.errors["jwks"])
    provider.refresh_from_db()
    assert provider.jwks == {}
