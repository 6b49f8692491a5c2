"""Booking a free slot exactly once (docs/adr/0003-booking-exactly-once.md): finding the slot
again, the per-patient limit, the row stored with the whole request before the practice is
asked, and the three outcomes (booked, not booked, not yet known: settled by
booking_site/booking/tasks.py)."""

import contextlib
import datetime
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.booking import tasks
from booking_site.booking.models import Booking
from booking_site.booking.services import settling
from booking_site.booking.services.appointments import patient_of
from booking_site.common import practice_search
from booking_site.practices.directory import endpoint_for
from booking_site.practices.models import Practice

logger = logging.getLogger(__name__)


async def find_slot(
    user: User,
    practice: Practice,
    dates: gpconnect.DateRange,
    slot_ids: tuple[str, ...],
    *,
    correlation_id: str,
) -> gpconnect.FreeSlot | None:
    """The free slot with these ids at ``practice``, or None if it is no longer free. Raises
    SignInAgain when NHS login's proof of who the patient is can no longer be exchanged (the
    practice was never asked, so nothing says the slot has gone)."""
    [result] = await practice_search.search(
        user, [practice], dates, correlation_id=correlation_id, retry=frozenset({practice.ods_code})
    )
    if result is not None and isinstance(result.failure, gpconnect.TokenRefused):
        raise SignInAgain(result.failure.message)
    for slot in result.slots if result else ():
        if slot.slot_ids == slot_ids:
            return slot
    return None


async def nearest_alternatives(
    user: User,
    practices: list[Practice],
    dates: gpconnect.DateRange,
    *,
    taken_practice: str,
    taken_start: datetime.datetime,
    correlation_id: str,
    count: int = 3,
) -> list[gpconnect.FreeSlot]:
    """The ``count`` free slots nearest in time to one just taken: the same practice first."""
    results = await practice_search.search(
        user,
        practices,
        dates,
        correlation_id=correlation_id,
        retry=frozenset(p.ods_code for p in practices),
    )
    slots = [slot for result in results if result for slot in result.slots]
    slots.sort(
        key=lambda slot: (
            slot.practice_ods != taken_practice,
            abs((slot.start - taken_start).total_seconds()),
        )
    )
    return slots[:count]


class SignInAgain(Exception):
    """The patient's NHS login ID token could not be exchanged: nothing was sent or kept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlotGone(Exception):
    """The chosen slot is no longer free (taken by someone else)."""


class BookingFailed(Exception):
    """The practice did not book it (a definite refusal, not a missing answer)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooManyBookings(Exception):
    """The patient already holds the most upcoming appointments allowed at this practice."""

    def __init__(self, held: int, limit: int) -> None:
        super().__init__(f"{held} upcoming bookings, limit {limit}")
        self.held = held
        self.limit = limit


def slot_details(slot: gpconnect.FreeSlot) -> dict:
    """The display fields of a free slot, as kept in the journey and on the booking."""
    practitioner = slot.practitioner
    return {
        "practice_ods": slot.practice_ods,
        "practice_name": slot.practice_name,
        "slot_ids": list(slot.slot_ids),
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "slot_type": slot.slot_type or "",
        "schedule_type": slot.schedule_type or "",
        "delivery_channel": slot.delivery_channel or "",
        "practitioner": practitioner.name if practitioner and practitioner.name else "",
        "practitioner_gender": practitioner.gender if practitioner and practitioner.gender else "",
        "practitioner_role": slot.role.display if slot.role else "",
        "location_name": slot.location.name or "",
        "location_address": ", ".join(slot.location.address),
        "location_phone": slot.location.phone or "",
    }


async def confirm_booking(
    user: User,
    practice: Practice,
    slot: gpconnect.FreeSlot | None,
    *,
    reason: str,
    note: str,
    phone: str,
    request_id: str,
    correlation_id: str,
) -> Booking:
    """Book ``slot`` once, however often this is called with the same ``request_id``.

    The first call checks the patient's limit at this practice (TooManyBookings) and stores the
    row with the whole request before the practice is asked; later calls with the same id use
    that row (``slot`` may then be None). Returns the booking: booked, or ``unknown`` when the
    practice's answer did not say (the settling task is then scheduled). Raises SlotGone or
    BookingFailed when the practice did not book it; a row it did not book is never sent again.
    """
    booking = await _booking_with_request_id(user, request_id)
    stored_now = booking is None
    if booking is None:
        if slot is None:
            raise ValueError("A new booking needs the slot")
        booking = await _store(
            user,
            practice,
            slot,
            _request(user, practice, slot, reason=reason, note=note, phone=phone),
            request_id=request_id,
        )
    if booking.status == Booking.Status.FAILED:
        if booking.last_problem == gpconnect.SlotTaken.kind:
            raise SlotGone
        raise BookingFailed("The practice could not book this appointment.")
    if booking.status == Booking.Status.PENDING:
        # The first time, or a second click while the first is still waiting: the practice
        # replays its answer to the same request. A row already unknown is the task's to settle.
        outcome, error = await settling.send(
            booking, source=Booking.OutcomeSource.REPLY, correlation_id=correlation_id
        )
        if stored_now and isinstance(error, gpconnect.TokenRefused):
            # NHS login's proof would not be exchanged: nothing reached the practice, so
            # nothing is kept; the patient signs in again and books from the same page.
            await booking.adelete()
            raise SignInAgain(error.message)
        if outcome == settling.Outcome.UNKNOWN:
            await sync_to_async(tasks.mark_unknown)(booking.pk, error.kind if error else "")
            booking.status = Booking.Status.UNKNOWN
        elif isinstance(error, gpconnect.SlotTaken):
            raise SlotGone
        elif error is not None:
            raise BookingFailed(error.message)
    return booking


