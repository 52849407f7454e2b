"""The admin as support staff see it, in Debian's Chromium at 1280 px: branded like the portal, numbers as
people write them (no ten-decimal usage), and no change list or change page wider than the window (a wide
table scrolls inside its own box, so no column is cut off).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.invoicing.models import Invoice, InvoiceItem
from accounting.models import ComponentUsage
from federation.models import RoleName
from marketplace import services
from tests.browser.pages import PASSWORD, screenshot
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 900}
# The change lists support staff use most, and the read-only pages behind them.
LISTS = (
    "accounting/componentusage",
    "accounting/invoice",
    "accounting/policy",
    "accounting/share",
    "marketplace/order",
    "marketplace/resource",
    "marketplace/offering",
    "federation/project",
    "federation/customer",
    "federation/user",
    "events/event",
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def estate(db):
    UserFactory(username="support", is_staff=True, is_superuser=True)
    customer = CustomerFactory(name="University of Example")
    project = ProjectFactory(customer=customer, name="Climate models with a rather long name for a project")
    grant(UserFactory(username="researcher"), project, RoleName.PROJECT_MANAGER)
    offering = catalogue_offering(customer=CustomerFactory(name="Nordic Supercomputing Centre"), name="HPC allocation")
    fields = dict(project=project, offering=offering, plan=offering.plans.get(), limits={"cpu_k_hours": 500})
    order = services.order_create(actor=None, attributes={"name": "Weather runs"}, **fields)
    order = services.order_approve_by_provider(order=order, actor=None)
    resource = services.order_set_state_done(order=order, actor=None, backend_id="acct-1").resource
    usage = ComponentUsage.objects.create(
        resource=resource,
        component_type="cpu_k_hours",
        billing_period=timezone.localdate().replace(day=1),
        usage=Decimal("462.75"),
        reported_at=timezone.now(),
    )
    invoice = Invoice.objects.create(customer=customer, year=2027, month=1, total=Decimal("1250.5"), currency="EUR")
    InvoiceItem.objects.create(
        invoice=invoice,
        resource=resource,
        component_type="cpu_k_hours",
        billing_type="usage",
        quantity=Decimal("462.75"),
        unit_price=Decimal("0.000125"),
        start=date(2027, 1, 1),
        end=date(2027, 1, 31),
        price=Decimal("0.05784375"),
        resource_name=resource.name,
    )
    return {"usage": usage, "invoice": invoice, "order": order}


def admin_log_in(page, base):
    page.set_viewport_size(WIDE)
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "support")
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("load")
    assert page.url.rstrip("/").endswith("/admin"), page.url


def fits(page, url) -> str:
    """Open `url` at 1280 px: the page is no wider than the window and every table shows all its columns without
    scrolling. Returns the page's text."""
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            tables: [...document.querySelectorAll('#result_list, .inline-group table')]
                .map(table => table.scrollWidth - table.parentElement.clientWidth)
                .filter(extra => extra > 0),
        })"""
    )
    assert overflow == {"page": overflow["page"], "tables": []}, (url, overflow)  # every column in view
    assert overflow["page"] <= 0, (url, overflow)
    return page.inner_text("body")


def test_staff_see_the_admin_branded_like_the_portal(live_server, page, estate, request):
    admin_log_in(page, live_server.url)
    assert "Federation orchestrator" in page.inner_text("#site-name")
    assert page.title().endswith("Federation orchestrator admin")
    header = page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
    assert header == "rgb(29, 59, 92)"  # the portal's header blue
    assert page.evaluate("document.querySelector('link[rel=icon]').getAttribute('href')").endswith("favicon.svg")
    assert page.get_by_role("link", name="View site").get_attribute("href") == "/"  # the portal
    assert page.get_by_role("link", name="API docs").get_attribute("href") == "/api/docs/"
    screenshot(page, request)


def test_admin_numbers_read_as_people_write_them(live_server, page, estate):
    admin_log_in(page, live_server.url)
    base = f"{live_server.url}/admin"
    usages = fits(page, f"{base}/accounting/componentusage/")
    assert "462.75" in usages and "462.7500000000" not in usages
    usage = fits(page, f"{base}/accounting/componentusage/{estate['usage'].pk}/change/")
    assert "462.75" in usage and "462.7500000000" not in usage
    invoices = fits(page, f"{base}/accounting/invoice/")
    assert "1,250.50 EUR" in invoices and "1250.5000000000000000" not in invoices
    invoice = fits(page, f"{base}/accounting/invoice/{estate['invoice'].pk}/change/")
    assert "0.000125 EUR" in invoice and "0.06 EUR" in invoice and "462.75" in invoice
    assert "0.0578437500000000" not in invoice


def test_order_filters_say_which_type_they_filter(live_server, page, estate):
    admin_log_in(page, live_server.url)
    fits(page, f"{live_server.url}/admin/marketplace/order/")
    headings = page.locator("#changelist-filter summary, #changelist-filter h3").all_inner_texts()
    assert [h.strip() for h in headings if "type" in h] == ["By type", "By offering type"], headings


@pytest.mark.parametrize("model", LISTS)
def test_no_admin_list_is_cut_off_at_1280_px(live_server, page, estate, model):
    admin_log_in(page, live_server.url)
    fits(page, f"{live_server.url}/admin/{model}/")
