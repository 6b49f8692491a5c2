"""The patient journey through the site's views, against the real sandbox in process."""

import re

import pytest
from django.test import Client

from booking_site.booking.models import Booking
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Slot as SandboxSlot
from tests.factories import make_practice
from tests.html import error_summary_links

from .conftest import answers_on_check, press_book, tomorrow_at


def signed_in(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def search(client: Client, scope: str = "mine", period: str = "7", **extra) -> str:
    assert client.post("/book/where/", {"scope": scope, **extra}).status_code == 302
    assert client.post("/book/when/", {"period": period}).status_code == 302
    return client.get("/book/times/").content.decode()


def slot_list(html: str) -> str:
    return html.split('id="slot-list"', 1)[1]


def choose_links(html: str) -> list[str]:
    return re.findall(r'href="(/book/details/\?[^"]+)"', html.replace("&amp;", "&"))


def book_first_slot(client: Client, html: str, reason: str = "Sore knee") -> str:
    details = client.get(choose_links(html)[0])
    assert details.status_code == 302
    assert client.post("/book/details/", {"reason": reason, "note": ""}).status_code == 302
    return client.get("/book/check/").content.decode()


def test_a_patient_finds_times_at_their_practice_merged_earliest_first(world):
    world.slots("A20047", tomorrow_at(14), 2)
    world.slots("A20047", tomorrow_at(9), 1, service_type="Asthma review")
    client = signed_in(world.patient)

    html = search(client)

    assert "1 of 1 practices checked" in html
    listed = slot_list(html)
    assert listed.index("9am") < listed.index("2pm") < listed.index("2:10pm")
    assert "Asthma review" in html
    assert "Dr Ann Jones (General Medical Practitioner, female)" in html
    assert len(choose_links(html)) == 3


def test_federation_search_shows_every_practice_and_their_slots(world):
    world.slots("A20047", tomorrow_at(10), 1)
    world.slots("B82617", tomorrow_at(9), 1, service_type="Blood test")
    client = signed_in(world.patient)

    html = search(client, scope="federation")

    assert "2 of 2 practices checked" in html
    listed = slot_list(html)
    assert listed.index("Hill Surgery") < listed.index("Riverside Medical Practice")
    assert "Blood test" in html


def test_a_practice_that_cannot_be_checked_is_named_with_a_retry(world):
    world.add_practice("C88114", "Broken Surgery", unavailable=True)
    world.slots("A20047", tomorrow_at(10), 1)
    client = signed_in(world.patient)

    html = search(client, scope="chosen", practices=["A20047", "C88114"])

    assert "Could not be checked" in html
    assert "Try Broken Surgery again" in html
    assert "/book/times/?retry=C88114" in html
    assert len(choose_links(html)) == 1


def test_filters_narrow_the_list_and_are_bookmarkable_get_parameters(world):
    world.slots("A20047", tomorrow_at(9), 1, delivery_channel="Telephone")
    world.slots("A20047", tomorrow_at(15), 1)
    client = signed_in(world.patient)
    search(client)

    morning = client.get("/book/times/?time=morning").content.decode()
    phone = client.get("/book/times/?channel=Telephone&time=afternoon").content.decode()
    junk = client.get("/book/times/?time=midnight&channel=<script>&page=abc")

    assert len(choose_links(morning)) == 1
    assert "Phone call" in slot_list(morning)
    assert "No appointments match your filters" in phone
    assert junk.status_code == 200
    assert len(choose_links(junk.content.decode())) == 2


def test_nothing_found_offers_the_next_two_weeks_phone_numbers_and_111(world):
    client = signed_in(world.patient)

    html = search(client)

    assert "No appointments found" in html
    assert "Search the next 2 weeks" in html
    assert "01632 960100" in html
    assert "111.nhs.uk" in html
    assert "Search more practices in your federation" in html


def test_search_the_next_two_weeks_moves_the_range_in_one_step(world):
    client = signed_in(world.patient)
    search(client, period="7")

    response = client.post("/book/times/later/")

    assert response["Location"] == "/book/times/"
    html = client.get("/book/times/").content.decode()
    assert "No appointments found" in html  # still none, but a later range
    assert client.session["booking_journey"]["period"] == "dates"


def test_the_whole_journey_books_once_from_the_practices_reply(world):
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    check = book_first_slot(client, search(client))
    assert "Check your answers before booking" in check
    assert "Sore knee" in check

    answers = answers_on_check(client)
    confirmed = press_book(client, answers)
    again = press_book(client, answers)  # a second click or a retry of the same page

    booking = Booking.objects.get()
    assert confirmed["Location"] == again["Location"] == f"/appointments/{booking.pk}/confirmation/"
    assert SandboxAppointment.objects.count() == 1
    assert booking.patient == world.patient
    assert booking.status == Booking.Status.BOOKED
    assert booking.appointment_id == str(SandboxAppointment.objects.get().pk)
    page = client.get(confirmed["Location"]).content.decode()
    assert "Appointment booked" in page
    assert booking.appointment_id in page
    assert "11am" in page


def test_a_slot_taken_by_someone_else_ends_on_a_kind_page_with_alternatives(world):
    [taken] = world.slots("A20047", tomorrow_at(11), 1)
    world.slots("A20047", tomorrow_at(12), 3)
    mine, theirs = signed_in(world.patient), signed_in(world.other_patient)
    book_first_slot(mine, search(mine))
    book_first_slot(theirs, search(theirs))
    assert press_book(theirs).status_code == 302  # they book it first

    response = press_book(mine)

    assert response["Location"] == "/book/taken/"
    page = mine.get("/book/taken/").content.decode()
    assert "Sorry, that time has just been booked" in page
    assert len(choose_links(page)) == 3
    assert Booking.objects.filter(patient=world.patient, status="booked").count() == 0
    taken.refresh_from_db()
    assert taken.status == SandboxSlot.Status.BUSY


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "", "note": ""}, "id_reason", "Enter what the appointment is for"),
        ({"reason": "x" * 101, "note": ""}, "id_reason", "100 characters or fewer"),
        ({"reason": "Rash", "note": "y" * 501}, "id_note", "500 characters or fewer"),
    ],
)
def test_details_errors_are_linked_and_nothing_is_lost(world, data, field, message):
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])

    response = client.post("/book/details/", data)

    html = response.content.decode()
    assert "<title>Error: " in html
    assert any(href == field and message in text for href, text in error_summary_links(html))
    assert " maxlength=" not in html  # the counter's data-maxlength is fine
    if data["note"]:
        assert data["note"] in html


