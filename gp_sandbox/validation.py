"""The provider's rules for what a consumer may send (CONFORMANCE §1.2, §3.1, §5, §7).

Each check raises ``FhirError`` with the status and Spine code a real provider answers with, and
a diagnostics string precise enough for the consumer's developer to fix the request from it.
Nothing here touches the database: rules that need the practice's data live in ``booking``.
"""

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

import nhs_number
from django.http import QueryDict

from gp_sandbox.fhir_responses import (
    EXT_BOOKING_ORGANISATION,
    EXT_CANCELLATION_REASON,
    EXT_DELIVERY_CHANNEL,
    EXT_PRACTITIONER_ROLE,
    LONDON,
    ODS_SYSTEM,
    ORG_TYPE_SYSTEM,
    ORG_TYPES,
    PROFILE_APPOINTMENT,
    PROFILE_ORGANIZATION,
    FhirError,
)

MAX_SEARCH_DAYS = 14
MAX_DESCRIPTION = 100
MAX_COMMENT = 500

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
# created may come from any clock, so any offset (or Z) and fractions of a second are fine.
_ANY_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_NHS_NUMBER = re.compile(r"\d{10}")
# ODS codes are short and alphanumeric; anything else names no organisation and must never reach
# a query (PostgreSQL refuses a NUL byte with an error of its own).
_ODS_CODE = re.compile(r"[A-Za-z0-9]{1,10}")

INCLUDE_PRACTITIONER = "Schedule:actor:Practitioner"
INCLUDE_LOCATION = "Schedule:actor:Location"
INCLUDE_ORGANIZATION = "Location:managingOrganization"
_SLOT_RECURSE = frozenset({INCLUDE_PRACTITIONER, INCLUDE_LOCATION, INCLUDE_ORGANIZATION})
APPOINTMENT_INCLUDE_PRACTITIONER = "Appointment:actor:Practitioner"
APPOINTMENT_INCLUDE_LOCATION = "Appointment:actor:Location"
_APPOINTMENT_RECURSE = frozenset({APPOINTMENT_INCLUDE_PRACTITIONER, APPOINTMENT_INCLUDE_LOCATION})


def _invalid_parameter(diagnostics: str) -> FhirError:
    return FhirError(422, "INVALID_PARAMETER", diagnostics)


def _invalid_resource(diagnostics: str) -> FhirError:
    return FhirError(422, "INVALID_RESOURCE", diagnostics)


def is_ods_code_shaped(value: str) -> bool:
    return bool(_ODS_CODE.fullmatch(value))


# --- NHS numbers ---------------------------------------------------------------------------


def is_nhs_number_shaped(value: str) -> bool:
    return bool(_NHS_NUMBER.fullmatch(value))


def is_nhs_number(value: str) -> bool:
    """Ten digits exactly (no spaces) whose check digit holds."""
    return value.isascii() and is_nhs_number_shaped(value) and nhs_number.is_valid(value)


def check_nhs_number(value: str) -> str:
    """A ten-digit NHS number whose check digit holds, else 400 INVALID_NHS_NUMBER."""
    if not is_nhs_number_shaped(value) or not nhs_number.is_valid(value):
        raise FhirError(
            400, "INVALID_NHS_NUMBER", f"{value!r} is not a valid NHS number (check digit fails)"
        )
    return value


# --- Slot search (§1.2, §7.5–7.8) ----------------------------------------------------------


@dataclass(frozen=True)
class SlotQuery:
    """A validated slot search: slots must lie fully inside [start, end]."""

    start: datetime.datetime
    end: datetime.datetime
    include_practitioner: bool
    include_location: bool
    ods_codes: frozenset[str]
    org_types: frozenset[str]


@dataclass(frozen=True)
class _Bound:
    # Wall-clock time used to count the days of the window (a date counts as its midnight).
    wall_clock: datetime.datetime
    # The instant the bound stands for (``le<date>`` reaches the end of that day).
    instant: datetime.datetime
    day: datetime.date


