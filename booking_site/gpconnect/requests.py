"""What the site sends to practices: search queries, booking and cancellation bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from booking_site.gpconnect.config import ClientConfig
from booking_site.gpconnect.fhir_urls import (
    APPOINTMENT_PROFILE,
    BOOKING_ORGANISATION_URL,
    CANCELLATION_REASON_URL,
    ODS_SYSTEM,
    ORG_TYPE_SYSTEM,
    ORGANIZATION_PROFILE,
)
from booking_site.gpconnect.values import LONDON, BookingDetails, DateRange, FreeSlot, Patient


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Values fully percent-encoded: ``|``, ``:`` and ``+`` must not reach a provider raw
    (a raw ``+`` in ``+01:00`` would be read as a space)."""
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params)


def slot_search_query(window: DateRange, cfg: ClientConfig) -> str:
    """One ≤14-day window: whole UK days, ``ge`` first day and ``le`` last day, both included."""
    return encode_query(
        [
            ("start", f"ge{window.start.isoformat()}"),
            ("end", f"le{window.end.isoformat()}"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
            ("_include:recurse", "Schedule:actor:Practitioner"),
            ("_include:recurse", "Schedule:actor:Location"),
            ("_include:recurse", "Location:managingOrganization"),
            ("searchFilter", f"{ODS_SYSTEM}|{cfg.booking_org_ods}"),
            ("searchFilter", f"{ORG_TYPE_SYSTEM}|{cfg.booking_org_type}"),
        ]
    )


def appointments_query(date_range: DateRange, *, past_limit: int = 0) -> str:
    pairs = [
        ("start", f"ge{date_range.start.isoformat()}"),
        ("start", f"le{date_range.end.isoformat()}"),
        ("_include:recurse", "Appointment:actor:Practitioner"),
        ("_include:recurse", "Appointment:actor:Location"),
    ]
    if past_limit:
        # PFS only (CONFORMANCE §5.1): also up to this many past appointments.
        pairs.append(("past-appt-limit", str(past_limit)))
    return encode_query(pairs)


def fhir_datetime(value: datetime) -> str:
    """``yyyy-mm-ddThh:mm:ss+hh:mm`` in UK local time."""
    return value.astimezone(LONDON).replace(microsecond=0).isoformat()


def _dumps(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def booking_body(
    slots: Sequence[FreeSlot],
    patient: Patient,
    details: BookingDetails,
    cfg: ClientConfig,
    created: datetime,
) -> bytes:
    """The Appointment to POST for adjacent ``slots`` of one schedule (CONFORMANCE §3.1)."""
    first, last = slots[0], slots[-1]
    schedule = first.schedule
    participants = [
        {"actor": {"reference": f"Patient/{patient.nhs_number}"}, "status": "accepted"},
        {"actor": {"reference": f"Location/{schedule.location.id}"}, "status": "accepted"},
    ]
    if schedule.practitioner is not None:
        participants.append(
            {
                "actor": {"reference": f"Practitioner/{schedule.practitioner.id}"},
                "status": "accepted",
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "meta": {"profile": [APPOINTMENT_PROFILE]},
        "contained": [
            {
                "resourceType": "Organization",
                "id": "1",
                "meta": {"profile": [ORGANIZATION_PROFILE]},
                "identifier": [{"system": ODS_SYSTEM, "value": cfg.booking_org_ods}],
                "type": [{"coding": [{"system": ORG_TYPE_SYSTEM, "code": cfg.booking_org_type}]}],
                "name": cfg.booking_org_name,
                "telecom": [{"system": "phone", "value": cfg.booking_org_phone}],
            }
        ],
        "extension": [{"url": BOOKING_ORGANISATION_URL, "valueReference": {"reference": "#1"}}],
        "status": "booked",
        "description": details.description,
        # String-identical to the provider's own slot values (CONFORMANCE §3.1).
        "start": first.start_raw,
        "end": last.end_raw,
        "slot": [{"reference": f"Slot/{slot_id}"} for s in slots for slot_id in s.slot_ids],
        "created": fhir_datetime(created),
        "participant": participants,
    }
    if details.comment:
        resource["comment"] = details.comment
    return _dumps(resource)


def cancellation_body(source_json: str, reason: str) -> bytes:
    """The appointment exactly as read, with only the status and the reason changed (§5.3)."""
    resource = json.loads(source_json)
    resource["status"] = "cancelled"
    extensions = [
        e
        for e in resource.get("extension") or []
        if not (isinstance(e, dict) and e.get("url") == CANCELLATION_REASON_URL)
    ]
    extensions.append({"url": CANCELLATION_REASON_URL, "valueString": reason})
    resource["extension"] = extensions
    return _dumps(resource)
