"""Booking, listing, reading and cancelling a patient's appointments at one practice
(CONFORMANCE §3–§5)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from django.utils import timezone

from booking_site.gpconnect import caching, config, requests, sessions
from booking_site.gpconnect.errors import BOOK, CANCEL, LIST, READ, InvalidReply, NotFound
from booking_site.gpconnect.parsing.appointment_replies import (
    NotThePatients,
    parse_appointment,
    parse_appointment_list,
)
from booking_site.gpconnect.parsing.bundles import is_fhir_id, load_json, log_unusable
from booking_site.gpconnect.values import (
    BookedAppointment,
    BookingDetails,
    BookingRequest,
    Clinician,
    DateRange,
    FreeSlot,
    Patient,
    PracticeEndpoint,
    Surgery,
    instant,
)


def _check_request_id(request_id: str) -> None:
    try:
        parsed = uuid.UUID(request_id)
    except (ValueError, TypeError, AttributeError):
        parsed = None
    if parsed is None or parsed.version != 4 or str(parsed) != request_id.lower():
        raise ValueError("request_id must be a UUID4 string like str(uuid.uuid4())")


def _parsed[T](practice: PracticeEndpoint, operation: str, parse: Callable[[], T]) -> T:
    """``parse()`` of a 2xx reply; a reply it cannot use is logged with the reason (D7)."""
    try:
        return parse()
    except InvalidReply as error:
        log_unusable(practice.ods_code, operation, error.diagnostics)
        raise


def _unusable(practice: PracticeEndpoint, operation: str, problem: str) -> InvalidReply:
    log_unusable(practice.ods_code, operation, problem)
    return InvalidReply(diagnostics=problem)


def _deadline() -> float:
    return asyncio.get_running_loop().time() + config.current().deadline


def _are_adjacent(first: FreeSlot, then: FreeSlot) -> bool:
    """Whether ``then`` directly follows ``first`` so both can be booked as one appointment
    (CONFORMANCE §2.4): B.start == A.end, same schedule, same delivery channel, same slot type."""
    return (
        instant(then.start) == instant(first.end)
        and first.practice_ods == then.practice_ods
        and first.schedule.id == then.schedule.id
        and first.delivery_channel == then.delivery_channel
        and first.slot_type == then.slot_type
    )


def booking_request(
    practice: PracticeEndpoint,
    slots: FreeSlot | Sequence[FreeSlot],
    patient: Patient,
    details: BookingDetails,
    *,
    created: datetime,
) -> BookingRequest:
    """The booking of ``slots`` (one, or adjacent ones of one schedule) for ``patient``, built
    but not sent: store it (``as_dict``) with its X-Request-ID before sending it, and any repeat
    (``send_booking``) is the same request byte for byte. ``created`` is the Appointment's
    ``created``: the time the caller stored the booking. ValueError for slots that cannot be
    booked together or at this practice (nothing is sent)."""
    chain = [slots] if isinstance(slots, FreeSlot) else list(slots)
    if not chain:
        raise ValueError("Nothing to book")
    if any(slot.practice_ods != practice.ods_code for slot in chain):
        raise ValueError("Every slot must belong to the practice booked at")
    for first, then in itertools.pairwise(chain):
        if not _are_adjacent(first, then):
            raise ValueError("Slots booked together must be adjacent (CONFORMANCE §2.4)")
    schedule = chain[0].schedule
    return BookingRequest(
        practice_ods=practice.ods_code,
        body=requests.booking_body(chain, patient, details, config.current(), created),
        location=schedule.location,
        practitioner=schedule.practitioner,
    )


async def send_booking(
    practice: PracticeEndpoint,
    patient: Patient,
    request: BookingRequest,
    *,
    request_id: str,
    correlation_id: str,
) -> BookedAppointment:
    """Send a booking built by ``booking_request`` (first time or again) under ``request_id``.

    ``request_id`` is the X-Request-ID: a UUID4 the caller stores with the request before
    sending it, and passes again with it for any repeat, so the practice can tell it is the same
    request and never books twice (CONFORMANCE D9). Returns the appointment as the practice's
    reply describes it; raises ``SlotTaken``, ``Forbidden``, ``Unavailable``, … otherwise.
    """
    _check_request_id(request_id)
    if request.practice_ods != practice.ods_code:
        raise ValueError("The booking request belongs to another practice")
    try:
        reply = await sessions.current().exchange(
            practice_ods=practice.ods_code,
            operation=BOOK,
            method="POST",
            url=practice.url("Appointment"),
            host=practice.host,
            request_id=request_id,
            correlation_id=correlation_id,
            deadline=_deadline(),
            patient=patient,
            content=request.body,
        )
    finally:
        # Whatever happened, what was cached about this practice's free slots may be stale.
        await caching.invalidate_practice(practice.ods_code)
    known: dict[str, Surgery | Clinician] = {f"Location/{request.location.id}": request.location}
    if request.practitioner is not None:
        known[f"Practitioner/{request.practitioner.id}"] = request.practitioner
    try:
        return _parsed(
            practice,
            BOOK,
            lambda: parse_appointment(
                load_json(reply.content), practice, patient, known=known, etag=reply.etag
            ),
        )
    except NotThePatients:
        raise _unusable(practice, BOOK, "The booked appointment names another patient") from None


async def book(
    practice: PracticeEndpoint,
    slots: FreeSlot | Sequence[FreeSlot],
    patient: Patient,
    details: BookingDetails,
    *,
    request_id: str,
    correlation_id: str,
    created: datetime | None = None,
) -> BookedAppointment:
    """Build and send a booking in one step (``booking_request`` then ``send_booking``).

    A caller that may repeat the booking should store the ``booking_request`` and send that
    again instead: a repeat must be the same request, byte for byte (a practice refuses a known
    X-Request-ID carrying a different body).
    """
    _check_request_id(request_id)
    request = booking_request(practice, slots, patient, details, created=created or timezone.now())
    return await send_booking(
        practice, patient, request, request_id=request_id, correlation_id=correlation_id
    )


async def patient_appointments(
    practice: PracticeEndpoint,
    patient: Patient,
    date_range: DateRange,
    *,
    correlation_id: str | None = None,
    past_limit: int = 0,
) -> tuple[BookedAppointment, ...]:
    """The patient's appointments at the practice starting in ``date_range``, cancelled ones
    included, earliest first. Days before today are left out (providers refuse them); with
    ``past_limit``, up to that many past appointments come too (``past-appt-limit``, PFS)."""
    start = max(date_range.start, timezone.localdate())
    if date_range.end < start:
        return ()
    query = requests.appointments_query(DateRange(start, date_range.end), past_limit=past_limit)
    reply = await sessions.current().exchange(
        practice_ods=practice.ods_code,
        operation=LIST,
        method="GET",
        url=f"{practice.url(f'Patient/{patient.nhs_number}/Appointment')}?{query}",
        host=practice.host,
        request_id=str(uuid.uuid4()),
        correlation_id=correlation_id,
        deadline=_deadline(),
        patient=patient,
    )
    return _parsed(
        practice, LIST, lambda: parse_appointment_list(load_json(reply.content), practice, patient)
    )


async def read_appointment(
    practice: PracticeEndpoint,
    patient: Patient,
    appointment_id: str,
    *,
    correlation_id: str | None = None,
) -> BookedAppointment:
    """One appointment, with the version (ETag, else meta.versionId) and the resource exactly as
    read, which is what ``cancel`` sends back. NotFound if it is not this patient's."""
    if not isinstance(appointment_id, str) or not is_fhir_id(appointment_id):
        raise NotFound("We could not find this appointment at the practice.")
    reply = await sessions.current().exchange(
        practice_ods=practice.ods_code,
        operation=READ,
        method="GET",
        url=practice.url(f"Appointment/{appointment_id}"),
        host=practice.host,
        request_id=str(uuid.uuid4()),
        correlation_id=correlation_id,
        deadline=_deadline(),
        patient=patient,
    )
    try:
        return _parsed(
            practice,
            READ,
            lambda: parse_appointment(load_json(reply.content), practice, patient, etag=reply.etag),
        )
    except NotThePatients:
        raise NotFound("We could not find this appointment at the practice.") from None