def _offset_text(offset: datetime.timedelta | None) -> str:
    minutes = int((offset or datetime.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_uk_datetime(name: str, value: str) -> datetime.datetime:
    """``yyyy-mm-ddThh:mm:ss+hh:mm`` whose offset is UK time at that instant."""
    if not _DATETIME.fullmatch(value):
        raise _invalid_parameter(_datetime_format_problem(name, value))
    try:
        parsed = datetime.datetime.fromisoformat(value)
        # The first and last days Python knows overflow when moved into UK time.
        uk_offset = parsed.astimezone(LONDON).utcoffset()
    except ValueError:
        raise _invalid_parameter(f"{name} {value!r} is not a real date and time") from None
    except OverflowError:
        raise _invalid_parameter(_out_of_range(name, value)) from None
    if parsed.utcoffset() != uk_offset:
        raise _invalid_parameter(
            f"{name} {value!r} has offset {_offset_text(parsed.utcoffset())}, but UK time then "
            f"is {_offset_text(uk_offset)} (use +00:00 in GMT and +01:00 in BST)"
        )
    return parsed


def _out_of_range(name: str, value: str) -> str:
    return f"{name} {value!r} is outside the dates the practice system can search"


def _parse_day(text: str, name: str, value: str) -> datetime.date:
    """``text`` (``yyyy-mm-dd``, from the parameter ``name`` sent as ``value``) as a real date
    with a day after it: a range reaches the end of its last day, which for 9999-12-31 is past
    the last moment a date and time can hold."""
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise _invalid_parameter(f"{name} {value!r} is not a real date") from None
    if day == datetime.date.max:
        raise _invalid_parameter(_out_of_range(name, value))
    return day


def _datetime_format_problem(name: str, value: str) -> str:
    if value.endswith("Z"):
        return f"{name} {value!r} must carry the UK offset (+00:00 or +01:00), not Z"
    if " " in value:
        return (
            f"{name} {value!r} has a space where the offset's + should be: percent-encode + as %2B"
        )
    return (
        f"{name} {value!r} must be a full date (yyyy-mm-dd) or a dateTime with offset "
        "(yyyy-mm-ddThh:mm:ss+hh:mm); partial dates are not allowed"
    )


def _search_bound(query: QueryDict, name: str, prefix: str, *, is_end: bool) -> _Bound:
    values = query.getlist(name)
    if len(values) > 1:
        raise _invalid_parameter(f"{name} must be sent exactly once (got {len(values)})")
    raw = values[0]
    if not raw.startswith(prefix):
        raise _invalid_parameter(f"{name} must start with the prefix {prefix!r} (got {raw!r})")
    value = raw[len(prefix) :]
    if _DATE.fullmatch(value):
        day = _parse_day(value, name, value)
        wall_clock = datetime.datetime.combine(day, datetime.time())
        last_day = day + datetime.timedelta(days=1) if is_end else day
        instant = datetime.datetime.combine(last_day, datetime.time(), tzinfo=LONDON)
        return _Bound(wall_clock=wall_clock, instant=instant, day=day)
    instant = parse_uk_datetime(name, value)
    return _Bound(wall_clock=instant.replace(tzinfo=None), instant=instant, day=instant.date())


def parse_slot_query(query: QueryDict) -> SlotQuery:
    """The slot search parameters, or the 400/422 a provider answers with."""
    for name in ("start", "end", "status", "_include"):
        if name not in query:
            raise FhirError(400, "BAD_REQUEST", f"The mandatory search parameter {name} is missing")
    includes = query.getlist("_include")
    if "Slot:schedule" not in includes:
        raise FhirError(
            400, "BAD_REQUEST", "The search parameter _include=Slot:schedule is missing"
        )
    for include in includes:
        if include != "Slot:schedule":
            raise _invalid_parameter(f"_include={include!r} is not supported; only Slot:schedule")
    recurse = query.getlist("_include:recurse")
    for include in recurse:
        if include not in _SLOT_RECURSE:
            raise _invalid_parameter(
                f"_include:recurse={include!r} is not supported; use one of "
                + ", ".join(sorted(_SLOT_RECURSE))
            )
    for status in query.getlist("status"):
        if status != "free":
            raise _invalid_parameter(f"status must be 'free' (got {status!r})")

    start = _search_bound(query, "start", "ge", is_end=False)
    end = _search_bound(query, "end", "le", is_end=True)
    # A day before the start day is backwards even though le<date> reaches that day's end.
    if end.instant < start.instant or end.day < start.day:
        raise _invalid_parameter("The search end is before its start")
    window = end.wall_clock - start.wall_clock
    if window > datetime.timedelta(days=MAX_SEARCH_DAYS):
        raise _invalid_parameter(
            f"The search window is {window.days} days"
            + (" and more" if window % datetime.timedelta(days=1) else "")
            + f"; at most {MAX_SEARCH_DAYS} days are allowed per search"
        )

    ods_codes: set[str] = set()
    org_types: set[str] = set()
    for search_filter in query.getlist("searchFilter"):
        system, _, code = search_filter.partition("|")
        # Unknown systems and organisation types are ignored, never an error (§1.2).
        if system == ODS_SYSTEM and is_ods_code_shaped(code):
            ods_codes.add(code)
        elif system == ORG_TYPE_SYSTEM and code in ORG_TYPES:
            org_types.add(code)

    return SlotQuery(
        start=start.instant,
        end=end.instant,
        include_practitioner=INCLUDE_PRACTITIONER in recurse,
        include_location=INCLUDE_LOCATION in recurse,
        ods_codes=frozenset(ods_codes),
        org_types=frozenset(org_types),
    )


# --- Retrieve a patient's appointments (§5.1, §7.15) ---------------------------------------


@dataclass(frozen=True)
class AppointmentRange:
    """Appointments starting from the first moment of ``first`` to the last of ``last``."""

    first: datetime.date
    last: datetime.date
    include_practitioner: bool
    include_location: bool
    # ``past-appt-limit`` (PFS, optional): also up to this many appointments before ``first``.
    past_limit: int = 0

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first, datetime.time(), tzinfo=LONDON)

    @property
    def end(self) -> datetime.datetime:
        next_day = self.last + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time(), tzinfo=LONDON)


