"""Sending a stored booking request, and recording what the practice's answer tells us.

Three outcomes, told truthfully: booked, not booked, and not yet known. Only an answer the
practice gave after reading the request says "not booked" (the slot taken, a 4xx refusal); no
reply, an unreadable one, a 5xx or a refused sign-in leave it not yet known, and the settling
task (booking_site/booking/tasks.py) sends the same request again until the practice says.
"""

import enum

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from booking_site import gpconnect
from booking_site.booking import messages
from booking_site.booking.models import Booking
from booking_site.booking.services.appointments import apply_reply, patient_of
from booking_site.practices.directory import endpoint_for

# Answers the practice gives only after reading the request: it did not book it. A replayed
# X-Request-ID returns the first answer (CONFORMANCE D9), so these stay true when re-sent.
_NOT_BOOKED = (
    gpconnect.SlotTaken,
    gpconnect.InvalidRequest,
    gpconnect.Forbidden,
    gpconnect.NotFound,
)


class Outcome(enum.StrEnum):
    BOOKED = "booked"
    NOT_BOOKED = "not_booked"
    UNKNOWN = "unknown"


async def send(
    booking: Booking, *, source: Booking.OutcomeSource, correlation_id: str
) -> tuple[Outcome, gpconnect.ProviderError | None]:
    """Send ``booking``'s stored request under its X-Request-ID and record a known answer.

    Only a booking still open (pending or unknown) is changed: one the patient was told is not
    booked is never sent again (callers check) and never becomes booked here. Returns the
    outcome and the practice's error, if any. ``booking`` needs ``practice`` and ``patient``.
    """
    request = gpconnect.BookingRequest.from_dict(booking.booking_request)
    try:
        appointment = await gpconnect.send_booking(
            endpoint_for(booking.practice),
            patient_of(booking.patient),
            request,
            request_id=str(booking.request_id),
            correlation_id=correlation_id,
        )
    except _NOT_BOOKED as error:
        await _close(booking, Booking.Status.FAILED, source, problem=error.kind)
        return Outcome.NOT_BOOKED, error
    except gpconnect.ProviderError as error:
        # Recorded by the caller, with the settling attempt that follows it (tasks.mark_unknown).
        return Outcome.UNKNOWN, error
    apply_reply(booking, appointment)
    await _close(booking, booking.status, source, problem="")
    return Outcome.BOOKED, None


async def _close(
    booking: Booking, status: str, source: Booking.OutcomeSource, *, problem: str
) -> None:
    """Record a known outcome, only on a row still open (a concurrent send may have already)."""
    booking.status = status
    booking.outcome_source = source
    booking.settled_at = timezone.now()
    booking.last_problem = problem
    booking.needs_attention = False
    fields = {
        "status": status,
        "outcome_source": source,
        "settled_at": booking.settled_at,
        "last_problem": problem,
        "needs_attention": False,
        "updated": booking.settled_at,
    }
    if status != Booking.Status.FAILED:
        fields.update(
            appointment_id=booking.appointment_id,
            version_id=booking.version_id,
            start=booking.start,
            end=booking.end,
            slot_ids=booking.slot_ids,
            details=booking.details,
            cancellation_reason=booking.cancellation_reason,
        )
    changed = await sync_to_async(_record)(booking, fields)
    if not changed:
        await booking.arefresh_from_db()


def _record(booking: Booking, fields: dict) -> bool:
    """Store the outcome on a row still open and, when the practice booked it, queue what
    follows (confirmation, reminder), in one transaction: told once, and never lost."""
    with transaction.atomic():
        changed = Booking.objects.filter(pk=booking.pk, status__in=Booking.OPEN).update(**fields)
        if changed and fields["status"] == Booking.Status.BOOKED:
            messages.booked(booking)
    return bool(changed)
