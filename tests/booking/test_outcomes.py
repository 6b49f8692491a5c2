"""Three outcomes, told truthfully (issue 15): booked, not booked, and not yet known, which the
settling task learns in the background from the request stored with the booking; and the limit
on upcoming bookings at one practice."""

import datetime

import httpx
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking_site.asgi import application
from booking_site.booking import tasks
from booking_site.booking.models import Booking
from booking_site.gpconnect import use_transport
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Practice as SandboxPractice
from gp_sandbox.models import Slot as SandboxSlot

from .conftest import answers_on_check, press_book, tomorrow_at
from .test_journey import book_first_slot, search, signed_in

CONFIRMING = "We are confirming your appointment with the practice"
NOT_BOOKED = "has not been booked"


class PracticeBooksButReplyIsSpoilt(httpx.AsyncBaseTransport):
    """The practice gets the first booking and makes it, but its reply is lost on the way back
    (``spoil="drop"``) or arrives unreadable (``spoil="garble"``); later requests go through."""

    def __init__(self, spoil: str) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.spoil = spoil
        self.bookings_sent: list[tuple[str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/Appointment"):
            self.bookings_sent.append((request.headers["X-Request-ID"], request.content))
            if len(self.bookings_sent) == 1:
                await response.aread()
                if self.spoil == "drop":
                    raise httpx.ReadError("connection reset", request=request)
                return httpx.Response(
                    201,
                    content=b'{"resourceType": "Appointm',
                    headers={"Content-Type": "application/fhir+json"},
                )
        return response


def settle_tasks() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path="booking_site.booking.tasks.settle_booking").order_by(
            "enqueued_at"
        )
    )


def later(monkeypatch, **delta) -> None:
    """The clock moves on (the worker runs only tasks whose time has come)."""
    moment = timezone.now() + datetime.timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def set_practice(**switches) -> None:
    SandboxPractice.objects.filter(ods_code="A20047").update(**switches)


@pytest.fixture
def ready_to_book(world):
    """A patient on "Check your answers" for a free time tomorrow at their practice."""
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    book_first_slot(client, search(client))
    return client


@pytest.mark.parametrize("spoil", ["garble", "drop"])
def test_a_booking_whose_reply_was_unreadable_or_lost_is_being_confirmed_then_settled_by_the_worker(
    world, ready_to_book, monkeypatch, spoil
):
    client = ready_to_book
    spoilt = PracticeBooksButReplyIsSpoilt(spoil)
    with use_transport(spoilt):
        # When the practice books it but its reply cannot be read
        response = press_book(client, follow=True)

        # Then the patient is told it is being confirmed, never that it is not booked
        page = response.content.decode()
        assert CONFIRMING in page
        assert NOT_BOOKED not in page
        assert "do not book this appointment again" in page
        booking = Booking.objects.get()
        assert booking.status == Booking.Status.UNKNOWN
        assert booking.settled_at is None
        assert SandboxAppointment.objects.count() == 1
        [queued] = settle_tasks()
        assert queued.args_kwargs == {"args": [booking.pk], "kwargs": {}}

        # And when the worker runs the settling task a little later
        later(monkeypatch, seconds=20)
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    # Then the booking the practice made is recorded, from the same request sent again
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert booking.appointment_id == str(SandboxAppointment.objects.get().pk)
    assert booking.outcome_source == Booking.OutcomeSource.RESENT
    assert booking.settled_at is not None
    [first, again] = spoilt.bookings_sent
    assert again == first == (str(booking.request_id), first[1])
    assert SandboxAppointment.objects.count() == 1
    assert (
        "Appointment booked"
        in client.get(f"/appointments/{booking.pk}/confirmation/").content.decode()
    )


def test_after_a_503_the_patient_is_told_it_is_being_confirmed_and_a_page_view_books_nothing(
    world, ready_to_book
):
    client = ready_to_book
    set_practice(unavailable=True)
    answers = answers_on_check(client)

    response = press_book(client, answers, follow=True)

    page = response.content.decode()
    assert CONFIRMING in page
    assert NOT_BOOKED not in page
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.UNKNOWN

    # The practice is back; opening Your appointments shows it as being confirmed, books nothing
    set_practice(unavailable=False)
    listing = client.get("/appointments/").content.decode()
    assert "Being confirmed" in listing
    assert SandboxAppointment.objects.count() == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.UNKNOWN
    # Pressing "Book" again on that page shows the same page and sends nothing
    assert press_book(client, answers)["Location"] == f"/appointments/{booking.pk}/confirmation/"
    assert SandboxAppointment.objects.count() == 0

    # The settling task books it
    assert tasks.settle_booking.call(booking.pk) == "booked"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert booking.appointment_id == str(SandboxAppointment.objects.get().pk)
    assert "Booked" in client.get("/appointments/").content.decode()


def test_the_task_settles_from_the_database_when_the_cache_has_lost_the_chosen_slot(
    world, ready_to_book
):
    client = ready_to_book
    set_practice(unavailable=True)
    press_book(client)
    booking = Booking.objects.get()

    cache.clear()
    set_practice(unavailable=False)
    tasks.settle_booking.call(booking.pk)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert SandboxAppointment.objects.get().patient_nhs_number == world.patient.nhs_number