def parse_appointment_range(query: QueryDict, today: datetime.date) -> AppointmentRange:
    """Exactly one ``start=ge<date>`` and one ``start=le<date>``, else 422 INVALID_PARAMETER."""
    values = query.getlist("start")
    if len(values) != 2:
        raise _invalid_parameter(
            "Send exactly two start parameters, start=ge<yyyy-mm-dd> and start=le<yyyy-mm-dd> "
            f"(got {len(values)})"
        )
    dates: dict[str, datetime.date] = {}
    for value in values:
        prefix, day = value[:2], value[2:]
        if prefix not in {"ge", "le"}:
            raise _invalid_parameter(f"start {value!r} must have the prefix ge or le")
        if prefix in dates:
            raise _invalid_parameter(f"start has two {prefix} values; send one ge and one le")
        if not _DATE.fullmatch(day):
            raise _invalid_parameter(f"start {value!r} must be a date yyyy-mm-dd, without a time")
        dates[prefix] = _parse_day(day, "start", value)
    if dates["ge"] < today:
        raise _invalid_parameter(
            f"start=ge{dates['ge'].isoformat()} is in the past; the range must start today "
            f"({today.isoformat()}) or later"
        )
    if dates["le"] < dates["ge"]:
        raise _invalid_parameter("start=le is before start=ge")
    recurse = query.getlist("_include:recurse")
    for include in recurse:
        if include not in _APPOINTMENT_RECURSE:
            raise _invalid_parameter(
                f"_include:recurse={include!r} is not supported; use one of "
                + ", ".join(sorted(_APPOINTMENT_RECURSE))
            )
    return AppointmentRange(
        first=dates["ge"],
        last=dates["le"],
        include_practitioner=APPOINTMENT_INCLUDE_PRACTITIONER in recurse,
        include_location=APPOINTMENT_INCLUDE_LOCATION in recurse,
        past_limit=_past_limit(query),
    )


_MAX_PAST_LIMIT = 1000


def _past_limit(query: QueryDict) -> int:
    """``past-appt-limit``: at most one, a whole number from 1 to 1000; absent means none (this
    sandbox returns past appointments only when asked, CONFORMANCE §5.1)."""
    values = query.getlist("past-appt-limit")
    if not values:
        return 0
    if len(values) > 1:
        raise _invalid_parameter("Send past-appt-limit once")
    value = values[0]
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= _MAX_PAST_LIMIT:
        raise _invalid_parameter(
            f"past-appt-limit {value!r} must be a whole number from 1 to {_MAX_PAST_LIMIT}"
        )
    return int(value)


# --- Book (§3.1, §7.9–7.12) ----------------------------------------------------------------

