"""Your appointments as the practice holds them: booked anywhere, in any participant shape, and
a cancellation that says it cannot be done before asking why."""

import datetime
import json

import pytest
from icalendar import Calendar

from booking_site.booking.models import Booking
from gp_sandbox import appointments as sandbox_appointments
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Practice as SandboxPractice
from gp_sandbox.validation import parse_new_appointment

from .conftest import press_book, tomorrow_at
from .test_journey import book_first_slot, choose_links, search, signed_in


def booked_at_the_practice(world, start, *, ods="A20047", **slot_fields):
    """An appointment made at the practice itself (by phone, say): the site never saw it."""
    slots = world.slots(ods, start, 1, **slot_fields)
    body = sandbox.appointment_body(slots, description="Booked by phone")
    return sandbox_appointments.book(
        world.sandbox_practices[ods], parse_new_appointment(json.dumps(body).encode())
    )


@pytest.fixture
def booked(world):
    """A patient with one appointment booked through the site."""
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    book_first_slot(client, search(client))
    press_book(client)
    return client, Booking.objects.get()


def test_an_appointment_booked_at_the_practice_is_in_your_appointments(world):
    held = booked_at_the_practice(world, tomorrow_at(9, 30), service_type="Blood test")
    client = signed_in(world.patient)

    html = client.get("/appointments/").content.decode()
    page = client.get(f"/appointments/A20047/{held.pk}/").content.decode()

    upcoming = html.split("Upcoming", 1)[1]
    assert f'href="/appointments/A20047/{held.pk}/"' in upcoming
    assert "Blood test" in upcoming
    assert "Morning surgery" in upcoming
    assert "Appointment at 9:30am" in page
    assert "Booked by phone" in page
    assert "Cancel this appointment" in page


def test_an_appointment_booked_at_the_practice_can_be_cancelled(world):
    held = booked_at_the_practice(world, tomorrow_at(9, 30))
    client = signed_in(world.patient)
    base = f"/appointments/A20047/{held.pk}"

    asked = client.post(f"{base}/cancel/", {"reason": "Feeling better"})
    done = client.post(asked["Location"])

    assert done["Location"] == f"{base}/"
    held.refresh_from_db()
    assert held.status == SandboxAppointment.Status.CANCELLED
    assert held.cancellation_reason == "Feeling better"
    assert "This appointment has been cancelled" in client.get(f"{base}/").content.decode()


def test_another_patients_appointment_at_the_practice_is_not_found(world):
    held = booked_at_the_practice(world, tomorrow_at(9, 30))
    other = signed_in(world.other_patient)

    for path in ["", "cancel/", "cancel/confirm/", "calendar.ics"]:
        assert other.get(f"/appointments/A20047/{held.pk}/{path}").status_code == 404
    assert other.get("/appointments/NOPE1/1/").status_code == 404
    assert f"/appointments/A20047/{held.pk}/" not in other.get("/appointments/").content.decode()


def test_cancelled_appointments_are_listed_apart_from_upcoming(world, booked):
    client, booking = booked
    held = booked_at_the_practice(world, tomorrow_at(9, 30))
    client.post(f"/appointments/A20047/{held.pk}/cancel/", {"reason": "Better"})
    client.post(f"/appointments/A20047/{held.pk}/cancel/confirm/")

    html = client.get("/appointments/").content.decode()

    upcoming, cancelled = html.split("Upcoming", 1)[1].split("Cancelled", 1)
    assert f"/appointments/{booking.pk}/" in upcoming
    assert f"/appointments/A20047/{held.pk}/" not in upcoming
    assert f"/appointments/A20047/{held.pk}/" in cancelled


def test_a_site_booking_is_listed_once_linked_to_its_own_page(world, booked):
    client, booking = booked

    html = client.get("/appointments/").content.decode()

    assert html.count(f"/appointments/{booking.pk}/") == 1
    assert f"/appointments/A20047/{booking.appointment_id}/" not in html
    practice_url = client.get(f"/appointments/A20047/{booking.appointment_id}/")
    assert practice_url["Location"] == f"/appointments/{booking.pk}/"


def _as_in_the_nhs_example(appointment: SandboxAppointment) -> None:
    """The stored Appointment's Location and Practitioner participants rewritten as the NHS
    patient-facing API's example has them: whole resources, with no actor and no status."""
    resource = appointment.resource
    schedule = appointment.slots.get().schedule
    patient = [p for p in resource["participant"] if "Patient/" in p["actor"]["reference"]]
    resource["participant"] = [
        *patient,
        {
            "resource": {
                "resourceType": "Practitioner",
                "id": str(schedule.practitioner_id),
                "name": [{"family": "Black", "given": ["Sarah"], "prefix": ["Mrs"]}],
                "gender": "female",
            }
        },
        {
            "resource": {
                "resourceType": "Location",
                "id": str(schedule.location_id),
                "name": "The Trevelyan Practice",
                "address": {"line": ["Trevelyan Square", "Boar Ln"], "postalCode": "LS1 6AE"},
                "telecom": {"system": "phone", "value": "0300 303 5678", "use": "work"},
            }
        },
    ]
    appointment.save()


