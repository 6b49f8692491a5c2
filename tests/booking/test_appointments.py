"""Your appointments: viewing, the calendar file, cancelling, and who may see what."""

import pytest
from django.test import Client
from icalendar import Calendar

from booking_site.booking.models import Booking
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Practice as SandboxPractice
from gp_sandbox.models import Slot as SandboxSlot
from tests.html import error_summary_links

from .conftest import press_book, tomorrow_at
from .test_journey import book_first_slot, search, signed_in


@pytest.fixture
def booked(world):
    """A patient with one appointment booked through the site."""
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    book_first_slot(client, search(client))
    press_book(client)
    return client, Booking.objects.get()


def test_your_appointments_lists_the_booking_refreshed_from_the_practice(world, booked):
    client, booking = booked
    SandboxAppointment.objects.update(version_id=7)

    html = client.get("/appointments/").content.decode()

    assert "Upcoming" in html
    assert f"/appointments/{booking.pk}/" in html
    booking.refresh_from_db()
    assert booking.version_id == "7"


def test_a_cancellation_made_at_the_practice_shows_on_the_detail_page(world, booked):
    client, booking = booked
    appointment = SandboxAppointment.objects.get()
    appointment.status = "cancelled"
    appointment.resource = {**appointment.resource, "status": "cancelled"}
    appointment.version_id += 1
    appointment.save()

    html = client.get(f"/appointments/{booking.pk}/").content.decode()

    assert "This appointment has been cancelled" in html
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_the_calendar_file_is_in_london_time_with_the_practice_reference(world, booked):
    client, booking = booked

    response = client.get(f"/appointments/{booking.pk}/calendar.ics")

    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event.decoded("dtstart").tzinfo) == "Europe/London"
    assert event.decoded("dtstart") == booking.start
    assert booking.appointment_id in str(event.get("description"))
    assert calendar.walk("VTIMEZONE")


def test_cancelling_asks_why_then_confirms_then_frees_the_slot(world, booked):
    client, booking = booked

    empty = client.post(f"/appointments/{booking.pk}/cancel/", {})
    reason = client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    interruption = client.get(reason["Location"]).content.decode()
    done = client.post(f"/appointments/{booking.pk}/cancel/confirm/")

    assert ("id_reason", "Enter why you are cancelling") in error_summary_links(
        empty.content.decode()
    )
    assert "Are you sure you want to cancel this appointment?" in interruption
    assert done["Location"] == f"/appointments/{booking.pk}/"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancellation_reason == "Feeling better"
    assert SandboxSlot.objects.get().status == SandboxSlot.Status.FREE
    again = client.post(f"/appointments/{booking.pk}/cancel/confirm/")
    assert again["Location"] == f"/appointments/{booking.pk}/"


@pytest.mark.parametrize(
    ("switch", "message"),
    [
        ({"cancellation_disabled": True}, "does not allow appointments to be cancelled online"),
        ({"cancellation_cutoff_minutes": 100_000}, "too late to cancel this appointment online"),
        ({"cancellation_refused": True}, "could not cancel this appointment online"),
    ],
)
def test_a_refused_cancellation_is_a_plain_message_and_the_booking_stands(
    world, booked, switch, message
):
    client, booking = booked
    SandboxPractice.objects.filter(ods_code="A20047").update(**switch)
    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})

    response = client.post(f"/appointments/{booking.pk}/cancel/confirm/")

    assert response.status_code == 200
    assert message in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_another_patient_gets_404_for_every_page_of_someone_elses_booking(world, booked):
    _, booking = booked
    other = signed_in(world.other_patient)

    for path in ["", "confirmation/", "calendar.ics", "cancel/", "cancel/confirm/"]:
        assert other.get(f"/appointments/{booking.pk}/{path}").status_code == 404
    assert other.post(f"/appointments/{booking.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert f"/appointments/{booking.pk}/" not in other.get("/appointments/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(world, booked):
    _, booking = booked
    anonymous = Client()

    for path in ["/book/", "/book/times/", "/appointments/", f"/appointments/{booking.pk}/"]:
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/sign-in/?next=")


def test_staff_cannot_use_the_patient_journey(world, django_user_model):
    staff = django_user_model.objects.create_user("staff@example.com", password="x-Y-z-123456")
    client = signed_in(staff)

    for path in ["/book/", "/book/where/", "/book/times/", "/appointments/"]:
        assert client.get(path).status_code == 403
