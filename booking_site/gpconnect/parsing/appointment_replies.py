"""Appointment replies → ``BookedAppointment``: a booking's, a read's or a cancellation's reply,
and a patient's searchset of appointments. Appointments are validated in full with
``fhir.resources.STU3``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone
from fhir.resources.STU3.appointment import Appointment as FhirAppointment
from pydantic import ValidationError

from booking_site.gpconnect.errors import InvalidReply
from booking_site.gpconnect.fhir_urls import (
    CANCELLATION_REASON_URL,
    DELIVERY_CHANNEL_URL,
    PRACTITIONER_ROLE_URL,
)
from booking_site.gpconnect.parsing.bundles import (
    is_fhir_id,
    log_skipped,
    ref_key,
    searchset_resources,
)
from booking_site.gpconnect.parsing.stu3 import problem_in
from booking_site.gpconnect.parsing.supporting_resources import SupportingResources
from booking_site.gpconnect.values import (
    LONDON,
    BookedAppointment,
    Clinician,
    JobRole,
    Patient,
    PracticeEndpoint,
    Surgery,
    instant,
)


class NotThePatients(Exception):
    """The appointment does not have the signed-in patient as a participant."""


def version_from(etag: str | None, resource: Mapping[str, Any] | None = None) -> str | None:
    """The version from ``ETag: W/"3"`` or, failing that, ``meta.versionId``."""
    if etag:
        value = etag.strip()
        if value.startswith("W/"):
            value = value[2:]
        value = value.strip('"')
        if value:
            return value
    meta = resource.get("meta") if resource else None
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return version if isinstance(version, str) and version else None


def parse_appointment(
    resource: Any,
    practice: PracticeEndpoint,
    patient: Patient | None,
    *,
    supporting: SupportingResources | None = None,
    known: Mapping[str, Surgery | Clinician] | None = None,
    etag: str | None = None,
) -> BookedAppointment:
    """One Appointment resource → ``BookedAppointment``.

    Raises InvalidReply if it is not a valid STU3 Appointment with an id, start and end, and
    NotThePatients if ``patient`` is given and is not one of its participants.
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise InvalidReply(diagnostics="The reply is not a FHIR Appointment")
    supporting = supporting or SupportingResources([], practice.ods_code)
    cleaned, carried = _with_participant_resources(resource, supporting)
    try:
        model = FhirAppointment.model_validate(cleaned)
    except (ValidationError, ValueError, TypeError) as error:
        raise InvalidReply(diagnostics=f"Appointment {problem_in(error)}") from None
    start, end = _london(model.start), _london(model.end)
    if not model.id or start is None or end is None:
        raise InvalidReply(diagnostics="Appointment without id, start or end")
    actors = [ref_key(p.actor.reference) for p in model.participant or () if p.actor is not None]
    actors += carried
    if patient is not None and f"Patient/{patient.nhs_number}" not in actors:
        raise NotThePatients
    known = known or {}
    role = _role_from(model.extension)
    location = _surgery(actors, supporting, known)
    practitioner = _clinician(actors, supporting, known, role)
    reason = next(
        (
            e.valueString
            for e in model.extension or ()
            if e.url == CANCELLATION_REASON_URL and e.valueString
        ),
        None,
    )
    slot_ids = tuple(
        key.split("/", 1)[1]
        for key in (ref_key(s.reference) for s in model.slot or ())
        if key and key.startswith("Slot/")
    )
    return BookedAppointment(
        practice=practice,
        id=model.id,
        version_id=version_from(etag, resource),
        status=model.status,
        start=start,
        end=end,
        slot_ids=slot_ids,
        description=model.description,
        comment=model.comment,
        created=_london(model.created),
        location=location,
        practitioner=practitioner,
        delivery_channel=_channel_from(model.extension),
        slot_type=_text(model.serviceType[0]) if model.serviceType else None,
        schedule_type=_text(model.serviceCategory),
        cancellation_reason=reason,
        source_json=json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
    )