async def cancel(
    practice: PracticeEndpoint,
    patient: Patient,
    appointment: BookedAppointment,
    reason: str,
    *,
    request_id: str,
    correlation_id: str | None = None,
) -> BookedAppointment:
    """Cancel ``appointment`` (as last read) with the patient's ``reason``.

    Sends the read copy unmodified apart from status and reason, with ``If-Match`` on its
    version. Raises ``CancellationDisabled``, ``TooLateToCancel``, ``CancellationRefused``,
    ``VersionConflict`` (read it again), ``Unavailable``, … when the practice says no.
    """
    _check_request_id(request_id)
    reason = reason.strip()
    if not reason:
        raise ValueError("A cancellation needs a reason")
    if appointment.practice.ods_code != practice.ods_code:
        raise ValueError("The appointment belongs to another practice")
    headers = {}
    if appointment.version_id:
        headers["If-Match"] = f'W/"{appointment.version_id}"'
    try:
        reply = await sessions.current().exchange(
            practice_ods=practice.ods_code,
            operation=CANCEL,
            method="PUT",
            url=practice.url(f"Appointment/{appointment.id}"),
            host=practice.host,
            request_id=request_id,
            correlation_id=correlation_id,
            deadline=_deadline(),
            patient=patient,
            content=requests.cancellation_body(appointment.source_json, reason),
            extra_headers=headers,
        )
    finally:
        await caching.invalidate_practice(practice.ods_code)
    known: dict[str, Surgery | Clinician] = {}
    if appointment.location is not None:
        known[f"Location/{appointment.location.id}"] = appointment.location
    if appointment.practitioner is not None:
        known[f"Practitioner/{appointment.practitioner.id}"] = appointment.practitioner
    try:
        return _parsed(
            practice,
            CANCEL,
            lambda: parse_appointment(
                load_json(reply.content), practice, patient, known=known, etag=reply.etag
            ),
        )
    except NotThePatients:
        raise _unusable(
            practice, CANCEL, "The cancelled appointment names another patient"
        ) from None
