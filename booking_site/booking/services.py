"""The patient journey's services: searching practices, booking, refreshing and cancelling.

Views call these; these call ``booking_site.gpconnect`` (the only code that talks to practices)
and keep the site's own records. Every query for a booking is scoped to the patient.
"""

import asyncio
import contextlib
import datetime
import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.booking.models import Booking
from booking_site.practices.models import Practice


def endpoint_for(practice: Practice) -> gpconnect.PracticeEndpoint:
    return gpconnect.PracticeEndpoint(
        practice.ods_code, practice.name, practice.base_url, practice.phone
    )


def patient_ref(user: User) -> gpconnect.Patient:
    return gpconnect.Patient(user.nhs_number)


def new_correlation_id() -> str:
    """The id that ties together every practice call made for one page request (D9)."""
    return uuid.uuid4().hex


# --- Searching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one practice last said to this patient's search, kept so the page can show progress
    and so a practice that just failed is not asked again until the patient says "try again"."""

    status: str
    count: int = 0
    reason: str = ""
    elapsed_ms: int = 0


def _answer_key(user: User, ods: str, dates: gpconnect.DateRange) -> str:
    raw = f"{user.pk}:{user.is_patient}:{ods}:{dates.start}:{dates.end}"
    return "booking:answer:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


async def _remember(
    user: User, dates: gpconnect.DateRange, result: gpconnect.PracticeResult
) -> None:
    answer = Answer(
        status=str(result.status),
        count=len(result.slots),
        reason=result.reason or "",
        elapsed_ms=result.elapsed_ms,
    )
    await cache.aset(
        _answer_key(user, result.practice.ods_code, dates),
        answer,
        settings.SLOT_CACHE_TTL_SECONDS,
    )


async def answers(
    user: User, practices: list[Practice], dates: gpconnect.DateRange
) -> dict[str, Answer | None]:
    keys = {
        practice.ods_code: _answer_key(user, practice.ods_code, dates) for practice in practices
    }
    found = await cache.aget_many(list(keys.values()))
    return {ods: found.get(key) for ods, key in keys.items()}


def _failed(practice: Practice, answer: Answer) -> gpconnect.PracticeResult:
    return gpconnect.PracticeResult(
        practice=endpoint_for(practice),
        status=gpconnect.ResultStatus.FAILED,
        failure=gpconnect.Unavailable(answer.reason or None),
        elapsed_ms=answer.elapsed_ms,
    )


async def search(
    user: User,
    practices: list[Practice],
    dates: gpconnect.DateRange,
    *,
    correlation_id: str,
    retry: frozenset[str] = frozenset(),
    answered_only: bool = False,
) -> list[gpconnect.PracticeResult | None]:
    """Search every practice at once and return their results in the order given.

    A practice that failed moments ago is not asked again (its failure is shown) unless its ODS
    code is in ``retry``. With ``answered_only``, practices that have not answered yet are not
    asked and come back as None: the progressive page uses this to merge what it has so far.
    Practices that answered are served from the client's short-lived slot cache.
    """
    known = await answers(user, practices, dates)
    to_ask, results = [], {}
    for practice in practices:
        answer = known[practice.ods_code]
        if answer is not None and answer.status == "failed" and practice.ods_code not in retry:
            results[practice.ods_code] = _failed(practice, answer)
        elif answered_only and answer is None:
            results[practice.ods_code] = None
        else:
            to_ask.append(practice)
    if to_ask:
        found = await gpconnect.search_free_slots(
            [endpoint_for(p) for p in to_ask],
            dates,
            # Staff previews search with the service credential: no patient, search only.
            patient_ref(user) if user.is_patient else None,
            correlation_id=correlation_id,
        )
        await asyncio.gather(*(_remember(user, dates, result) for result in found))
        for result in found:
            results[result.practice.ods_code] = result
    return [results[practice.ods_code] for practice in practices]


async def find_slot(
    user: User,
    practice: Practice,
    dates: gpconnect.DateRange,
    slot_ids: tuple[str, ...],
    *,
    correlation_id: str,
) -> gpconnect.FreeSlot | None:
    """The free slot with these ids at ``practice``, or None if it is no longer free."""
    [result] = await search(
        user, [practice], dates, correlation_id=correlation_id, retry=frozenset({practice.ods_code})
    )
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
    results = await search(
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


# --- Booking -----------------------------------------------------------------------------------


class SlotGone(Exception):
    """The chosen slot is no longer free (taken by someone else)."""


class BookingFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _appointment_details(appointment: gpconnect.BookedAppointment, fallback: dict) -> dict:
    """The confirmation's display fields from the practice's reply; the search's only where the
    reply is silent."""
    details = dict(fallback)
    replied = {
        "slot_type": appointment.slot_type,
        "schedule_type": appointment.schedule_type,
        "delivery_channel": appointment.delivery_channel,
        "description": appointment.description,
        "comment": appointment.comment,
    }
    if appointment.practitioner is not None:
        replied["practitioner"] = appointment.practitioner.name
        replied["practitioner_gender"] = appointment.practitioner.gender
        replied["practitioner_role"] = (
            appointment.practitioner.role.display if appointment.practitioner.role else None
        )
    if appointment.location is not None:
        replied["location_name"] = appointment.location.name
        if appointment.location.address:
            replied["location_address"] = ", ".join(appointment.location.address)
    details.update({key: value for key, value in replied.items() if value})
    return details


def _apply_reply(booking: Booking, appointment: gpconnect.BookedAppointment) -> None:
    booking.appointment_id = appointment.id
    booking.version_id = appointment.version_id or ""
    booking.status = Booking.Status.CANCELLED if appointment.is_cancelled else Booking.Status.BOOKED
    booking.start, booking.end = appointment.start, appointment.end
    booking.slot_ids = list(appointment.slot_ids) or booking.slot_ids
    booking.details = _appointment_details(appointment, booking.details)
    if appointment.cancellation_reason:
        booking.cancellation_reason = appointment.cancellation_reason


async def confirm_booking(
    user: User,
    practice: Practice,
    slot: gpconnect.FreeSlot,
    *,
    reason: str,
    note: str,
    phone: str,
    request_id: str,
    correlation_id: str,
) -> Booking:
    """Book ``slot`` once, however often this is called with the same ``request_id``.

    The booking row is stored (pending) before the practice is asked, so the X-Request-ID is
    never lost: a double click, a reload or a retry sends the same id and the practice replays
    its first answer. Raises SlotGone or BookingFailed; a reply that never came leaves the row
    pending, to be settled by the next try.
    """
    # What the patient asked for is kept too, so a pending booking can be re-sent as it was.
    details = {**slot_details(slot), "phone": phone, "asked_reason": reason, "asked_note": note}
    try:
        booking, _ = await Booking.objects.aget_or_create(
            request_id=request_id,
            defaults={
                "patient": user,
                "practice": practice,
                "slot_ids": list(slot.slot_ids),
                "start": slot.start,
                "end": slot.end,
                "details": details,
            },
        )
    except IntegrityError:
        booking = await Booking.objects.aget(request_id=request_id)
    if booking.patient_id != user.pk:
        raise Http404("No such booking")
    if booking.status == Booking.Status.BOOKED:
        return booking
    comment = note
    if phone:
        comment = f"Phone: {phone}" + (f". {note}" if note else "")
    try:
        appointment = await gpconnect.book(
            endpoint_for(practice),
            slot,
            patient_ref(user),
            gpconnect.BookingDetails(reason, comment[: gpconnect.BookingDetails.MAX_COMMENT]),
            request_id=request_id,
            correlation_id=correlation_id,
            created=booking.created,
        )
    except gpconnect.SlotTaken:
        await Booking.objects.filter(pk=booking.pk, status=Booking.Status.PENDING).aupdate(
            status=Booking.Status.FAILED
        )
        raise SlotGone from None
    except gpconnect.Unavailable as error:
        # We cannot know whether the practice booked it: keep it pending under its request id.
        raise BookingFailed(error.message) from None
    except gpconnect.ProviderError as error:
        await Booking.objects.filter(pk=booking.pk, status=Booking.Status.PENDING).aupdate(
            status=Booking.Status.FAILED
        )
        raise BookingFailed(error.message) from None
    _apply_reply(booking, appointment)
    await booking.asave()
    return booking


# A chosen slot is kept (pickled in the cache) under its booking's X-Request-ID, so a retried
# booking re-sends exactly the same request even once the slot no longer shows as free.
SLOT_KEEP_SECONDS = 24 * 60 * 60


def _slot_key(request_id: str) -> str:
    return f"booking:chosen-slot:{request_id}"


async def keep_chosen_slot(request_id: str, slot: gpconnect.FreeSlot) -> None:
    await cache.aset(_slot_key(request_id), slot, SLOT_KEEP_SECONDS)


async def chosen_slot(request_id: str) -> gpconnect.FreeSlot | None:
    return await cache.aget(_slot_key(request_id)) if request_id else None


async def settle_pending(user: User, *, correlation_id: str) -> None:
    """Re-send each of the patient's bookings whose first answer never came, with the same
    X-Request-ID: the practice replays what it did, so a booking it made is stored, never lost,
    and one it refused is marked so."""
    pending = Booking.objects.filter(patient=user, status=Booking.Status.PENDING)
    async for booking in pending.select_related("practice"):
        slot = await chosen_slot(str(booking.request_id))
        if slot is None or not booking.details.get("asked_reason"):
            continue
        with contextlib.suppress(SlotGone, BookingFailed):
            await confirm_booking(
                user,
                booking.practice,
                slot,
                reason=booking.details["asked_reason"],
                note=booking.details.get("asked_note", ""),
                phone=booking.details.get("phone", ""),
                request_id=str(booking.request_id),
                correlation_id=correlation_id,
            )


# --- Your appointments -------------------------------------------------------------------------


def bookings_for(user: User):
    """This patient's bookings that a practice has (or may have) accepted."""
    return (
        Booking.objects.filter(patient=user)
        .exclude(status=Booking.Status.FAILED)
        .select_related("practice")
    )


