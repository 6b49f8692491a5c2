"""FHIR STU3 JSON as GP Connect providers send it, for tests (and benchmarks) of the client.

Every builder returns plain dicts so a test can break exactly one thing before sending it.
"""

import json
from datetime import datetime, timedelta

from booking_site.gpconnect.values import LONDON

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
DELIVERY_CHANNEL = SD + "Extension-GPConnect-DeliveryChannel-2"
PRACTITIONER_ROLE = SD + "Extension-GPConnect-PractitionerRole-1"
BOOKING_ORG = SD + "Extension-GPConnect-BookingOrganisation-1"
CANCELLATION_REASON = SD + "Extension-GPConnect-AppointmentCancellationReason-1"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def fhir_time(value: datetime) -> str:
    """UK local time with its offset, as providers write it: 2027-03-01T09:00:00+00:00."""
    return value.astimezone(LONDON).isoformat()


def slot(
    slot_id: str,
    start: datetime | str,
    minutes: int = 10,
    *,
    schedule: str = "1",
    service_type: str | None = "General appointment",
    channel: str | None = "In-person",
    end: str | None = None,
) -> dict:
    start_raw = start if isinstance(start, str) else fhir_time(start)
    end_raw = end or fhir_time(datetime.fromisoformat(start_raw) + timedelta(minutes=minutes))
    resource = {
        "resourceType": "Slot",
        "id": slot_id,
        "meta": {"versionId": "1", "profile": [SD + "GPConnect-Slot-1"]},
        "schedule": {"reference": f"Schedule/{schedule}"},
        "status": "free",
        "start": start_raw,
        "end": end_raw,
    }
    if service_type is not None:
        resource["serviceType"] = [{"text": service_type}]
    if channel is not None:
        resource["extension"] = [{"url": DELIVERY_CHANNEL, "valueCode": channel}]
    return resource


def schedule(
    schedule_id: str = "1",
    *,
    location: str = "1",
    practitioner: str | None = "1",
    category: str | None = "Morning surgery",
    role: tuple[str, str] | None = ("R0260", "General Medical Practitioner"),
) -> dict:
    actors = [{"reference": f"Location/{location}"}]
    if practitioner:
        actors.append({"reference": f"Practitioner/{practitioner}"})
    resource = {
        "resourceType": "Schedule",
        "id": schedule_id,
        "meta": {"versionId": "1", "profile": [SD + "GPConnect-Schedule-1"]},
        "actor": actors,
    }
    if category:
        resource["serviceCategory"] = {"text": category}
    if role:
        resource["extension"] = [
            {
                "url": PRACTITIONER_ROLE,
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                            "code": role[0],
                            "display": role[1],
                        }
                    ]
                },
            }
        ]
    return resource


def practitioner(
    practitioner_id: str = "1", *, family: str = "Okafor", given: str = "Amara", gender="female"
) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id,
        "meta": {"versionId": "1", "profile": [SD + "CareConnect-GPC-Practitioner-1"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "G1234567"}],
        "name": [{"use": "usual", "family": family, "given": [given], "prefix": ["Dr"]}],
        "gender": gender,
    }


def location(
    location_id: str = "1",
    *,
    name: str = "Riverside Medical Centre",
    telecom_as_object: bool = False,
    organisation: str | None = "1",
) -> dict:
    telecom = {"system": "phone", "value": "0113 496 0147"}
    resource = {
        "resourceType": "Location",
        "id": location_id,
        "meta": {"versionId": "1", "profile": [SD + "CareConnect-GPC-Location-1"]},
        "name": name,
        "address": {"line": ["14 Canal Wharf"], "city": "Leeds", "postalCode": "LS11 5PS"},
        "telecom": telecom if telecom_as_object else [telecom],
    }
    if organisation:
        resource["managingOrganization"] = {"reference": f"Organization/{organisation}"}
    return resource


def organisation(
    organisation_id: str = "1",
    *,
    ods: str = "A20047",
    name: str = "Riverside Medical Practice",
    single_objects: bool = False,
) -> dict:
    address = {"line": ["14 Canal Wharf"], "city": "Leeds", "postalCode": "LS11 5PS"}
    telecom = {"system": "phone", "value": "0113 496 0147"}
    return {
        "resourceType": "Organization",
        "id": organisation_id,
        "meta": {"versionId": "1", "profile": [SD + "CareConnect-GPC-Organization-1"]},
        "identifier": [{"system": ODS, "value": ods}],
        "name": name,
        "address": address if single_objects else [address],
        "telecom": telecom if single_objects else [telecom],
    }