_APPOINTMENT_ELEMENTS = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "contained",
        "extension",
        "identifier",
        "status",
        "description",
        "start",
        "end",
        "minutesDuration",
        "slot",
        "created",
        "comment",
        "participant",
    }
)
# Accepted and ignored: the provider derives the service texts from its own diary (1.2.7).
_IGNORED_ELEMENTS = frozenset({"serviceCategory", "serviceType", "text", "language", "priority"})
_FORBIDDEN_ELEMENTS = frozenset(
    {
        "reason",
        "specialty",
        "appointmentType",
        "indication",
        "supportingInformation",
        "incomingReferral",
        "requestedPeriod",
        "modifierExtension",
        "implicitRules",
    }
)
_META_ELEMENTS = frozenset({"profile", "versionId", "lastUpdated", "security", "tag"})
_ORGANIZATION_ELEMENTS = frozenset(
    {"resourceType", "id", "meta", "identifier", "name", "telecom", "type", "address"}
)
_PARTICIPANT_ELEMENTS = frozenset({"actor", "status", "type", "required", "period"})
_PARTICIPANT_STATUSES = frozenset({"accepted", "declined", "tentative", "needs-action"})
_APPOINTMENT_EXTENSIONS = frozenset(
    {EXT_BOOKING_ORGANISATION, EXT_DELIVERY_CHANNEL, EXT_PRACTITIONER_ROLE, EXT_CANCELLATION_REASON}
)
_RELATIVE_REFERENCE = re.compile(r"(Patient|Location|Practitioner)/([A-Za-z0-9.\-]{1,64})")
_SLOT_REFERENCE = re.compile(r"Slot/(\d{1,18})")


@dataclass(frozen=True)
class NewAppointment:
    """A booking request that passed every rule that needs no data (§3.1)."""

    slot_ids: tuple[int, ...]
    start: str
    end: str
    minutes_duration: int | None
    description: str
    comment: str | None
    created: datetime.datetime
    patient_nhs_number: str
    location_reference: str
    practitioner_reference: str | None
    participants: tuple[dict, ...]
    identifiers: tuple[dict, ...]
    booking_organisation: dict
    booking_extension: dict
    booking_ods_code: str
    booking_org_type: str | None
    delivery_channel: str | None
    practitioner_role: tuple[str, str | None] | None