def test_a_telephone_appointment_needs_a_valid_phone_number(world):
    world.slots("A20047", tomorrow_at(11), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])

    missing = client.post("/book/details/", {"reason": "Cough", "note": ""})
    invalid = client.post("/book/details/", {"reason": "Cough", "note": "", "phone": "12345"})
    valid = client.post("/book/details/", {"reason": "Cough", "note": "", "phone": "07123456789"})

    assert ("id_phone", "Enter a phone number the practice can call you on") in (
        error_summary_links(missing.content.decode())
    )
    assert error_summary_links(invalid.content.decode())[0][0] == "id_phone"
    assert valid.status_code == 302
    assert "07123 456789" in client.get("/book/check/").content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "id_period", "Select when you would like an appointment"),
        ({"period": "dates"}, "id_start_day", "Enter a start date"),
        (
            {
                "period": "dates",
                "start_day": "5",
                "start_month": "1",
                "start_year": "2020",
                "end_day": "6",
                "end_month": "1",
                "end_year": "2020",
            },
            "id_start_day",
            "The start date must be today or in the future",
        ),
        (
            {"period": "dates", "start_day": "31", "start_month": "2", "start_year": "2027"},
            "id_start_day",
            "must be a real date",
        ),
    ],
)
def test_when_errors_are_linked_from_the_summary(world, data, field, message):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})

    html = client.post("/book/when/", data).content.decode()

    assert any(href == field and message in text for href, text in error_summary_links(html))


def test_the_end_date_must_be_after_the_start_date(world):
    import datetime

    from django.utils import timezone

    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})
    start = timezone.localdate() + datetime.timedelta(days=5)
    end = start - datetime.timedelta(days=2)
    data = {"period": "dates"}
    for name, day in (("start", start), ("end", end)):
        data |= {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}

    html = client.post("/book/when/", data).content.decode()

    assert ("id_end_day", "The end date must be after the start date") in error_summary_links(html)


def test_where_needs_at_least_one_chosen_practice(world):
    client = signed_in(world.patient)

    html = client.post("/book/where/", {"scope": "chosen"}).content.decode()

    assert ("id_practices", "Select at least one practice") in error_summary_links(html)


def test_a_practice_outside_the_federation_cannot_be_chosen(world):
    make_practice("Z99999", name="Far Away Surgery")
    client = signed_in(world.patient)

    html = client.post("/book/where/", {"scope": "chosen", "practices": ["Z99999"]}).content
    assert "Select practices from the list" in html.decode()


def test_an_empty_where_post_asks_the_question_again_with_an_error(world):
    client = signed_in(world.patient)

    html = client.post("/book/where/", {}).content.decode()

    assert ("id_scope", "Select where you would like an appointment") in error_summary_links(html)