def test_a_slot_taken_before_the_request_reached_the_practice_is_settled_not_booked(
    world, ready_to_book
):
    client = ready_to_book
    set_practice(unavailable=True)
    press_book(client)
    booking = Booking.objects.get()
    SandboxSlot.objects.update(status=SandboxSlot.Status.BUSY)  # someone else booked it meanwhile
    set_practice(unavailable=False)

    assert tasks.settle_booking.call(booking.pk) == "not_booked"

    booking.refresh_from_db()
    assert booking.status == Booking.Status.FAILED
    assert booking.outcome_source == Booking.OutcomeSource.RESENT
    listing = client.get("/appointments/").content.decode()
    assert "The practice could not book this appointment" in listing
    # A booking the patient was told is not booked is never sent again
    assert tasks.settle_booking.call(booking.pk) == "settled already"


def test_a_booking_still_unknown_after_every_attempt_is_flagged_for_staff(
    world, ready_to_book, admin_client
):
    patient = ready_to_book
    set_practice(unavailable=True)
    press_book(patient)
    booking = Booking.objects.get()

    outcomes = [tasks.settle_booking.call(booking.pk) for _ in tasks.RETRY_DELAYS]

    booking.refresh_from_db()
    assert outcomes[-1] == "needs staff attention"
    assert booking.status == Booking.Status.UNKNOWN
    assert booking.needs_attention
    assert booking.settle_attempts == len(tasks.RETRY_DELAYS)
    # One task from the booking, then one after each attempt but the last, backing off
    waits = [round((t.run_after - t.enqueued_at).total_seconds()) for t in settle_tasks()]
    assert waits == [delay.total_seconds() for delay in tasks.RETRY_DELAYS]
    # Staff find it in the admin
    admin = admin_client.get("/admin/booking/booking/?needs_attention__exact=1").content.decode()
    assert str(booking.request_id) in admin


def test_a_third_upcoming_booking_at_one_practice_is_refused_with_a_plain_message(world):
    world.slots("A20047", tomorrow_at(11), 3)
    client = signed_in(world.patient)
    for _ in range(2):
        book_first_slot(client, search(client))
        assert "/confirmation/" in press_book(client)["Location"]
    book_first_slot(client, search(client))

    response = press_book(client)

    page = response.content.decode()
    assert response.status_code == 200
    assert "You already have 2 appointments booked at Riverside Medical Practice" in page
    assert "cancel one of" in page
    assert SandboxAppointment.objects.count() == 2
    assert Booking.objects.count() == 2


class RefusesFirstBooking(httpx.AsyncBaseTransport):
    """The practice reads the first booking and refuses it (400); later requests go through."""

    def __init__(self) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.request_ids: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/Appointment"):
            self.request_ids.append(request.headers["X-Request-ID"])
            if len(self.request_ids) == 1:
                outcome = {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "error",
                            "code": "invalid",
                            "details": {
                                "coding": [
                                    {
                                        "system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
                                        "code": "INVALID_RESOURCE",
                                    }
                                ]
                            },
                        }
                    ],
                }
                return httpx.Response(400, json=outcome)
        return await self.inner.handle_async_request(request)


def test_a_refused_booking_is_not_booked_and_trying_again_is_a_new_request(world, ready_to_book):
    client = ready_to_book
    refusing = RefusesFirstBooking()
    with use_transport(refusing):
        refused = press_book(client)

        assert NOT_BOOKED in refused.content.decode()
        failed = Booking.objects.get()
        assert failed.status == Booking.Status.FAILED
        assert failed.outcome_source == Booking.OutcomeSource.REPLY
        assert not settle_tasks()

        again = press_book(client)

    booked = Booking.objects.get(status=Booking.Status.BOOKED)
    assert again["Location"] == f"/appointments/{booked.pk}/confirmation/"
    assert refusing.request_ids == [str(failed.request_id), str(booked.request_id)]
    failed.refresh_from_db()
    assert failed.status == Booking.Status.FAILED


def test_a_booking_left_pending_by_a_request_that_never_finished_is_settled_by_the_safety_net(
    world, ready_to_book, monkeypatch
):
    # Given a booking the practice made, whose request then never recorded the answer (the
    # server stopped, or the database went away, as the reply came back)
    press_book(ready_to_book)
    Booking.objects.update(status=Booking.Status.PENDING, appointment_id="", version_id="")
    assert SandboxAppointment.objects.count() == 1

    # When the worker runs once the safety net's time has come
    later(monkeypatch, minutes=3)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    # Then the same request, sent again, records the practice's booking: nothing lost or doubled
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.BOOKED
    assert booking.appointment_id == str(SandboxAppointment.objects.get().pk)
    assert booking.outcome_source == Booking.OutcomeSource.RESENT


def test_the_safety_net_leaves_a_settled_booking_alone(world, ready_to_book, monkeypatch):
    press_book(ready_to_book)
    booked = Booking.objects.get()
    assert booked.status == Booking.Status.BOOKED

    assert tasks.settle_if_still_pending.call(booked.pk) == "settled already"
    assert Booking.objects.get().outcome_source == booked.outcome_source