def parse_appointment_list(
    doc: Any, practice: PracticeEndpoint, patient: Patient
) -> tuple[BookedAppointment, ...]:
    """The patient's appointments in a searchset, earliest first; bad ones skipped and logged."""
    resources = searchset_resources(doc)
    appointments = [r for r in resources if r.get("resourceType") == "Appointment"]
    supporting = SupportingResources(
        [r for r in resources if r.get("resourceType") != "Appointment"], practice.ods_code
    )
    out = []
    for resource in appointments:
        try:
            out.append(parse_appointment(resource, practice, patient, supporting=supporting))
        except InvalidReply as error:
            log_skipped(
                practice.ods_code, "Appointment", resource.get("id"), error.diagnostics or ""
            )
        except NotThePatients:
            log_skipped(practice.ods_code, "Appointment", resource.get("id"), "another patient's")
    return tuple(sorted(out, key=lambda a: (instant(a.start), a.id)))


def _with_participant_resources(
    resource: dict, supporting: SupportingResources
) -> tuple[dict, list[str]]:
    """The Appointment to validate, and the ``Type/id`` of participants given as whole resources.

    Deviation (CONFORMANCE D7, §5.2): the NHS patient-facing API's examples put whole
    Practitioner and Location resources in ``participant[].resource``, beside an ``actor`` or
    (in its read example) with no ``actor`` or ``status`` at all. The resources join the reply's
    supporting resources; a participant that is only a resource is left out of what is
    validated and counts as an actor by its ``Type/id``. The resource as read is untouched:
    a cancellation sends it back as it came.
    """
    participants = resource.get("participant")
    if not isinstance(participants, list):
        return resource, []
    cleaned, carried = [], []
    for participant in participants:
        if isinstance(participant, dict) and "resource" in participant:
            participant = dict(participant)
            inner = participant.pop("resource")
            actor = participant.get("actor")
            key = ref_key(actor.get("reference")) if isinstance(actor, dict) else None
            if isinstance(inner, dict):
                own = f"{inner.get('resourceType')}/{inner.get('id')}"
                if is_fhir_id(inner.get("id")) and isinstance(inner.get("resourceType"), str):
                    supporting.add(own, inner)
                    if key is None:
                        carried.append(own)
                if key and key != own:
                    supporting.add(key, inner)
            if key is None:
                continue
        cleaned.append(participant)
    return {**resource, "participant": cleaned}, carried


def _surgery(
    actors: list[str | None], supporting: SupportingResources, known: Mapping[str, Any]
) -> Surgery | None:
    """The first Location participant the reply or the caller can name, else the first."""
    keys = [key for key in actors if key and key.startswith("Location/")]
    for key in keys:
        if key in supporting.index:
            return supporting.surgery(key)[0]
        if isinstance(known.get(key), Surgery):
            return known[key]
    return Surgery(keys[0].split("/", 1)[1]) if keys else None


def _clinician(
    actors: list[str | None],
    supporting: SupportingResources,
    known: Mapping[str, Any],
    role: JobRole | None,
) -> Clinician | None:
    """The first Practitioner participant the reply or the caller can name, else the first."""
    keys = [key for key in actors if key and key.startswith("Practitioner/")]
    for key in keys:
        if key in supporting.index:
            return supporting.clinician(key, role)
        if isinstance(known.get(key), Clinician):
            return known[key]
    return Clinician(keys[0].split("/", 1)[1], None, None, role) if keys else None


def _text(concept: Any) -> str | None:
    return concept.text if concept is not None and concept.text else None


def _london(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        return value.replace(tzinfo=LONDON)
    return value.astimezone(LONDON)


def _role_from(extensions: Any) -> JobRole | None:
    for ext in extensions or ():
        if ext.url == PRACTITIONER_ROLE_URL and ext.valueCodeableConcept is not None:
            for coding in ext.valueCodeableConcept.coding or ():
                if coding.code:
                    return JobRole(coding.code, coding.display or "")
    return None


def _channel_from(extensions: Any) -> str | None:
    for ext in extensions or ():
        if ext.url == DELIVERY_CHANNEL_URL and ext.valueCode:
            return ext.valueCode
    return None
