"""Booking and cancelling appointments at a practice (CONFORMANCE §3, §4, §5.2, §5.3, §7.9–7.17).

Both change state with conditional UPDATEs inside one transaction, never read-then-write, so two
consumers racing for one slot (or one appointment) end with exactly one winner.
"""

import datetime
import itertools
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gp_sandbox import fhir_responses
from gp_sandbox.fhir_responses import FhirError
from gp_sandbox.models import Appointment, Practice, Slot
from gp_sandbox.validation import NewAppointment, parse_cancellation


def _invalid_resource(diagnostics: str) -> FhirError:
    return FhirError(422, "INVALID_RESOURCE", diagnostics)


def _slots_for(practice: Practice, slot_ids: tuple[int, ...]) -> list[Slot]:
    slots = {
        slot.pk: slot
        for slot in Slot.objects.filter(schedule__practice=practice, pk__in=slot_ids)
        .select_related("schedule__location", "schedule__practitioner")
        .order_by("start")
    }
    missing = [f"Slot/{slot_id}" for slot_id in slot_ids if slot_id not in slots]
    if missing:
        raise _invalid_resource(f"{', '.join(missing)} does not exist at this practice")
    return sorted(slots.values(), key=lambda slot: (slot.start, slot.pk))


def _check_slots_form_one_booking(slots: list[Slot], now: datetime.datetime) -> None:
    first = slots[0]
    for slot in slots:
        if slot.delivery_channel == Slot.DeliveryChannel.VISIT:
            raise _invalid_resource(f"Slot/{slot.pk} is a home visit and cannot be booked online")
        if slot.start <= now:
            raise _invalid_resource(
                f"Slot/{slot.pk} starts at {fhir_responses.fhir_datetime(slot.start)}, which is "
                "not in the future"
            )
    for previous, slot in itertools.pairwise(slots):
        if slot.schedule_id != first.schedule_id:
            raise _invalid_resource(
                f"Slot/{previous.pk} and Slot/{slot.pk} belong to different schedules"
            )
        if slot.start != previous.end:
            raise _invalid_resource(
                f"Slot/{previous.pk} and Slot/{slot.pk} are not adjacent (one must start when "
                "the other ends)"
            )
        if (slot.delivery_channel, slot.service_type) != (
            previous.delivery_channel,
            previous.service_type,
        ):
            raise _invalid_resource(
                f"Slot/{previous.pk} and Slot/{slot.pk} differ in delivery channel or service "
                "type, so cannot be booked together"
            )