def test_the_nhs_example_participant_shape_is_shown_and_cancelled(world, booked):
    client, booking = booked
    _as_in_the_nhs_example(SandboxAppointment.objects.get())

    page = client.get(f"/appointments/{booking.pk}/").content.decode()
    listed = client.get("/appointments/").content.decode()
    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    done = client.post(f"/appointments/{booking.pk}/cancel/confirm/")

    assert "could not read" not in page + listed
    assert "Mrs Sarah Black" in page
    assert "The Trevelyan Practice" in page
    assert done["Location"] == f"/appointments/{booking.pk}/"
    assert SandboxAppointment.objects.get().status == SandboxAppointment.Status.CANCELLED


def test_a_practice_that_refused_online_cancellation_says_so_before_asking_why(world, booked):
    client, booking = booked
    held = booked_at_the_practice(world, tomorrow_at(15))
    SandboxPractice.objects.filter(ods_code="A20047").update(cancellation_disabled=True)
    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    refused = client.post(f"/appointments/{booking.pk}/cancel/confirm/").content.decode()

    page = client.get(f"/appointments/{booking.pk}/").content.decode()
    other = client.get(f"/appointments/A20047/{held.pk}/").content.decode()
    asked = client.get(f"/appointments/A20047/{held.pk}/cancel/").content.decode()

    assert "does not allow appointments to be cancelled online" in refused
    assert "Cancel this appointment" not in page
    assert "Cancel this appointment" not in other
    assert "does not allow appointments to be cancelled online" in asked
    assert 'name="reason"' not in asked
    assert "01632 960100" in asked


def test_too_late_to_cancel_is_known_before_asking_for_an_earlier_appointment(world, booked):
    client, booking = booked  # tomorrow at 11am
    earlier = booked_at_the_practice(world, tomorrow_at(10))
    SandboxPractice.objects.filter(ods_code="A20047").update(cancellation_cutoff_minutes=100_000)
    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    client.post(f"/appointments/{booking.pk}/cancel/confirm/")

    asked = client.get(f"/appointments/A20047/{earlier.pk}/cancel/").content.decode()

    assert "too late to cancel this appointment online" in asked
    assert 'name="reason"' not in asked


def test_after_a_refusal_the_calendar_file_says_to_phone_the_practice(world, booked):
    client, booking = booked
    SandboxPractice.objects.filter(ods_code="A20047").update(cancellation_refused=True)
    client.post(f"/appointments/{booking.pk}/cancel/", {"reason": "Feeling better"})
    client.post(f"/appointments/{booking.pk}/cancel/confirm/")

    response = client.get(f"/appointments/{booking.pk}/calendar.ics")

    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    description = str(event.get("description"))
    assert "Book a GP appointment" not in description
    assert "phone the practice" in description.lower()
    assert (
        "Cancel this appointment" not in client.get(f"/appointments/{booking.pk}/").content.decode()
    )


def test_the_session_name_is_shown_and_the_title_says_at(world, booked):
    client, booking = booked

    page = client.get(f"/appointments/{booking.pk}/").content.decode()
    confirmation = client.get(f"/appointments/{booking.pk}/confirmation/").content.decode()

    assert "Appointment at 11am" in page
    assert " on 11am" not in page
    assert "Morning surgery" in page
    assert "Morning surgery" in confirmation


def test_the_confirmation_says_where_the_practices_record_differs_from_the_choice(world, booked):
    client, booking = booked
    appointment = SandboxAppointment.objects.get()
    moved = tomorrow_at(11, 20)
    resource = appointment.resource
    resource["start"] = moved.isoformat()
    resource["end"] = tomorrow_at(11, 30).isoformat()
    resource["participant"] = [
        p for p in resource["participant"] if "Practitioner/" not in p["actor"]["reference"]
    ]
    appointment.save()
    client.get(f"/appointments/{booking.pk}/")  # read again from the practice

    confirmation = client.get(f"/appointments/{booking.pk}/confirmation/").content.decode()

    assert "11:20am" in confirmation
    assert "differs from what you chose" in confirmation
    assert "You chose 11am" in confirmation
    assert "You chose Dr Ann Jones" in confirmation


def test_a_telephone_appointment_shows_no_surgery_address(world):
    world.slots("A20047", tomorrow_at(11), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])
    client.post("/book/details/", {"reason": "Cough", "note": "", "phone": "0113 496 0000"})
    press_book(client)
    booking = Booking.objects.get()

    page = client.get(f"/appointments/{booking.pk}/").content.decode()

    assert "1 Surgery Lane" not in page.split("Where", 1)[1].split("</dd>", 1)[0]
    assert "The practice will phone you" in page


def _moved_into_the_past(appointment: SandboxAppointment, days: int) -> None:
    """As if it had been booked (by phone) for ``days`` ago."""
    shift = datetime.timedelta(days=days)
    appointment.start -= shift
    appointment.end -= shift
    appointment.resource["start"] = appointment.start.isoformat()
    appointment.resource["end"] = appointment.end.isoformat()
    appointment.save()


def test_a_past_appointment_the_practice_holds_is_listed_under_past(world, booked):
    client, booking = booked
    held = booked_at_the_practice(world, tomorrow_at(10, 30))
    _moved_into_the_past(held, days=10)

    html = client.get("/appointments/").content.decode()

    upcoming, past = html.split("Upcoming", 1)[1].split("Past", 1)
    assert f"/appointments/{booking.pk}/" in upcoming
    assert f"/appointments/A20047/{held.pk}/" not in upcoming
    assert f"/appointments/A20047/{held.pk}/" in past
