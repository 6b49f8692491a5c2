"""How a patient hears from us (issue 18, 2): only what NHS login verified, email by default,
chosen on a settings page or at check-answers; the clock and the staff view (issue 18, 5)."""

import datetime
import re

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from booking_site.accounts.models import User
from booking_site.notifications import alerts, contact
from booking_site.notifications.models import Notification
from tests.factories import make_patient

from .conftest import book, run_worker, search, signed_in, tomorrow_at

pytestmark = pytest.mark.django_db(transaction=True)


def with_mobile(user: User, number: str = "+447700900123", verified: bool = True) -> User:
    user.phone_number = number
    user.phone_number_verified = verified
    user.save()
    return user


def test_email_is_the_default_when_verified_and_nothing_unverified_is_offered(db):
    patient = make_patient()
    assert contact.preference(patient) == "email"
    assert [value for value, _ in contact.choices(patient)] == ["email", "none"]

    with_mobile(patient)
    assert [value for value, _ in contact.choices(patient)] == ["email", "sms", "none"]
    patient.email_verified = False
    assert contact.preference(patient) == "sms"
    with_mobile(patient, verified=False)
    assert contact.preference(patient) == "none"
    assert contact.contact_for(patient) is None


def test_only_a_uk_mobile_can_get_texts(db):
    patient = with_mobile(make_patient(), number="+441134960000")  # a Leeds landline
    assert [value for value, _ in contact.choices(patient)] == ["email", "none"]
    patient.contact_by = "sms"
    assert contact.preference(patient) == "email"  # a choice no longer possible falls back


def test_the_settings_page_saves_the_choice(db):
    patient = with_mobile(make_patient())
    client = signed_in(patient)

    page = client.get("/account/messages/").content.decode()
    assert patient.email in page
    assert "07700 900123" in page
    response = client.post("/account/messages/", {"contact_by": "sms"})

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.contact_by == "sms"
    assert "By text message to 07700 900123" in client.get(response.url).content.decode()


@pytest.mark.parametrize("value", ["", "carrier-pigeon", "sms"])
def test_a_choice_that_is_not_offered_gets_a_clear_message(db, value):
    patient = make_patient()  # no mobile: a text is not one of the choices
    client = signed_in(patient)

    response = client.post("/account/messages/", {"contact_by": value} if value else {})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Select how you want to get messages about your appointments" in page
    assert re.search(r'href="#id_contact_by[^"]*"', page)
    patient.refresh_from_db()
    assert patient.contact_by == ""


def test_the_settings_page_returns_only_to_a_page_of_this_site(db):
    client = signed_in(make_patient())
    back = client.post("/account/messages/", {"contact_by": "none", "next": "/book/alert/"})
    away = client.post(
        "/account/messages/", {"contact_by": "none", "next": "https://evil.example/"}
    )
    not_a_path = client.post("/account/messages/", {"contact_by": "none", "next": "0"})
    assert back.url == "/book/alert/"
    assert away.url == "/account/messages/saved/"
    assert not_a_path.url == "/account/messages/saved/"


def test_the_choice_made_at_check_answers_is_kept_and_used(world):
    with_mobile(world.patient)
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)

    response = book(client, "9am", contact_by="sms")

    assert response.status_code == 302
    world.patient.refresh_from_db()
    assert world.patient.contact_by == "sms"
    assert Notification.objects.get().channel == "sms"


def test_check_answers_shows_the_choices(world):
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    results = search(client)
    [link] = re.findall(r'href="(/book/details/\?[^"]+)"', results)
    client.get(link)
    client.post("/book/details/", {"reason": "Cough", "note": ""})

    page = client.get("/book/check/").content.decode()

    assert "How do you want to get messages about your appointments?" in page
    assert f"To {world.patient.email}" in page
    assert re.search(r'name="contact_by"[^>]*value="email"[^>]*checked', page)


def test_the_clock_enqueues_a_cycle_that_the_worker_runs(world):
    call_command("run_clock", "--once")
    [queued] = DBTaskResult.objects.filter(
        task_path="booking_site.notifications.alerts.alert_cycle"
    )
    run_worker()
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert "0 alerts" in queued.return_value


def test_staff_see_what_was_sent_and_failed_never_what_it_said(world, admin_client):
    world.slots("A20047", tomorrow_at(9), 1)
    book(signed_in(world.patient), "9am")
    run_worker()
    alerts.create(
        world.patient,
        [world.practices["A20047"]],
        channels=[],
        times_of_day=[],
        earlier_than=None,
        until=datetime.date.today() + datetime.timedelta(days=7),
    )
    notification = Notification.objects.get()

    listing = admin_client.get("/admin/notifications/notification/").content.decode()
    one = admin_client.get(
        f"/admin/notifications/notification/{notification.pk}/change/"
    ).content.decode()
    per_practice = admin_client.get("/admin/notifications/practicealerts/").content.decode()

    assert "Booking confirmed" in listing
    assert "Sent to Notify" in listing
    for page in (listing, one, per_practice):
        assert world.patient.email not in page
        assert notification.personalisation["appointment_url"] not in page
        assert notification.personalisation["what_to_do"] not in page
    riverside = per_practice[per_practice.index("Riverside Medical Practice") :]
    assert '<td class="field-active_alerts">1</td>' in riverside
    assert '<td class="field-messages_sent">1</td>' in riverside
    assert '<td class="field-messages_failed">0</td>' in riverside