def _check_request_matches_slots(request: NewAppointment, slots: list[Slot]) -> None:
    """Times, participants and extensions must agree with the diary exactly (§3.1)."""
    first, last = slots[0], slots[-1]
    schedule = first.schedule
    for name, sent, expected, slot in (
        ("start", request.start, fhir_responses.fhir_datetime(first.start), first),
        ("end", request.end, fhir_responses.fhir_datetime(last.end), last),
    ):
        if sent != expected:
            raise _invalid_resource(
                f"Appointment.{name} {sent!r} must be {expected!r}, the {name} of Slot/{slot.pk}, "
                "in exactly that form"
            )
    minutes = int((last.end - first.start).total_seconds() // 60)
    if request.minutes_duration is not None and request.minutes_duration != minutes:
        raise _invalid_resource(
            f"Appointment.minutesDuration is {request.minutes_duration}, but the slots last "
            f"{minutes} minutes"
        )
    location = f"Location/{schedule.location_id}"
    if request.location_reference != location:
        raise _invalid_resource(
            f"The Location participant {request.location_reference} is not the slot's "
            f"location ({location})"
        )
    if request.practitioner_reference is not None:
        practitioner = (
            f"Practitioner/{schedule.practitioner_id}" if schedule.practitioner_id else None
        )
        if request.practitioner_reference != practitioner:
            raise _invalid_resource(
                f"The Practitioner participant {request.practitioner_reference} is not the "
                f"slot's practitioner ({practitioner or 'none'})"
            )
    if request.delivery_channel is not None and request.delivery_channel != (
        first.delivery_channel
    ):
        raise _invalid_resource(
            f"The delivery channel {request.delivery_channel!r} is not the slot's "
            f"({first.delivery_channel or 'none'!r})"
        )
    if request.practitioner_role is not None:
        code, display = request.practitioner_role
        practitioner = schedule.practitioner
        role_code = practitioner.role_code if practitioner else ""
        role_display = practitioner.role_display if practitioner else ""
        if code != role_code or (display is not None and display != role_display):
            raise _invalid_resource(
                f"The practitioner role {code!r} ({display!r}) is not the schedule's "
                f"({role_code or 'none'!r}, {role_display!r})"
            )
    for slot in slots:
        if slot.restricted_ods_code and slot.restricted_ods_code != request.booking_ods_code:
            raise _invalid_resource(
                f"Slot/{slot.pk} is not available to booking organisation "
                f"{request.booking_ods_code}"
            )
        if slot.restricted_org_type and slot.restricted_org_type != request.booking_org_type:
            raise _invalid_resource(
                f"Slot/{slot.pk} is only available to organisations of type "
                f"{slot.restricted_org_type!r}"
            )


def _appointment_resource(request: NewAppointment, slots: list[Slot]) -> dict[str, Any]:
    """The Appointment as stored: what was sent, plus what the provider derives from its diary."""
    first, last = slots[0], slots[-1]
    schedule = first.schedule
    extensions = [request.booking_extension]
    role = fhir_responses.practitioner_role_extension(schedule.practitioner)
    if role:
        extensions.append(role)
    if first.delivery_channel:
        extensions.append(
            {"url": fhir_responses.EXT_DELIVERY_CHANNEL, "valueCode": first.delivery_channel}
        )
    participants = list(request.participants)
    if request.practitioner_reference is None and schedule.practitioner_id:
        participants.append(
            {
                "actor": {"reference": f"Practitioner/{schedule.practitioner_id}"},
                "status": "accepted",
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "meta": {"profile": [fhir_responses.PROFILE_APPOINTMENT]},
        "contained": [request.booking_organisation],
        "extension": extensions,
    }
    if request.identifiers:
        resource["identifier"] = list(request.identifiers)
    resource["status"] = Appointment.Status.BOOKED.value
    if schedule.service_category:
        resource["serviceCategory"] = {"text": schedule.service_category}
    if first.service_type:
        resource["serviceType"] = [{"text": first.service_type}]
    resource |= {
        "description": request.description,
        "start": fhir_responses.fhir_datetime(first.start),
        "end": fhir_responses.fhir_datetime(last.end),
        "minutesDuration": int((last.end - first.start).total_seconds() // 60),
        "slot": [{"reference": f"Slot/{slot.pk}"} for slot in slots],
        "created": fhir_responses.fhir_datetime(request.created),
    }
    if request.comment is not None:
        resource["comment"] = request.comment
    resource["participant"] = participants
    return resource


@transaction.atomic
def book(practice: Practice, request: NewAppointment) -> Appointment:
    """Book the slots for the patient, or refuse: 422 INVALID_RESOURCE when the request does not
    fit the diary, 409 DUPLICATE_REJECTED when a slot is no longer free."""
    slots = _slots_for(practice, request.slot_ids)
    _check_slots_form_one_booking(slots, timezone.now())
    _check_request_matches_slots(request, slots)

    # One conditional UPDATE per slot, in id order so that concurrent multi-slot bookings take
    # row locks in the same order; a zero row count means someone else holds the slot.
    for slot in sorted(slots, key=lambda slot: slot.pk):
        taken = Slot.objects.filter(pk=slot.pk, status=Slot.Status.FREE).update(
            status=Slot.Status.BUSY, version_id=F("version_id") + 1
        )
        if taken != 1:
            raise FhirError(
                409, "DUPLICATE_REJECTED", f"Slot/{slot.pk} is no longer free: it has been booked"
            )

    resource = _appointment_resource(request, slots)
    appointment = Appointment.objects.create(
        practice=practice,
        patient_nhs_number=request.patient_nhs_number,
        start=slots[0].start,
        end=slots[-1].end,
        resource=resource,
    )
    appointment.slots.set(slots)
    appointment.resource = {"resourceType": "Appointment", "id": str(appointment.pk), **resource}
    appointment.save(update_fields=["resource"])
    return appointment


def find_appointment(practice: Practice, appointment_id: str) -> Appointment:
    """The practice's appointment with this id, or 404 NO_RECORD_FOUND."""
    appointment = None
    if appointment_id.isascii() and appointment_id.isdigit() and len(appointment_id) <= 18:
        appointment = Appointment.objects.filter(practice=practice, pk=int(appointment_id)).first()
    if appointment is None:
        raise FhirError(404, "NO_RECORD_FOUND", f"No appointment Appointment/{appointment_id}")
    return appointment


def _version_in(if_match: str) -> str:
    value = if_match.strip()
    value = value.removeprefix("W/")
    return value.strip('"')


def _check_practice_allows_cancelling(
    practice: Practice, appointment: Appointment, now: datetime.datetime
) -> None:
    if practice.cancellation_disabled:
        raise FhirError(403, "ACCESS_DENIED", "Practice has disabled cancellation")
    cutoff = datetime.timedelta(minutes=practice.cancellation_cutoff_minutes)
    if practice.cancellation_cutoff_minutes and appointment.start - now <= cutoff:
        raise FhirError(461, "ACCESS_DENIED", "Too late to cancel appointment")
    if practice.cancellation_refused:
        raise FhirError(409, "ACCESS_DENIED", "Cannot cancel appointment")


@transaction.atomic
def cancel(
    practice: Practice, appointment: Appointment, body: dict, if_match: str | None
) -> Appointment:
    """Cancel the appointment and free its slots, if the PUT body only cancels it (§5.3)."""
    # "*" matches any current version (RFC 9110); anything else must name the current one.
    if if_match not in {None, "*"} and _version_in(if_match) != str(appointment.version_id):
        raise FhirError(
            409,
            "FHIR_CONSTRAINT_VIOLATION",
            f"If-Match {if_match!r} is stale: the current version is "
            f"{fhir_responses.etag(appointment.version_id)}",
        )
    if appointment.status == Appointment.Status.CANCELLED:
        raise _invalid_resource(f"Appointment/{appointment.pk} is already cancelled")
    reason = parse_cancellation(body, str(appointment.pk), appointment.resource)
    now = timezone.now()
    if appointment.start <= now:
        raise _invalid_resource(
            f"Appointment/{appointment.pk} started at "
            f"{fhir_responses.fhir_datetime(appointment.start)}; "
            "past appointments cannot be cancelled"
        )
    _check_practice_allows_cancelling(practice, appointment, now)

    resource = {
        **appointment.resource,
        "status": Appointment.Status.CANCELLED.value,
        "extension": [
            *appointment.resource.get("extension", []),
            {"url": fhir_responses.EXT_CANCELLATION_REASON, "valueString": reason},
        ],
    }
    # Conditional on the version read above: a concurrent cancel makes this one stale.
    updated = Appointment.objects.filter(
        pk=appointment.pk, version_id=appointment.version_id, status=Appointment.Status.BOOKED
    ).update(
        status=Appointment.Status.CANCELLED,
        version_id=F("version_id") + 1,
        resource=resource,
        cancellation_reason=reason,
        last_updated=now,
    )
    if updated != 1:
        raise FhirError(
            409, "FHIR_CONSTRAINT_VIOLATION", f"Appointment/{appointment.pk} changed meanwhile"
        )
    Slot.objects.filter(appointments=appointment, status=Slot.Status.BUSY).update(
        status=Slot.Status.FREE, version_id=F("version_id") + 1
    )
    appointment.refresh_from_db()
    return appointment
