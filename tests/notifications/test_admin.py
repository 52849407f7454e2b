"""The admin shows notifications (read-only, filtered by state and person) and each person's settings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import MailNotification

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/mailnotification/"


@pytest.fixture
def admin_client_for(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def test_notifications_are_listed_filtered_and_read_only(admin_client_for, people, dispatch):
    people.place()
    dispatch()
    MailNotification.objects.filter(user=people.owner).update(state="failed", last_error="550 mailbox unavailable")
    page = admin_client_for.get(LIST).content.decode()
    assert "Approval needed" in page and page.count('class="action-select"') == 2
    failed = admin_client_for.get(LIST, {"state__exact": "failed"})
    assert [row.user for row in failed.context["cl"].result_list] == [people.owner]
    mine = admin_client_for.get(LIST, {"user__id__exact": people.manager.id})
    assert [row.user for row in mine.context["cl"].result_list] == [people.manager]
    row = MailNotification.objects.get(user=people.owner)
    detail = admin_client_for.get(f"{LIST}{row.pk}/change/").content.decode()
    assert "550 mailbox unavailable" in detail and 'name="_save"' not in detail
    assert admin_client_for.get(f"{LIST}add/").status_code == 403


def test_the_list_takes_the_same_queries_for_2_or_12_rows(admin_client_for, people, dispatch):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_for.get(LIST).status_code == 200
        return len(captured)

    people.place(name="first")
    dispatch()
    few = queries()
    for n in range(5):
        people.place(name=f"more-{n}")
    dispatch()
    assert MailNotification.objects.count() == 12
    assert queries() == few


def test_the_user_page_shows_the_settings(admin_client_for, member):
    member.notification_settings = {"approvals": False}
    member.save()
    page = admin_client_for.get(f"/admin/federation/user/{member.pk}/change/").content.decode()
    assert "Notifications" in page and "approvals" in page