def parse_json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _invalid_resource(f"The request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise _invalid_resource("The request body must be a JSON object (an Appointment)")
    return data


def _text(data: dict, name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise _invalid_resource(f"Appointment.{name} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _invalid_resource(f"Appointment.{name} must be a non-empty string")
    return value


def _list_of_objects(data: dict, name: str, *, required: bool) -> list[dict]:
    value = data.get(name)
    if value is None:
        if required:
            raise _invalid_resource(f"Appointment.{name} is required")
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid_resource(f"Appointment.{name} must be a list of objects")
    if required and not value:
        raise _invalid_resource(f"Appointment.{name} must not be empty")
    return value


def _check_elements(data: dict) -> None:
    for name in data:
        if name in _FORBIDDEN_ELEMENTS:
            raise _invalid_resource(f"Appointment.{name} must not be sent")
        if name not in _APPOINTMENT_ELEMENTS and name not in _IGNORED_ELEMENTS:
            raise _invalid_resource(f"Appointment has an unknown property {name!r}")


def _check_profile(data: dict) -> None:
    meta = data.get("meta")
    if not isinstance(meta, dict):
        raise _invalid_resource(f"Appointment.meta.profile must be [{PROFILE_APPOINTMENT!r}]")
    for name in meta:
        if name not in _META_ELEMENTS:
            raise _invalid_resource(f"Appointment.meta has an unknown property {name!r}")
    profile = meta.get("profile")
    if not isinstance(profile, list) or not profile or profile[0] != PROFILE_APPOINTMENT:
        raise _invalid_resource(
            f"Appointment.meta.profile[0] must be {PROFILE_APPOINTMENT!r} (got {profile!r})"
        )


def _check_organization(organization: dict) -> tuple[str, str | None]:
    """The contained booking organisation's ODS code and organisation type."""
    if organization.get("resourceType") != "Organization":
        raise _invalid_resource("Appointment.contained must hold only the booking Organization")
    for name in organization:
        if name not in _ORGANIZATION_ELEMENTS:
            raise _invalid_resource(
                f"The contained booking Organization has an unknown property {name!r}"
            )
    meta = organization.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    if not isinstance(profiles, list) or PROFILE_ORGANIZATION not in profiles:
        raise _invalid_resource(
            f"The contained booking Organization must have meta.profile {PROFILE_ORGANIZATION!r}"
        )
    identifiers = organization.get("identifier")
    ods_codes = [
        item.get("value")
        for item in (identifiers if isinstance(identifiers, list) else [])
        if isinstance(item, dict) and item.get("system") == ODS_SYSTEM
    ]
    if not ods_codes or not isinstance(ods_codes[0], str) or not ods_codes[0].strip():
        raise _invalid_resource(
            f"The contained booking Organization needs an identifier with system {ODS_SYSTEM!r} "
            "and a value"
        )
    name = organization.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid_resource("The contained booking Organization needs a name")
    telecom = organization.get("telecom")
    phones = [
        item
        for item in (telecom if isinstance(telecom, list) else [])
        if isinstance(item, dict) and item.get("system") == "phone" and item.get("value")
    ]
    if not phones:
        raise _invalid_resource(
            "The contained booking Organization needs a telecom with system 'phone' and a value"
        )
    return ods_codes[0], _organization_type(organization)


def _organization_type(organization: dict) -> str | None:
    types = organization.get("type")
    if types is None:
        return None
    try:
        coding = types[0]["coding"][0]
        system, code = coding["system"], coding["code"]
    except (KeyError, IndexError, TypeError):
        raise _invalid_resource(
            "The contained booking Organization's type must be "
            "[{coding: [{system, code}]}] from GPConnect-OrganisationType-1"
        ) from None
    if system != ORG_TYPE_SYSTEM or not isinstance(code, str) or not code:
        raise _invalid_resource(
            f"The contained booking Organization's type must use system {ORG_TYPE_SYSTEM!r}"
        )
    return code


@dataclass(frozen=True)
class _Extensions:
    booking: dict
    booking_reference: str
    delivery_channel: str | None
    practitioner_role: tuple[str, str | None] | None


def _check_extensions(data: dict) -> _Extensions:
    by_url: dict[str, dict] = {}
    for extension in _list_of_objects(data, "extension", required=False):
        url = extension.get("url")
        if url not in _APPOINTMENT_EXTENSIONS:
            raise _invalid_resource(f"Extension {url!r} is not allowed on an Appointment")
        if url in by_url:
            raise _invalid_resource(f"Extension {url!r} is sent more than once")
        by_url[url] = extension
    if EXT_CANCELLATION_REASON in by_url:
        raise _invalid_resource("A cancellation reason must not be sent when booking")

    booking = by_url.get(EXT_BOOKING_ORGANISATION)
    if booking is None:
        raise _invalid_resource(
            f"The booking organisation extension {EXT_BOOKING_ORGANISATION!r} is required"
        )
    reference = (booking.get("valueReference") or {}).get("reference")
    if not isinstance(reference, str) or not reference.startswith("#"):
        raise _invalid_resource(
            "The booking organisation extension's valueReference.reference must point at the "
            "contained Organization, e.g. '#1'"
        )

    channel = None
    if EXT_DELIVERY_CHANNEL in by_url:
        channel = by_url[EXT_DELIVERY_CHANNEL].get("valueCode")
        if not isinstance(channel, str) or not channel:
            raise _invalid_resource("The delivery channel extension needs a valueCode")

    role = None
    if EXT_PRACTITIONER_ROLE in by_url:
        try:
            coding = by_url[EXT_PRACTITIONER_ROLE]["valueCodeableConcept"]["coding"][0]
            role = (coding["code"], coding.get("display"))
        except (KeyError, IndexError, TypeError):
            raise _invalid_resource(
                "The practitioner role extension needs valueCodeableConcept.coding[0].code"
            ) from None
    return _Extensions(
        booking=booking,
        booking_reference=reference,
        delivery_channel=channel,
        practitioner_role=role,
    )


def _check_contained(data: dict, booking_reference: str) -> tuple[dict, str, str | None]:
    contained = _list_of_objects(data, "contained", required=True)
    if len(contained) != 1:
        raise _invalid_resource(
            "Appointment.contained must hold exactly one resource, the booking Organization"
        )
    organization = contained[0]
    ods_code, org_type = _check_organization(organization)
    if booking_reference != f"#{organization.get('id')}":
        raise _invalid_resource(
            f"The booking organisation extension points at {booking_reference!r}, but the "
            f"contained Organization's id is {organization.get('id')!r}"
        )
    return organization, ods_code, org_type


def _check_slots(data: dict) -> tuple[int, ...]:
    ids: list[int] = []
    for index, slot in enumerate(_list_of_objects(data, "slot", required=True)):
        reference = slot.get("reference")
        if set(slot) - {"reference", "display"}:
            raise _invalid_resource(f"Appointment.slot[{index}] has unknown properties")
        match = _SLOT_REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
        if match is None:
            raise _invalid_resource(
                f"Appointment.slot[{index}].reference must be a relative reference Slot/<id> "
                f"(got {reference!r})"
            )
        slot_id = int(match[1])
        if slot_id in ids:
            raise _invalid_resource(f"Slot/{slot_id} is referenced more than once")
        ids.append(slot_id)
    return tuple(ids)


@dataclass(frozen=True)
class _Participants:
    all: tuple[dict, ...]
    patient: str
    location: str
    practitioner: str | None


def _check_participants(data: dict) -> _Participants:
    found: dict[str, list[str]] = {"Patient": [], "Location": [], "Practitioner": []}
    for index, participant in enumerate(_list_of_objects(data, "participant", required=True)):
        where = f"Appointment.participant[{index}]"
        unknown = set(participant) - _PARTICIPANT_ELEMENTS
        if unknown:
            raise _invalid_resource(f"{where} has unknown properties: {', '.join(sorted(unknown))}")
        actor = participant.get("actor")
        reference = actor.get("reference") if isinstance(actor, dict) else None
        if not isinstance(reference, str):
            raise _invalid_resource(f"{where}.actor.reference is required")
        match = _RELATIVE_REFERENCE.fullmatch(reference)
        if match is None:
            raise _invalid_resource(
                f"{where}.actor.reference must be a relative reference to a Patient, Location or "
                f"Practitioner (got {reference!r})"
            )
        status = participant.get("status")
        if status is None:
            raise _invalid_resource(f"{where}.status is required")
        if status not in _PARTICIPANT_STATUSES:
            raise _invalid_resource(f"{where}.status {status!r} is not a participation status")
        found[match[1]].append(match[2])

    for kind in ("Patient", "Location"):
        if len(found[kind]) != 1:
            raise _invalid_resource(
                f"Appointment.participant must include exactly one {kind} (got {len(found[kind])})"
            )
    if len(found["Practitioner"]) > 1:
        raise _invalid_resource("Appointment.participant may include at most one Practitioner")
    patient = found["Patient"][0]
    if not is_nhs_number_shaped(patient):
        raise _invalid_resource(
            f"The Patient participant must be Patient/<NHS number> (got Patient/{patient})"
        )
    return _Participants(
        all=tuple(data["participant"]),
        patient=check_nhs_number(patient),
        location=f"Location/{found['Location'][0]}",
        practitioner=f"Practitioner/{found['Practitioner'][0]}" if found["Practitioner"] else None,
    )


def _check_times(data: dict) -> tuple[str, str, datetime.datetime, int | None]:
    bounds = []
    for name in ("start", "end"):
        value = _text(data, name, required=True)
        if not _DATETIME.fullmatch(value):
            raise _invalid_resource(
                f"Appointment.{name} {value!r} must be yyyy-mm-ddThh:mm:ss+hh:mm, exactly as on "
                "the slot"
            )
        bounds.append(value)
    created_text = _text(data, "created", required=True)
    try:
        if not _ANY_DATETIME.fullmatch(created_text):
            raise ValueError
        created = datetime.datetime.fromisoformat(created_text)
    except ValueError:
        raise _invalid_resource(
            f"Appointment.created {created_text!r} must be a dateTime with a time zone"
        ) from None
    minutes = data.get("minutesDuration")
    if minutes is not None and (
        not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0
    ):
        raise _invalid_resource("Appointment.minutesDuration must be a positive whole number")
    return bounds[0], bounds[1], created, minutes


def _check_identifiers(data: dict) -> tuple[dict, ...]:
    identifiers = _list_of_objects(data, "identifier", required=False)
    for index, identifier in enumerate(identifiers):
        if not isinstance(identifier.get("value"), str) or not identifier["value"]:
            raise _invalid_resource(f"Appointment.identifier[{index}] has no value")
    return tuple(identifiers)


def parse_new_appointment(body: bytes) -> NewAppointment:
    """A booking request checked against every rule of §3.1 that needs no data."""
    data = parse_json_object(body)
    if data.get("resourceType") != "Appointment":
        raise _invalid_resource(
            f"resourceType must be 'Appointment' (got {data.get('resourceType')!r})"
        )
    _check_elements(data)
    if "id" in data:
        raise _invalid_resource("A new Appointment must not have an id")
    _check_profile(data)
    if data.get("status") != "booked":
        raise _invalid_resource(f"Appointment.status must be 'booked' (got {data.get('status')!r})")
    identifiers = _check_identifiers(data)
    extensions = _check_extensions(data)
    organization, ods_code, org_type = _check_contained(data, extensions.booking_reference)

    description = _text(data, "description", required=True)
    if len(description) > MAX_DESCRIPTION:
        raise _invalid_resource(
            f"Appointment.description is {len(description)} characters; at most "
            f"{MAX_DESCRIPTION} are allowed"
        )
    comment = _text(data, "comment", required=False)
    if comment is not None and len(comment) > MAX_COMMENT:
        raise _invalid_resource(
            f"Appointment.comment is {len(comment)} characters; at most {MAX_COMMENT} are allowed"
        )
    start, end, created, minutes = _check_times(data)
    slot_ids = _check_slots(data)
    participants = _check_participants(data)
    return NewAppointment(
        slot_ids=slot_ids,
        start=start,
        end=end,
        minutes_duration=minutes,
        description=description,
        comment=comment,
        created=created,
        patient_nhs_number=participants.patient,
        location_reference=participants.location,
        practitioner_reference=participants.practitioner,
        participants=participants.all,
        identifiers=identifiers,
        booking_organisation=organization,
        booking_extension=extensions.booking,
        booking_ods_code=ods_code,
        booking_org_type=org_type,
        delivery_channel=extensions.delivery_channel,
        practitioner_role=extensions.practitioner_role,
    )


# --- Cancel (§5.3, §7.17) ------------------------------------------------------------------


def parse_cancellation(data: dict, appointment_id: str, stored: dict[str, Any]) -> str:
    """The cancellation reason, once the PUT body is shown to change nothing else.

    ``stored`` is the Appointment as the provider keeps it (without meta.versionId and
    meta.lastUpdated); the body may differ from it only in ``status`` and the reason extension.
    """
    if data.get("resourceType") != "Appointment":
        raise _invalid_resource(
            f"resourceType must be 'Appointment' (got {data.get('resourceType')!r})"
        )
    if data.get("id") != appointment_id:
        raise _invalid_resource(
            f"The Appointment id in the body ({data.get('id')!r}) does not match the URL "
            f"({appointment_id!r})"
        )
    if data.get("status") != "cancelled":
        raise _invalid_resource(
            f"Appointment.status must be 'cancelled' to cancel (got {data.get('status')!r})"
        )

    extensions = data.get("extension")
    if not isinstance(extensions, list) or not all(isinstance(e, dict) for e in extensions):
        raise _invalid_resource("Appointment.extension must be a list of objects")
    reasons = [e for e in extensions if e.get("url") == EXT_CANCELLATION_REASON]
    for extension in extensions:
        if extension.get("url") not in _APPOINTMENT_EXTENSIONS:
            raise _invalid_resource(
                f"Extension {extension.get('url')!r} is not allowed on an Appointment"
            )
    if len(reasons) > 1:
        raise _invalid_resource("The cancellation reason extension is sent more than once")
    if not reasons:
        raise _invalid_parameter(
            f"A cancellation reason is required (extension {EXT_CANCELLATION_REASON})"
        )
    reason = reasons[0].get("valueString")
    if reason is not None and not isinstance(reason, str):
        raise _invalid_resource("The cancellation reason's valueString must be a string")
    if not reason or not reason.strip():
        raise _invalid_parameter("The cancellation reason must not be empty")

    unchanged = {**data, "extension": [e for e in extensions if e is not reasons[0]]}
    unchanged["status"] = stored.get("status")
    if isinstance(unchanged.get("meta"), dict):
        unchanged["meta"] = {
            k: v for k, v in unchanged["meta"].items() if k not in {"versionId", "lastUpdated"}
        }
    if not unchanged["extension"] and "extension" not in stored:
        del unchanged["extension"]
    changed = sorted(
        name
        for name in set(unchanged) | set(stored)
        if unchanged.get(name, _MISSING) != stored.get(name, _MISSING)
    )
    if changed:
        raise _invalid_resource(
            "Only status and the cancellation reason may change when cancelling; these elements "
            "differ from the booked appointment: " + ", ".join(changed)
        )
    return reason


_MISSING = object()