def _request(
    user: User, practice: Practice, slot: gpconnect.FreeSlot, *, reason: str, note: str, phone: str
) -> tuple[gpconnect.BookingRequest, datetime.datetime, dict]:
    """The request to store and send, its ``created`` time, and the display details kept."""
    comment = note
    if phone:
        comment = f"Phone: {phone}" + (f". {note}" if note else "")
    created = timezone.now()
    try:
        request = gpconnect.booking_request(
            endpoint_for(practice),
            slot,
            patient_of(user),
            gpconnect.BookingDetails(reason, comment[: gpconnect.BookingDetails.MAX_COMMENT]),
            created=created,
        )
    except ValueError:
        # Never sent, so certainly not booked.
        raise BookingFailed("We could not send this booking to the practice.") from None
    details = {**slot_details(slot), "phone": phone, "asked_reason": reason, "asked_note": note}
    return request, created, details


async def _booking_with_request_id(user: User, request_id: str) -> Booking | None:
    booking = (
        await Booking.objects.select_related("practice", "patient")
        .filter(request_id=request_id)
        .afirst()
    )
    if booking is not None and booking.patient_id != user.pk:
        raise Http404("No such booking")
    return booking


async def _store(
    user: User,
    practice: Practice,
    slot: gpconnect.FreeSlot,
    prepared: tuple[gpconnect.BookingRequest, datetime.datetime, dict],
    *,
    request_id: str,
) -> Booking:
    # IntegrityError: a concurrent confirmation with the same id stored it first.
    with contextlib.suppress(IntegrityError):
        await sync_to_async(_store_within_limit)(user, practice, slot, prepared, request_id)
    booking = await _booking_with_request_id(user, request_id)
    assert booking is not None
    return booking


def _store_within_limit(
    user: User,
    practice: Practice,
    slot: gpconnect.FreeSlot,
    prepared: tuple[gpconnect.BookingRequest, datetime.datetime, dict],
    request_id: str,
) -> None:
    """Store the booking unless the patient is at their limit of upcoming appointments at this
    practice (booked, or possibly booked). The patient's row is locked while counting, so
    confirmations sent at the same moment are counted one after another (PostgreSQL; SQLite
    writes one transaction at a time anyway)."""
    request, created, details = prepared
    limit = settings.MAX_UPCOMING_BOOKINGS_PER_PRACTICE
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        if Booking.objects.filter(request_id=request_id).exists():
            return
        held = upcoming_at(user, practice).count()
        if held >= limit:
            raise TooManyBookings(held, limit)
        booking = Booking.objects.create(
            request_id=request_id,
            patient=user,
            practice=practice,
            slot_ids=list(slot.slot_ids),
            start=slot.start,
            end=slot.end,
            details=details,
            booking_request=request.as_dict(),
            created=created,
        )
        # Never pending with nothing to settle it, whatever happens to this request next.
        tasks.schedule_safety_net(booking.pk)


def upcoming_at(user: User, practice: Practice):
    """The patient's upcoming bookings at ``practice`` that the practice holds or may hold."""
    return Booking.objects.filter(
        patient=user,
        practice=practice,
        status__in=Booking.MAYBE_BOOKED,
        end__gte=timezone.now(),
    )


# A chosen slot is kept (pickled in the cache) under the journey's X-Request-ID between choosing
# it and confirming, so the first booking need not search again. Once the booking is stored, its
# row holds the request and the cache is no longer needed.
SLOT_KEEP_SECONDS = 24 * 60 * 60


def _slot_key(request_id: str) -> str:
    return f"booking:chosen-slot:{request_id}"


async def keep_chosen_slot(request_id: str, slot: gpconnect.FreeSlot) -> None:
    try:
        await cache.aset(_slot_key(request_id), slot, SLOT_KEEP_SECONDS)
    except Exception as error:  # a convenience: without it, confirming searches again
        logger.warning("cache unavailable op=set error=%s", type(error).__name__)


async def chosen_slot(request_id: str) -> gpconnect.FreeSlot | None:
    if not request_id:
        return None
    try:
        return await cache.aget(_slot_key(request_id))
    except Exception as error:
        logger.warning("cache unavailable op=get error=%s", type(error).__name__)
        return None
