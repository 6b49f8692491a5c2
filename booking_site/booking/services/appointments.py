"""The patient's appointments: the rows the site keeps, brought up to date from the practice,
and cancelling."""

import asyncio

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.booking.models import Booking
from booking_site.practices.directory import endpoint_for


def patient_of(user: User) -> gpconnect.Patient:
    return gpconnect.Patient(user.nhs_number, user.nhs_login_id_token)


def appointment_details(appointment: gpconnect.BookedAppointment, fallback: dict) -> dict:
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


def apply_reply(booking: Booking, appointment: gpconnect.BookedAppointment) -> None:
    booking.appointment_id = appointment.id
    booking.version_id = appointment.version_id or ""
    booking.status = Booking.Status.CANCELLED if appointment.is_cancelled else Booking.Status.BOOKED
    booking.start, booking.end = appointment.start, appointment.end
    booking.slot_ids = list(appointment.slot_ids) or booking.slot_ids
    booking.details = appointment_details(appointment, booking.details)
    if appointment.cancellation_reason:
        booking.cancellation_reason = appointment.cancellation_reason


def bookings_for(user: User):
    """This patient's bookings that a practice has (or may have) accepted, and those it turned
    out not to have booked after the patient was told they were being confirmed."""
    refused_at_once = Q(status=Booking.Status.FAILED) & ~Q(
        outcome_source=Booking.OutcomeSource.RESENT
    )
    return Booking.objects.filter(patient=user).exclude(refused_at_once).select_related("practice")


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
    patient = patient_of(user)
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
            apply_reply(booking, outcome)
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
    patient = patient_of(user)
    current = await gpconnect.read_appointment(
        practice, patient, booking.appointment_id, correlation_id=correlation_id
    )
    if current.is_cancelled:
        apply_reply(booking, current)
    else:
        cancelled = await gpconnect.cancel(
            practice,
            patient,
            current,
            reason,
            request_id=request_id,
            correlation_id=correlation_id,
        )
        apply_reply(booking, cancelled)
        booking.cancellation_reason = booking.cancellation_reason or reason
    await booking.asave()
    return booking


def is_upcoming(booking: Booking) -> bool:
    return booking.end >= timezone.now()
