"""The messages the journey sends: a confirmation when the practice confirms a booking (on the
page, or later when one not yet known settles), a reminder the day before, and a confirmation
of a cancellation. Each is queued once (booking_site.notifications) and sent by the worker;
Notify being down never touches a booking."""

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from booking_site.booking.models import Booking
from booking_site.common.formatting import uk_day, uk_today
from booking_site.gpconnect.values import LONDON
from booking_site.notifications import messages
from booking_site.notifications.models import Alert, Notification

# Reminders go at this hour (UK time) the day before the appointment.
REMINDER_HOUR = 9


def booked(booking: Booking) -> None:
    """The practice confirmed ``booking``: call in the transaction that records it (once)."""
    _about(booking, Notification.Kind.BOOKING_CONFIRMED)
    schedule_reminder(booking)
    end_alerts_met_by(booking)


def _about(booking: Booking, kind: Notification.Kind) -> Notification | None:
    """Queue the confirmation or reminder of ``booking`` (once per appointment and kind)."""
    practice = booking.practice
    return messages.queue(
        booking.patient,
        kind=kind,
        key=messages.appointment_key(kind.value, practice, booking.appointment_id),
        practice=practice,
        fields=messages.appointment_fields(
            practice,
            booking.start,
            booking.details,
            reverse("booking:appointment", args=[booking.pk]),
        ),
    )


def reminder_time(start: datetime.datetime) -> datetime.datetime:
    day_before = uk_day(start) - datetime.timedelta(days=1)
    return datetime.datetime.combine(day_before, datetime.time(REMINDER_HOUR), tzinfo=LONDON)


def schedule_reminder(booking: Booking) -> None:
    """Have the worker send the reminder the day before; none for one booked after that time
    (its confirmation has just gone)."""
    # Imported here: the tasks module settles bookings, which queues these messages.
    from booking_site.booking.tasks import send_reminder

    due = reminder_time(booking.start)
    if due > timezone.now():
        send_reminder.using(run_after=due).enqueue(booking.pk)


def remind(booking: Booking) -> str:
    """Queue the reminder for ``booking``, if it is still booked and it is the day before; once.
    A booking the practice moved since is reminded the day before its new time."""
    if booking.status != Booking.Status.BOOKED or booking.start <= timezone.now():
        return "not booked or past: no reminder"
    if uk_today() != uk_day(booking.start) - datetime.timedelta(days=1):
        if reminder_time(booking.start) > timezone.now():
            schedule_reminder(booking)
            return "moved: reminder scheduled for the day before its new time"
        return "not the day before: no reminder"  # "tomorrow" would be wrong
    queued = _about(booking, Notification.Kind.REMINDER)
    return "reminder queued" if queued else "reminded already, or no messages wanted"


def cancelled(user, shown) -> None:
    """The practice cancelled ``shown`` (services.appointments.Shown) at the patient's request."""
    messages.queue(
        user,
        kind=Notification.Kind.BOOKING_CANCELLED,
        key=messages.appointment_key(
            Notification.Kind.BOOKING_CANCELLED.value, shown.practice, shown.appointment_id
        ),
        practice=shown.practice,
        fields=messages.cancelled_fields(shown.practice, shown.start),
    )


def end_alerts_met_by(booking: Booking) -> int:
    """End the patient's alerts that ``booking`` answers: one of their practices, earlier than
    the alert asked (any time, for an alert with no time to beat), by its last day."""
    return (
        Alert.objects.filter(
            patient=booking.patient,
            status=Alert.Status.ACTIVE,
            practices=booking.practice,
            until__gte=uk_day(booking.start),
        )
        .filter(Q(earlier_than__isnull=True) | Q(earlier_than__gt=booking.start))
        .update(status=Alert.Status.BOOKED, ended_at=timezone.now())
    )