def bundle(*resources: dict, full_urls: bool = False, entry: bool = True) -> dict:
    doc = {
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {"profile": [SD + "GPConnect-Searchset-Bundle-1"]},
    }
    if entry:
        doc["entry"] = [
            (
                {"fullUrl": f"http://provider/{r['resourceType']}/{r['id']}", "resource": r}
                if full_urls
                else {"resource": r}
            )
            for r in resources
        ]
    return doc


def slot_bundle(slots: list[dict], *, schedules: int = 1, **kwargs) -> dict:
    """Slots with the Schedules, Practitioner, Location and Organization they point at."""
    support = [schedule(str(i + 1)) for i in range(schedules)]
    support += [practitioner(), location(), organisation()] if slots else []
    return bundle(*slots, *(support if slots else []), **kwargs)


def diary(count: int, *, schedules: int = 10, day: datetime | None = None) -> dict:
    """A realistic big reply: ``count`` 10-minute slots spread over schedules and weekdays."""
    day = day or datetime(2027, 3, 1, 8, 0, tzinfo=LONDON)
    slots = []
    per_day = schedules * 40
    for n in range(count):
        on_day, index = divmod(n, per_day)
        which, position = divmod(index, 40)
        start = day + timedelta(days=on_day, minutes=10 * position)
        slots.append(slot(str(1000 + n), start, schedule=str(which + 1)))
    return slot_bundle(slots, schedules=schedules)


def appointment(
    appointment_id: str = "501",
    *,
    nhs_number: str = "9000000009",
    start: str = "2027-03-01T09:00:00+00:00",
    end: str = "2027-03-01T09:10:00+00:00",
    status: str = "booked",
    slots: tuple[str, ...] = ("1000",),
    version: str = "1",
    location_id: str = "1",
    practitioner_id: str | None = "1",
    description: str = "Sore knee",
    comment: str | None = "Afternoon preferred",
    cancellation_reason: str | None = None,
) -> dict:
    participants = [
        {"actor": {"reference": f"Patient/{nhs_number}"}, "status": "accepted"},
        {"actor": {"reference": f"Location/{location_id}"}, "status": "accepted"},
    ]
    if practitioner_id:
        participants.append(
            {"actor": {"reference": f"Practitioner/{practitioner_id}"}, "status": "accepted"}
        )
    extensions = [
        {"url": BOOKING_ORG, "valueReference": {"reference": "#1"}},
        {"url": DELIVERY_CHANNEL, "valueCode": "In-person"},
    ]
    if cancellation_reason:
        extensions.append({"url": CANCELLATION_REASON, "valueString": cancellation_reason})
    resource = {
        "resourceType": "Appointment",
        "id": appointment_id,
        "meta": {"versionId": version, "profile": [SD + "GPConnect-Appointment-1"]},
        "contained": [
            {
                "resourceType": "Organization",
                "id": "1",
                "identifier": [{"system": ODS, "value": "X26"}],
                "name": "Book a GP appointment",
                "telecom": [{"system": "phone", "value": "0300 311 2233"}],
            }
        ],
        "extension": extensions,
        "status": status,
        "serviceCategory": {"text": "Morning surgery"},
        "serviceType": [{"text": "General appointment"}],
        "description": description,
        "start": start,
        "end": end,
        "slot": [{"reference": f"Slot/{s}"} for s in slots],
        "created": "2026-11-20T10:00:00+00:00",
        "participant": participants,
    }
    if comment:
        resource["comment"] = comment
    return resource


def outcome(code: str, status_text: str = "error", *, system: str | None = None) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": [SD + "GPConnect-OperationOutcome-1"]},
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "details": {
                    "coding": [
                        {
                            "system": system
                            or "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1",
                            "code": code,
                            "display": code.replace("_", " ").title(),
                        }
                    ]
                },
                "diagnostics": f"{status_text} for Patient/9000000009",
            }
        ],
    }


def dumps(doc: dict) -> bytes:
    return json.dumps(doc).encode()
