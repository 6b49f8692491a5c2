"""What the sandbox answers, as FHIR STU3 JSON: its rows as GP Connect resources, its failures
as OperationOutcomes, and the response that carries either (CONFORMANCE §2, §4, §7.18).

Every dateTime leaves here in UK local time with its offset (``+00:00`` in GMT, ``+01:00`` in
BST), because GP Connect consumers are entitled to that exact form.
"""

import datetime
import functools
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone

from gp_sandbox.models import (
    Appointment,
    Location,
    Practice,
    Practitioner,
    Schedule,
)

LONDON = ZoneInfo("Europe/London")

FHIR_JSON = "application/fhir+json;charset=utf-8"

_SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
PROFILE_APPOINTMENT = _SD + "GPConnect-Appointment-1"
PROFILE_SLOT = _SD + "GPConnect-Slot-1"
PROFILE_SCHEDULE = _SD + "GPConnect-Schedule-1"
PROFILE_PRACTITIONER = _SD + "CareConnect-GPC-Practitioner-1"
PROFILE_LOCATION = _SD + "CareConnect-GPC-Location-1"
PROFILE_ORGANIZATION = _SD + "CareConnect-GPC-Organization-1"
PROFILE_SEARCHSET = _SD + "GPConnect-Searchset-Bundle-1"
PROFILE_OPERATION_OUTCOME = _SD + "GPConnect-OperationOutcome-1"

EXT_DELIVERY_CHANNEL = _SD + "Extension-GPConnect-DeliveryChannel-2"
EXT_PRACTITIONER_ROLE = _SD + "Extension-GPConnect-PractitionerRole-1"
EXT_BOOKING_ORGANISATION = _SD + "Extension-GPConnect-BookingOrganisation-1"
EXT_CANCELLATION_REASON = _SD + "Extension-GPConnect-AppointmentCancellationReason-1"

ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ORG_TYPE_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1"
ORG_TYPES = frozenset({"gp-practice", "urgent-care"})
SDS_USER_SYSTEM = "https://fhir.nhs.uk/Id/sds-user-id"
SDS_JOB_ROLE_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"
SPINE_CODE_SYSTEM = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"

# Display text from the Spine-ErrorOrWarningCode-1 code system, and the FHIR issue type each
# code is reported with unless the caller says otherwise.
_SPINE_CODES: dict[str, tuple[str, str]] = {
    "ACCESS_DENIED": ("Access has been denied to process this request", "forbidden"),
    "BAD_REQUEST": ("Bad request", "invalid"),
    "DUPLICATE_REJECTED": ("Create would lead to creation of a duplicate resource", "duplicate"),
    "FHIR_CONSTRAINT_VIOLATION": ("FHIR constraint violated", "conflict"),
    "INTERNAL_SERVER_ERROR": ("Unexpected internal server error", "exception"),
    "INVALID_NHS_NUMBER": ("Invalid NHS number", "value"),
    "INVALID_PARAMETER": ("Invalid parameter", "invalid"),
    "INVALID_RESOURCE": ("Invalid validation of resource", "invalid"),
    "NO_RECORD_FOUND": ("No record found", "not-found"),
    "ORGANISATION_NOT_FOUND": ("Organisation not found", "not-found"),
    "PATIENT_NOT_FOUND": ("Patient not found", "not-found"),
    "UNSUPPORTED_MEDIA_TYPE": ("Unsupported media type", "not-supported"),
}

# Reason phrases for the one non-standard status GP Connect uses (461: too late to cancel).
_REASON_PHRASES = {461: "Too Late To Cancel"}


class FhirError(Exception):
    """A refusal the provider reports as an OperationOutcome with a Spine error code."""

    def __init__(
        self, status: int, code: str, diagnostics: str, *, issue_type: str | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {diagnostics}")
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.issue_type = issue_type or _SPINE_CODES[code][1]


def operation_outcome(code: str, diagnostics: str, issue_type: str | None = None) -> dict:
    display, default_type = _SPINE_CODES[code]
    return {
        "resourceType": "OperationOutcome",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [PROFILE_OPERATION_OUTCOME]},
        "issue": [
            {
                "severity": "error",
                "code": issue_type or default_type,
                "details": {
                    "coding": [{"system": SPINE_CODE_SYSTEM, "code": code, "display": display}]
                },
                "diagnostics": diagnostics,
            }
        ],
    }