async def booking_for(user: User, pk: int) -> Booking:
    """One of this patient's bookings; 404 for anyone else's, so existence never leaks."""
    try:
        return await bookings_for(user).aget(pk=pk)
    except (Booking.DoesNotExist, ValueError):
        raise Http404("No such booking") from None


async def refresh(bookings: list[Booking], user: User, *, correlation_id: str) -> dict[int, str]:
    """Bring each booking's status and version up to date from its practice, all at once.

    Returns {booking pk: plain-English problem} for the practices that could not be asked.
    """
    patient = patient_ref(user)
    problems: dict[int, str] = {}
    readable = [b for b in bookings if b.appointment_id]

    outcomes = await asyncio.gather(
        *(
            gpconnect.read_appointment(
                endpoint_for(b.practice), patient, b.appointment_id, correlation_id=correlation_id
            )
            for b in readable
        ),
        return_exceptions=True,
    )
    for booking, outcome in zip(readable, outcomes, strict=True):
        if isinstance(outcome, gpconnect.BookedAppointment):
            _apply_reply(booking, outcome)
            await booking.asave()
        elif isinstance(outcome, gpconnect.ProviderError):
            problems[booking.pk] = outcome.message
        else:
            raise outcome
    return problems


async def cancel_booking(
    user: User, booking: Booking, reason: str, *, request_id: str, correlation_id: str
) -> Booking:
    """Cancel at the practice with the appointment's current version; raises ProviderError
    subclasses (CancellationDisabled, TooLateToCancel, CancellationRefused, ...) on refusal."""
    practice = endpoint_for(booking.practice)
    patient = patient_ref(user)
    current = await gpconnect.read_appointment(
        practice, patient, booking.appointment_id, correlation_id=correlation_id
    )
    if current.is_cancelled:
        _apply_reply(booking, current)
    else:
        cancelled = await gpconnect.cancel(
            practice,
            patient,
            current,
            reason,
            request_id=request_id,
            correlation_id=correlation_id,
        )
        _apply_reply(booking, cancelled)
        booking.cancellation_reason = booking.cancellation_reason or reason
    await booking.asave()
    return booking


def is_upcoming(booking: Booking) -> bool:
    return booking.end >= timezone.now()
