"""How the portal writes things: roles and states by name (states in colour with their word), amounts
with units, money with the currency, one date format that names the time zone."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from portal.templatetags import portal_format as fmt


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("PROJECT.MANAGER", "Project manager"),
        ("PROJECT.ADMIN", "Project admin"),
        ("PROJECT.MEMBER", "Project member"),
        ("CUSTOMER.OWNER", "Organisation owner"),
        ("CUSTOMER.SUPPORT", "Organisation support"),
        ("SOMETHING.NEW", "SOMETHING.NEW"),
    ],
)
def test_role_labels(name, label):
    assert fmt.role_label(name) == label


@pytest.mark.parametrize(
    ("state", "tone"),
    [("pending-consumer", "wait"), ("executing", "busy"), ("done", "good"), ("erred", "bad"), ("OK", "good")]
    + [("Erred", "bad"), ("Terminated", "off"), ("Updating", "busy"), ("rejected", "bad"), ("canceled", "off")],
)
def test_state_tones(state, tone):
    assert fmt.state_tone(state) == tone


@pytest.mark.parametrize(
    ("amount", "unit", "text"),
    [(Decimal("250"), "k-hours", "250 k-hours"), (Decimal("1042.2500"), "TB", "1,042.25 TB"), (3, "", "3")]
    + [(None, "TB", "—"), (Decimal("0.00001"), "h", "0 h")],
)
def test_quantities(amount, unit, text):
    assert fmt.quantity(amount, unit) == text


def test_money_uses_the_currency(settings):
    settings.CURRENCY = "SEK"
    assert fmt.money(Decimal("1250")) == "1,250.00 SEK" and fmt.money(None) == "—"


def test_one_date_format_with_the_time_zone():
    moment = datetime(2027, 3, 14, 12, 5, tzinfo=ZoneInfo("UTC"))
    assert fmt.when(moment) == "14 Mar 2027, 12:05 UTC"
    with timezone.override("Europe/Helsinki"):
        assert fmt.when(moment) == "14 Mar 2027, 14:05 EET"
    assert fmt.day(date(2027, 3, 4)) == "4 Mar 2027" and fmt.day(None) == "—" and fmt.when(None) == "—"


def test_project_page_names_roles_for_people(member, manager, project):
    client = Client()
    client.force_login(member)
    page = client.get(f"/projects/{project.uuid}/").content.decode()
    assert "Project manager" in page and "Project member" in page and "PROJECT.MANAGER" not in page


@pytest.mark.parametrize(
    ("price", "text"),
    [(Decimal("2"), "2.00 EUR"), (Decimal("0.000125"), "0.000125 EUR"), (Decimal("1250.5"), "1,250.50 EUR")],
)
def test_unit_prices_keep_small_fractions(settings, price, text):
    settings.CURRENCY = "EUR"
    assert fmt.unit_price(price) == text


def test_offering_page_shows_prices_in_the_currency_and_periods_in_words(settings, manager, offering):
    settings.CURRENCY = "EUR"
    client = Client()
    client.force_login(manager)
    page = client.get(f"/catalogue/{offering.uuid}/").content.decode()
    assert "2.00 EUR per k-hours" in page and "for the resource&#x27;s life" in page