def fhir_response(
    body: dict | str, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    """A response with the FHIR JSON content type; ``body`` is a resource or raw text."""
    content = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    response = HttpResponse(
        content.encode("utf-8"),
        status=status,
        content_type=FHIR_JSON,
        reason=_REASON_PHRASES.get(status),
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    response = fhir_response(
        operation_outcome(error.code, error.diagnostics, error.issue_type), status=error.status
    )
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def fhir_datetime(value: datetime.datetime) -> str:
    """``yyyy-mm-ddThh:mm:ss+hh:mm`` in UK local time."""
    return value.astimezone(LONDON).replace(microsecond=0).isoformat()


def _meta(version_id: int, profile: str) -> dict:
    return {"versionId": str(version_id), "profile": [profile]}


def searchset(resources: list[dict]) -> dict:
    """A searchset Bundle; entries carry no fullUrl, and an empty result has no entry at all."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": fhir_datetime(timezone.now()), "profile": [PROFILE_SEARCHSET]},
        "type": "searchset",
    }
    if resources:
        bundle["entry"] = [{"resource": resource} for resource in resources]
    return bundle


def searchset_text(entries: list[str]) -> str:
    """``searchset`` as JSON text, from entries that are JSON text already (``entry_text``)."""
    head = json.dumps(searchset([]), ensure_ascii=False)
    if not entries:
        return head
    return f'{head[:-1]}, "entry": [{", ".join(entries)}]}}'


def entry_text(resource: dict) -> str:
    return json.dumps({"resource": resource}, ensure_ascii=False)


# A free slot as the slot search reads it: (pk, version_id, delivery_channel, service_type,
# schedule_id, status, start, end), start and end as the database's text of a UTC datetime.
type SlotRow = tuple[int, int, str, str, int, str, str, str]
SLOT_SCHEDULE_ID = 4


@functools.lru_cache(maxsize=20_000)
def slot_entry_text(row: SlotRow) -> str:
    """A free slot's searchset entry as JSON text. The row holds everything the Slot resource
    is made of, so a slot answered again unchanged is not built again (a slot changed in any
    way is a different row); the memo holds a few seeded practices' diaries."""
    return entry_text(slot_row_resource(row))


def slot_row_resource(row: SlotRow) -> dict:
    pk, version_id, delivery_channel, service_type, schedule_id, status, start, end = row
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": str(pk),
        "meta": _meta(version_id, PROFILE_SLOT),
    }
    if delivery_channel:
        resource["extension"] = [{"url": EXT_DELIVERY_CHANNEL, "valueCode": delivery_channel}]
    if service_type:
        resource["serviceType"] = [{"text": service_type}]
    resource |= {
        "schedule": {"reference": f"Schedule/{schedule_id}"},
        "status": status,
        "start": fhir_datetime_from_db(start),
        "end": fhir_datetime_from_db(end),
    }
    return resource


@functools.lru_cache(maxsize=20_000)
def fhir_datetime_from_db(text: str) -> str:
    """``fhir_datetime`` of a UTC datetime in the database's text form: SQLite's has no offset
    (``2027-03-28 00:30:00``), PostgreSQL's does (``2027-03-28 00:30:00+00``)."""
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return fhir_datetime(moment)


def practitioner_role_extension(practitioner: Practitioner | None) -> dict | None:
    """The Schedule's (and a booked Appointment's) practitioner role, if it has one."""
    if practitioner is None or not practitioner.role_code:
        return None
    coding = {"system": SDS_JOB_ROLE_SYSTEM, "code": practitioner.role_code}
    if practitioner.role_display:
        coding["display"] = practitioner.role_display
    return {"url": EXT_PRACTITIONER_ROLE, "valueCodeableConcept": {"coding": [coding]}}


def schedule_resource(schedule: Schedule) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(schedule.pk),
        "meta": _meta(schedule.version_id, PROFILE_SCHEDULE),
    }
    role = practitioner_role_extension(schedule.practitioner)
    if role:
        resource["extension"] = [role]
    if schedule.service_category:
        resource["serviceCategory"] = {"text": schedule.service_category}
    actors = [{"reference": f"Location/{schedule.location_id}"}]
    if schedule.practitioner_id:
        actors.append({"reference": f"Practitioner/{schedule.practitioner_id}"})
    resource["actor"] = actors
    return resource


def practitioner_resource(practitioner: Practitioner) -> dict:
    name: dict[str, Any] = {
        "use": "usual",
        "family": practitioner.family,
        "given": [practitioner.given],
    }
    if practitioner.prefix:
        name["prefix"] = [practitioner.prefix]
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(practitioner.pk),
        "meta": _meta(practitioner.version_id, PROFILE_PRACTITIONER),
        "identifier": [{"system": SDS_USER_SYSTEM, "value": practitioner.sds_user_id}],
        "name": [name],
    }
    if practitioner.gender:
        resource["gender"] = practitioner.gender
    return resource


def location_resource(location: Location) -> dict:
    # STU3 Location.address is a single Address (0..1); telecom is a list.
    return {
        "resourceType": "Location",
        "id": str(location.pk),
        "meta": _meta(location.version_id, PROFILE_LOCATION),
        "name": location.name,
        "telecom": [{"system": "phone", "value": location.phone, "use": "work"}],
        "address": {
            "line": [location.address_line],
            "city": location.city,
            "postalCode": location.postcode,
        },
        "managingOrganization": {"reference": f"Organization/{location.practice_id}"},
    }


def organization_resource(practice: Practice) -> dict:
    return {
        "resourceType": "Organization",
        "id": str(practice.pk),
        "meta": _meta(practice.version_id, PROFILE_ORGANIZATION),
        "identifier": [{"system": ODS_SYSTEM, "value": practice.ods_code}],
        "name": practice.name,
        "telecom": [{"system": "phone", "value": practice.phone, "use": "work"}],
        "address": [
            {
                "line": [practice.address_line],
                "city": practice.city,
                "postalCode": practice.postcode,
            }
        ],
    }


def appointment_resource(appointment: Appointment) -> dict:
    """The stored Appointment with its current version and last-updated time."""
    resource = json.loads(json.dumps(appointment.resource))
    meta = resource.setdefault("meta", {})
    meta["versionId"] = str(appointment.version_id)
    meta["lastUpdated"] = fhir_datetime(appointment.last_updated)
    # Key order as in the STU3 definitions, with meta right after id.
    return {
        "resourceType": resource.pop("resourceType"),
        "id": resource.pop("id"),
        "meta": resource.pop("meta"),
        **resource,
    }


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'
