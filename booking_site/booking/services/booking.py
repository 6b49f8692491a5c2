"""Booking a free slot exactly once (docs/adr/0003-booking-exactly-once.md): finding the slot
again, the pending row stored before the practice is asked, the chosen slot kept under its
X-Request-ID, and settling a booking whose first answer never came."""

import contextlib
import datetime

from django.core.cache import cache
from django.db import IntegrityError
from django.http import Http404

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.booking.models import Booking
from booking_site.booking.services.appointments import apply_reply, patient_of
from booking_site.common import practice_search
from booking_site.practices.directory import endpoint_for
from booking_site.practices.models import Practice


async def find_slot(
    user: User,
    practice: Practice,
    dates: gpconnect.DateRange,
    slot_ids: tuple[str, ...],
    *,
    correlation_id: str,
) -> gpconnect.FreeSlot | None:
    """The free slot with these ids at ``practice``, or None if it is no longer free."""
    [result] = await practice_search.search(
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
            patient_of(user),
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
    apply_reply(booking, appointment)
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
