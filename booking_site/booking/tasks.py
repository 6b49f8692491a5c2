"""Settling bookings whose outcome is not yet known, in the background (django.tasks, run by
django-tasks-db's `manage.py db_worker`), never on a patient's page view.

Each attempt sends the booking's stored request again with the same X-Request-ID: the practice
replays its first answer (CONFORMANCE D9), or books it now if the first request never reached it.
Attempts are bounded and back off (``RETRY_DELAYS``); a booking still unknown after the last is
flagged for staff attention in the admin.
"""

import datetime
import logging

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from booking_site import gpconnect
from booking_site.booking import messages
from booking_site.booking.models import Booking
from booking_site.booking.services import settling
from booking_site.common import practice_search

logger = logging.getLogger(__name__)

# When each attempt runs, after the one before (the first after the booking itself): five
# attempts over about half an hour.
RETRY_DELAYS = (
    datetime.timedelta(seconds=15),
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=3),
    datetime.timedelta(minutes=10),
    datetime.timedelta(minutes=15),
)


# A booking is stored (pending) before the practice is asked. Should the request that records
# the practice's answer never finish (the server stopped mid-request, or the database went away
# as the answer came back), this check settles it: long after any request could still be running.
SAFETY_NET = datetime.timedelta(minutes=2)


@task
def settle_if_still_pending(booking_id: int) -> str:
    """Settle a booking still pending ``SAFETY_NET`` after it was stored; anything else (booked,
    not booked, or unknown with its own attempts scheduled) is left as it is."""
    return async_to_sync(_settle)(booking_id, statuses=(Booking.Status.PENDING,))


def schedule_safety_net(booking_id: int) -> None:
    """Call in the transaction that stores the pending booking."""
    settle_if_still_pending.using(run_after=timezone.now() + SAFETY_NET).enqueue(booking_id)


@task
def settle_booking(booking_id: int) -> str:
    """Learn what the practice did with one booking whose outcome is not yet known.

    Sync on purpose: it runs in the worker process, not on the server's event loop, so it may
    drive the async GP Connect client with ``async_to_sync`` (which runs it on a loop of its own).
    """
    return async_to_sync(_settle)(booking_id)


async def _settle(booking_id: int, statuses=Booking.OPEN) -> str:
    booking = (
        await Booking.objects.select_related("practice", "patient")
        .filter(pk=booking_id, status__in=statuses)
        .afirst()
    )
    if booking is None:
        return "settled already"
    if not booking.booking_request:
        # Stored before requests were kept with bookings: nothing to send again.
        await Booking.objects.filter(pk=booking.pk).aupdate(needs_attention=True)
        return "needs staff attention"
    attempt = booking.settle_attempts + 1
    await Booking.objects.filter(pk=booking.pk).aupdate(settle_attempts=attempt)
    # A private client for this loop, closed when done: the worker has no server lifespan.
    async with gpconnect.session():
        outcome, error = await settling.send(
            booking,
            source=Booking.OutcomeSource.RESENT,
            correlation_id=practice_search.new_correlation_id(),
        )
    if outcome != settling.Outcome.UNKNOWN:
        logger.info("booking %s settled: %s after %d attempts", booking.pk, outcome, attempt)
        return str(outcome)
    problem = error.kind if error else ""
    if attempt < len(RETRY_DELAYS):
        await sync_to_async(mark_unknown)(booking.pk, problem, delay=RETRY_DELAYS[attempt])
        return f"still unknown ({problem}) after attempt {attempt}"
    await Booking.objects.filter(pk=booking.pk, status=Booking.Status.UNKNOWN).aupdate(
        needs_attention=True
    )
    logger.warning(
        "booking %s still unknown after %d attempts: staff attention", booking.pk, attempt
    )
    return "needs staff attention"


def mark_unknown(
    booking_id: int, problem: str, *, delay: datetime.timedelta = RETRY_DELAYS[0]
) -> None:
    """Record that the practice's answer is not yet known and schedule the next settling
    attempt, in one transaction: a booking is never left unknown with nothing to settle it."""
    with transaction.atomic():
        Booking.objects.filter(pk=booking_id, status__in=Booking.OPEN).update(
            status=Booking.Status.UNKNOWN, last_problem=problem, updated=timezone.now()
        )
        settle_booking.using(run_after=timezone.now() + delay).enqueue(booking_id)


@task
def send_reminder(booking_id: int) -> str:
    """The day-before reminder (scheduled when the practice confirmed the booking): queued only
    for a booking still booked and still to come, and only once however often this runs."""
    booking = Booking.objects.select_related("practice", "patient").filter(pk=booking_id).first()
    if booking is None:
        return "no such booking"
    return messages.remind(booking)
