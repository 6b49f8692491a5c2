"""Untrusted provider JSON in, the typed objects of ``types.py`` out (STYLE rule 4).

How much is validated where (docs/adr/0002-parsing-slots-fast.md has the measurements):

* Practitioner, Location and Organization (a handful per practice) and Appointments are
  validated in full with ``fhir.resources.STU3``; supporting resources are remembered by their
  exact JSON, since a practice sends the same ones in every reply.
* Slots and Schedules, which grow with the size of the diary, get a strict hand-written check
  of exactly the fields the site uses, and the first of each shape in a reply is also validated
  in full with ``fhir.resources`` as a canary that logs any drift from STU3.
* A slot search reply with no deviation at all is decoded straight into the Slot fields the
  site checks (msgspec); any other takes the careful way, through plain JSON, with the same
  checks (docs/adr/0007-decoding-slot-replies-into-typed-fields.md).

Known provider deviations are tolerated (CONFORMANCE D7) and one bad resource only loses what
depends on it: a bad Slot is skipped, a bad Schedule skips its slots, a bad Location or
Practitioner only loses its display details. Skips are logged with the resource type, id and the
problem, never with values from the resource.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Union

import msgspec
import orjson
from django.utils import timezone
from fhir.resources.STU3.appointment import Appointment as FhirAppointment
from fhir.resources.STU3.location import Location as FhirLocation
from fhir.resources.STU3.organization import Organization as FhirOrganization
from fhir.resources.STU3.practitioner import Practitioner as FhirPractitioner
from fhir.resources.STU3.schedule import Schedule as FhirSchedule
from fhir.resources.STU3.slot import Slot as FhirSlot
from pydantic import ValidationError

from booking_site.gpconnect.errors import InvalidReply, Outcome, normalise_code
from booking_site.gpconnect.types import (
    LONDON,
    BookedAppointment,
    Clinician,
    FreeSlot,
    JobRole,
    Organisation,
    Patient,
    PracticeEndpoint,
    ScheduleInfo,
    Surgery,
    instant,
)

logger = logging.getLogger("booking_site.gpconnect")

_SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
DELIVERY_CHANNEL_URL = _SD + "Extension-GPConnect-DeliveryChannel-2"
PRACTITIONER_ROLE_URL = _SD + "Extension-GPConnect-PractitionerRole-1"
BOOKING_ORGANISATION_URL = _SD + "Extension-GPConnect-BookingOrganisation-1"
CANCELLATION_REASON_URL = _SD + "Extension-GPConnect-AppointmentCancellationReason-1"
APPOINTMENT_PROFILE = _SD + "GPConnect-Appointment-1"
ORGANIZATION_PROFILE = _SD + "CareConnect-GPC-Organization-1"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ORG_TYPE_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1"

# FHIR id and instant (an instant always has seconds and an offset).
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")

_MODELS: dict[str, Any] = {
    "Location": FhirLocation,
    "Practitioner": FhirPractitioner,
    "Organization": FhirOrganization,
}


_KINDS = frozenset({"Slot", "Schedule", "Practitioner", "Location", "Organization"})


def is_fhir_id(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


# --- Envelopes ---------------------------------------------------------------------------------


_BOM = b"\xef\xbb\xbf"


def load_json(content: bytes) -> Any:
    """A provider's reply body as plain JSON values (docs/adr/0005-decoding-json-with-orjson.md).

    Strict RFC 8259 JSON in UTF-8: NaN, Infinity and unpaired surrogates are not JSON, and a
    reply holding them is as unusable as one that does not parse. A leading byte order mark,
    which RFC 8259 lets a parser ignore, is ignored.
    """
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        raise InvalidReply(diagnostics="The reply is not JSON") from None


def parse_outcome(content: bytes) -> Outcome | None:
    """The Spine code and diagnostics of an OperationOutcome body, or None if it is not one."""
    try:
        doc = load_json(content)
    except InvalidReply:
        return None
    if not isinstance(doc, dict) or doc.get("resourceType") != "OperationOutcome":
        return None
    issues = doc.get("issue")
    issue = issues[0] if isinstance(issues, list) and issues else None
    if not isinstance(issue, dict):
        return Outcome(None, None)
    code = None
    details = issue.get("details")
    codings = details.get("coding") if isinstance(details, dict) else None
    if isinstance(codings, dict):
        codings = [codings]
    for coding in codings if isinstance(codings, list) else ():
        if isinstance(coding, dict) and normalise_code(coding.get("code")):
            code = normalise_code(coding.get("code"))
            break
    diagnostics = issue.get("diagnostics")
    return Outcome(code, diagnostics[:2000] if isinstance(diagnostics, str) else None)


def searchset_resources(doc: Any) -> list[dict]:
    """The resources of a searchset Bundle (an empty Bundle may have no ``entry`` at all)."""
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise InvalidReply(diagnostics="The reply is not a FHIR Bundle")
    if doc.get("type") != "searchset":
        raise InvalidReply(diagnostics="The Bundle is not a searchset")
    entries = doc.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InvalidReply(diagnostics="Bundle.entry is not a list")
    resources = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            resources.append(resource)
    return resources


class _Invalid(Exception):
    """A resource failed the hand-written check; the message names the field."""


# --- References and deviations -----------------------------------------------------------------


def ref_key(reference: Any) -> str | None:
    """``Type/id`` from a relative or absolute reference, with any ``_history`` dropped.

    Entries carry no ``fullUrl`` (CONFORMANCE §2.1), so everything resolves by ``Type/id``.
    """
    if not isinstance(reference, str):
        return None
    parts = reference.strip().split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-2] or not _ID.fullmatch(parts[-1]):
        return None
    return f"{parts[-2]}/{parts[-1]}"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def _tolerate(resource: dict) -> dict:
    """A copy with the known single-object-for-a-list deviations put right (CONFORMANCE D7)."""
    kind = resource.get("resourceType")
    fixed = resource
    if kind == "Location":
        fixed = dict(resource)
        if "telecom" in fixed:
            fixed["telecom"] = _as_list(fixed["telecom"])
        address = fixed.get("address")
        if isinstance(address, list):  # STU3 has one address; take the first of several
            fixed["address"] = address[0] if address else None
    elif kind == "Organization":
        fixed = dict(resource)
        for name in ("address", "telecom"):
            if name in fixed:
                fixed[name] = _as_list(fixed[name])
    return fixed


_PATH_PART = re.compile(r"[A-Za-z0-9_]{1,40}")


def _problem(error: Exception) -> str:
    """Where a validation failed: field paths only, never values (and a field name the provider
    made up, which could be any text, shows as ``?``)."""
    if isinstance(error, ValidationError):
        paths = {
            ".".join(str(p) if _PATH_PART.fullmatch(str(p)) else "?" for p in e["loc"])
            for e in error.errors()
        }
        return "invalid " + ",".join(sorted(paths)[:5])
    return "invalid"


def _skip(ods: str, kind: str, resource_id: Any, problem: str) -> None:
    safe_id = resource_id if isinstance(resource_id, str) and _ID.fullmatch(resource_id) else "?"
    logger.warning("skipped resource ods=%s type=%s id=%s problem=%s", ods, kind, safe_id, problem)


# Validated supporting resources by their exact JSON. A practice sends the same Practitioners,
# Locations and Organization in every window and every search; identical JSON always validates
# the same way, so it is validated once per process (bounded; dict operations are atomic, so
# threads and event loops can share it).
_VALIDATED: dict[tuple[str, bytes], tuple[Any, str | None]] = {}
_VALIDATED_LIMIT = 4096


def _validated(kind: str, resource: dict) -> tuple[Any, str | None]:
    """(fhir.resources model, None), or (None, problem) if the resource is not valid STU3."""
    model_class = _MODELS.get(kind)
    if model_class is None:
        return None, "unexpected resource type"
    key = (kind, orjson.dumps(resource))
    known = _VALIDATED.get(key)
    if known is not None:
        return known
    try:
        result = (model_class.model_validate(_tolerate(resource)), None)
    except (ValidationError, ValueError, TypeError) as error:
        result = (None, _problem(error))
    if len(_VALIDATED) >= _VALIDATED_LIMIT:
        _VALIDATED.clear()
    _VALIDATED[key] = result
    return result


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


def _job_role(concept: Any) -> JobRole:
    if type(concept) is not dict:
        raise _Invalid("practitioner role")
    codings = concept.get("coding")
    if type(codings) is not list or not codings or type(codings[0]) is not dict:
        raise _Invalid("practitioner role")
    code, display = codings[0].get("code"), codings[0].get("display")
    if type(code) is not str or not code or (display is not None and type(display) is not str):
        raise _Invalid("practitioner role")
    return JobRole(code, display or "")


def _channel_from(extensions: Any) -> str | None:
    for ext in extensions or ():
        if ext.url == DELIVERY_CHANNEL_URL and ext.valueCode:
            return ext.valueCode
    return None


# --- The resources slots and appointments point at ---------------------------------------------


class _Graph:
    """The non-Slot resources of a reply, by ``Type/id``, validated on first use."""

    def __init__(self, resources: list[dict], ods: str) -> None:
        self.ods = ods
        self.index: dict[str, dict] = {}
        for resource in resources:
            kind, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(kind, str) and isinstance(rid, str):
                self.index.setdefault(f"{kind}/{rid}", resource)
        self._models: dict[str, Any] = {}
        self._schedules: dict[str, ScheduleInfo | None] = {}
        self._schedule_shapes: set[int] = set()
        self._surgeries: dict[str, tuple[Surgery, Organisation | None]] = {}

    def add(self, key: str, resource: dict) -> None:
        self.index.setdefault(key, resource)

    def model(self, key: str) -> Any:
        if key in self._models:
            return self._models[key]
        resource = self.index.get(key)
        model = None
        kind, rid = key.split("/", 1)
        if resource is None:
            _skip(self.ods, kind, rid, "not in the reply")
        else:
            model, problem = _validated(kind, resource)
            if problem is not None:
                _skip(self.ods, kind, resource.get("id"), problem)
        self._models[key] = model
        return model

    def schedule(self, reference: str) -> ScheduleInfo | None:
        """The schedule a slot points at, or None (logged) if it is missing or unusable."""
        if reference in self._schedules:
            return self._schedules[reference]
        info = None
        key = ref_key(reference)
        resource = self.index.get(key) if key and key.startswith("Schedule/") else None
        if resource is None:
            _skip(self.ods, "Schedule", key.split("/", 1)[1] if key else None, "not in the reply")
        else:
            if len(resource) not in self._schedule_shapes:
                self._schedule_shapes.add(len(resource))
                _canary(FhirSchedule, resource, self.ods)
            try:
                info = self._schedule_info(resource)
            except _Invalid as problem:
                _skip(self.ods, "Schedule", resource.get("id"), f"invalid {problem}")
        self._schedules[reference] = info
        return info

    def _schedule_info(self, resource: dict) -> ScheduleInfo:
        """A strict check of exactly the Schedule fields the site uses (as for slots: there is
        a Schedule per clinician, surgery and session type, so a practice sends many)."""
        schedule_id = resource.get("id")
        if not is_fhir_id(schedule_id):
            raise _Invalid("id")
        actors = resource.get("actor")
        if type(actors) is not list or not actors:
            raise _Invalid("actor")
        location_key = practitioner_key = None
        for actor in actors:
            if type(actor) is not dict or type(actor.get("reference")) is not str:
                raise _Invalid("actor")
            actor_key = ref_key(actor["reference"]) or ""
            if actor_key.startswith("Location/") and not location_key:
                location_key = actor_key
            elif actor_key.startswith("Practitioner/") and not practitioner_key:
                practitioner_key = actor_key
        if location_key is None:
            raise _Invalid("no Location actor")
        category = resource.get("serviceCategory")
        if category is not None and type(category) is not dict:
            raise _Invalid("serviceCategory")
        schedule_type = category.get("text") if category else None
        if schedule_type is not None and type(schedule_type) is not str:
            raise _Invalid("serviceCategory.text")
        role = None
        extensions = resource.get("extension")
        if extensions is not None and type(extensions) is not list:
            raise _Invalid("extension")
        for ext in extensions or ():
            if type(ext) is not dict or type(ext.get("url")) is not str:
                raise _Invalid("extension")
            if ext["url"] == PRACTITIONER_ROLE_URL and role is None:
                role = _job_role(ext.get("valueCodeableConcept"))
        surgery, organisation = self.surgery(location_key)
        return ScheduleInfo(
            id=schedule_id,
            schedule_type=schedule_type or None,
            role=role,
            practitioner=self.clinician(practitioner_key, role) if practitioner_key else None,
            location=surgery,
            organisation=organisation,
        )

    def surgery(self, key: str) -> tuple[Surgery, Organisation | None]:
        if key in self._surgeries:
            return self._surgeries[key]
        model = self.model(key)
        location_id = key.split("/", 1)[1]
        if model is None:
            result = (Surgery(location_id), self.organisation(None))
        else:
            address = ()
            if model.address is not None:
                a = model.address
                address = tuple(
                    part for part in [*(a.line or ()), a.city, a.district, a.postalCode] if part
                )
            phone = next(
                (t.value for t in model.telecom or () if t.system == "phone" and t.value), None
            )
            managing = model.managingOrganization
            org_key = ref_key(managing.reference) if managing is not None else None
            result = (
                Surgery(location_id, model.name, address, phone),
                self.organisation(org_key),
            )
        self._surgeries[key] = result
        return result

    def organisation(self, key: str | None) -> Organisation | None:
        if key is None or not key.startswith("Organization/"):
            # Providers always include the practice's Organization; use it if there is one.
            keys = [k for k in self.index if k.startswith("Organization/")]
            if len(keys) != 1:
                return None
            key = keys[0]
        model = self.model(key)
        if model is None:
            return None
        ods = next(
            (i.value for i in model.identifier or () if i.system == ODS_SYSTEM and i.value), None
        )
        return Organisation(ods, model.name)

    def clinician(self, key: str, role: JobRole | None) -> Clinician:
        practitioner_id = key.split("/", 1)[1]
        model = self.model(key)
        if model is None:
            return Clinician(practitioner_id, None, None, role)
        name = None
        if model.name:
            first = model.name[0]
            parts = [*(first.prefix or ()), *(first.given or ()), first.family]
            name = " ".join(p for p in parts if p) or first.text
        return Clinician(practitioner_id, name, model.gender, role)


# --- Slots -------------------------------------------------------------------------------------


class _Reference(msgspec.Struct, gc=False):
    reference: str | None = None


class _Concept(msgspec.Struct, gc=False):
    text: str | None = None


class _Extension(msgspec.Struct, gc=False):
    url: str
    valueCode: Any = None


class _SlotFields(msgspec.Struct, tag_field="resourceType", tag="Slot", gc=False):
    """A Slot's fields the site reads, typed as the checks in ``_free_slots`` need them.

    Not garbage-collected (a Slot cannot hold a reference cycle) and built without a dict per
    resource or per key: the reason the typed decode is quicker than ``orjson.loads``.
    """

    id: str | None = None
    status: str | None = None
    start: str | None = None
    end: str | None = None
    schedule: _Reference | None = None
    serviceType: list[_Concept] | None = None
    extension: list[_Extension] | None = None


# STU3 Slot's other fields: allowed on the typed way, never parsed (the canary reads them).
_UNREAD_SLOT_FIELDS = (
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "modifierExtension",
    "identifier",
    "serviceCategory",
    "specialty",
    "appointmentType",
    "overbooked",
    "comment",
)

# As ``_SlotFields``, but with only STU3 Slot's own fields: any other sends the reply the
# careful way, where the canary reports it.
_StrictSlotFields = msgspec.defstruct(
    "_StrictSlotFields",
    [(name, msgspec.Raw, msgspec.Raw()) for name in _UNREAD_SLOT_FIELDS],
    bases=(_SlotFields,),
    module=__name__,
    tag="Slot",
    forbid_unknown_fields=True,
    gc=False,
)

# The other resources a slot search reply holds: only their type is decoded here, and each is
# then read in full from its own JSON.
_SUPPORTING = tuple(
    msgspec.defstruct(f"_{kind}", [], module=__name__, tag_field="resourceType", tag=kind, gc=False)
    for kind in ("Schedule", "Location", "Practitioner", "Organization")
)
_Resource = Union[(_StrictSlotFields, *_SUPPORTING, None)]


class _Entry(msgspec.Struct, gc=False):
    resource: _Resource = None


class _Searchset(msgspec.Struct, gc=False):
    resourceType: Literal["Bundle"]
    type: Literal["searchset"]
    entry: list[_Entry] | None = None


class _RawEntry(msgspec.Struct, gc=False):
    resource: msgspec.Raw = msgspec.Raw()


class _RawSearchset(msgspec.Struct, gc=False):
    entry: list[_RawEntry] | None = None


_TYPED_REPLY = msgspec.json.Decoder(_Searchset)
_RAW_REPLY = msgspec.json.Decoder(_RawSearchset)


def parse_slot_reply(content: bytes, practice: PracticeEndpoint) -> tuple[FreeSlot, ...]:
    """The free slots in a slot search reply's body, as ``parse_free_slots`` of it would give
    them (docs/adr/0007-decoding-slot-replies-into-typed-fields.md).

    A reply that is a searchset of Slots, Schedules, Locations, Practitioners and an
    Organization, whose Slots have only STU3's fields with the types the site needs, is decoded
    straight into those fields; the Slot fields the site does not read are never built. Anything
    else (a deviation, a bad resource, something that is not JSON) goes the careful way:
    ``load_json`` and ``parse_free_slots``, which have the last word on it.
    """
    try:
        typed = _TYPED_REPLY.decode(content).entry or ()
        raw = _RAW_REPLY.decode(content).entry or ()
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return parse_free_slots(load_json(content), practice)
    slots: list[_SlotFields] = []
    others: list[dict] = []
    first_slot = None
    for entry, raw_entry in zip(typed, raw, strict=True):
        resource = entry.resource
        if type(resource) is _StrictSlotFields:
            if first_slot is None:
                first_slot = raw_entry.resource
            slots.append(resource)
        elif resource is not None:
            others.append(orjson.loads(memoryview(raw_entry.resource)))
    if first_slot is not None:
        _canary(FhirSlot, bytes(first_slot), practice.ods_code)
    return _free_slots(slots, _Graph(others, practice.ods_code), practice)


def parse_free_slots(doc: Any, practice: PracticeEndpoint) -> tuple[FreeSlot, ...]:
    """The free slots in a decoded slot search reply, earliest first (then by end, surgery and
    slot id, so the order never depends on the provider's). Raises InvalidReply only when the
    reply as a whole is unusable; a bad slot is skipped and logged, and the first Slot of each
    shape (number of fields) is also validated in full as a canary."""
    ods = practice.ods_code
    slots: list[_SlotFields] = []
    others: list[dict] = []
    shapes: set[int] = set()
    for resource in searchset_resources(doc):
        if resource.get("resourceType") != "Slot":
            others.append(resource)
            continue
        if len(resource) not in shapes:
            shapes.add(len(resource))
            _canary(FhirSlot, resource, ods)
        try:
            slots.append(msgspec.convert(resource, _SlotFields))
        except msgspec.ValidationError as error:
            _skip(ods, "Slot", resource.get("id"), f"invalid {_field_of(error)}")
    return _free_slots(slots, _Graph(others, ods), practice)


def _field_of(error: msgspec.ValidationError) -> str:
    """The top-level field a validation error is about (``... - at `$.serviceType[0].text```
    is ``serviceType``), never a value."""
    _, _, path = str(error).rpartition("`$.")
    name = re.match(r"[A-Za-z]{1,40}", path)
    return name.group(0) if name else "shape"


def _free_slots(
    slots: list[_SlotFields], graph: _Graph, practice: PracticeEndpoint
) -> tuple[FreeSlot, ...]:
    """The checks of the fields the site uses, for the Slots of a reply, and their order.

    The order is kept with the UTC times already parsed for the checks, rather than by sorting
    the slots afterwards with a key that converts both times of every slot again."""
    ods, practice_name = practice.ods_code, practice.name
    id_match = _ID.fullmatch
    # Diaries are contiguous and clinicians work the same hours, so most times recur. Each is
    # kept as (UK time, UTC): only UTC compares right across a clock change.
    times: dict[str, tuple[datetime, datetime]] = {}
    schedules: dict[str, ScheduleInfo | None] = {}
    keyed: list[tuple[datetime, datetime, str, str, int, FreeSlot]] = []
    append = keyed.append
    new_slot = FreeSlot._trusted
    for resource in slots:
        try:
            slot_id = resource.id
            if slot_id is None or not id_match(slot_id):
                raise _Invalid("id")
            if resource.status != "free":
                raise _Invalid("status is not free")
            start_raw, end_raw = resource.start, resource.end
            if start_raw is None or end_raw is None:
                raise _Invalid("start/end")
            start = times.get(start_raw)
            if start is None:
                start = times[start_raw] = _instant(start_raw)
            end = times.get(end_raw)
            if end is None:
                end = times[end_raw] = _instant(end_raw)
            if end[1] <= start[1]:
                raise _Invalid("end is not after start")
            reference = resource.schedule.reference if resource.schedule is not None else None
            if reference is None:
                raise _Invalid("schedule")
            info = schedules.get(reference, _UNSEEN)
            if info is _UNSEEN:
                info = schedules[reference] = graph.schedule(reference)
            if info is None:
                raise _Invalid("schedule not usable")
            slot_type = resource.serviceType[0].text if resource.serviceType else None
            channel = None
            for ext in resource.extension or ():
                if ext.url == DELIVERY_CHANNEL_URL:
                    channel = ext.valueCode
                    if type(channel) is not str:
                        raise _Invalid("delivery channel")
        except _Invalid as problem:
            _skip(ods, "Slot", resource.id, f"invalid {problem}")
            continue
        slot = new_slot(
            ods,
            practice_name,
            (slot_id,),
            start[0],
            end[0],
            start_raw,
            end_raw,
            slot_type or None,
            channel,
            info,
        )
        append((start[1], end[1], info.location.name or "", slot_id, len(keyed), slot))
    # Providers mostly send slots in time order already, which sorting finds in one pass. The
    # position breaks a tie (a repeated slot id), so slots themselves are never compared.
    keyed.sort()
    return tuple([entry[5] for entry in keyed])


_UNSEEN: Any = object()


def _instant(value: str) -> tuple[datetime, datetime]:
    """A FHIR instant (seconds and an offset, nothing looser) in Europe/London and in UTC."""
    # The common shape, yyyy-mm-ddThh:mm:ss+hh:mm, is checked by position; fromisoformat then
    # insists on digits. Anything else must pass the full pattern.
    if not (
        len(value) == 25
        and value[4] == "-"
        and value[7] == "-"
        and value[10] == "T"
        and value[13] == ":"
        and value[16] == ":"
        and value[19] in "+-"
        and value[22] == ":"
    ) and not _INSTANT.fullmatch(value):
        raise _Invalid("start/end format")
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(LONDON), moment.astimezone(UTC)
    except ValueError:  # well-formed but not a real time (month 13, hour 25)
        raise _Invalid("start/end value") from None


# Resources whose exact JSON has passed the canary: a practice sends the same Schedules (and
# mostly the same first Slot) in every search, and the same JSON always validates the same way.
_CONFORMING: dict[tuple[Any, bytes], None] = {}


def _canary(model_class: Any, resource: dict | bytes, ods: str) -> None:
    """Validate one resource (its decoded JSON, or the JSON itself) in full, to notice providers
    drifting from STU3.

    Only logged: the fields the site uses are checked strictly by hand, and a deviation in a
    field the site never reads is no reason to hide a bookable time.
    """
    text = resource if isinstance(resource, bytes) else orjson.dumps(resource)
    if (model_class, text) in _CONFORMING:
        return
    decoded = orjson.loads(text) if isinstance(resource, bytes) else resource
    try:
        model_class.model_validate(decoded)
    except (ValidationError, ValueError, TypeError) as error:
        kind, rid = decoded.get("resourceType"), decoded.get("id")
        logger.warning(
            "resource does not conform to STU3 ods=%s type=%s id=%s problem=%s",
            ods,
            kind if kind in _KINDS else "?",
            rid if is_fhir_id(rid) else "?",
            _problem(error),
        )
        return
    if len(_CONFORMING) >= _VALIDATED_LIMIT:
        _CONFORMING.clear()
    _CONFORMING[model_class, text] = None


# --- Appointments ------------------------------------------------------------------------------


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
    graph: _Graph | None = None,
    known: Mapping[str, Surgery | Clinician] | None = None,
    etag: str | None = None,
) -> BookedAppointment:
    """One Appointment resource → ``BookedAppointment``.

    Raises InvalidReply if it is not a valid STU3 Appointment with an id, start and end, and
    NotThePatients if ``patient`` is given and is not one of its participants.
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise InvalidReply(diagnostics="The reply is not a FHIR Appointment")
    graph = graph or _Graph([], practice.ods_code)
    # Deviation (CONFORMANCE §5.2): whole resources inside participant[].resource.
    cleaned = dict(resource)
    participants = resource.get("participant")
    if isinstance(participants, list):
        cleaned["participant"] = []
        for participant in participants:
            if isinstance(participant, dict) and "resource" in participant:
                participant = dict(participant)
                inner = participant.pop("resource")
                actor = participant.get("actor")
                key = ref_key(actor.get("reference")) if isinstance(actor, dict) else None
                if isinstance(inner, dict) and key:
                    graph.add(key, inner)
            cleaned["participant"].append(participant)
    try:
        model = FhirAppointment.model_validate(cleaned)
    except (ValidationError, ValueError, TypeError) as error:
        raise InvalidReply(diagnostics=f"Appointment {_problem(error)}") from None
    start, end = _london(model.start), _london(model.end)
    if not model.id or start is None or end is None:
        raise InvalidReply(diagnostics="Appointment without id, start or end")
    actors = [ref_key(p.actor.reference) for p in model.participant if p.actor is not None]
    if patient is not None and f"Patient/{patient.nhs_number}" not in actors:
        raise NotThePatients
    known = known or {}
    role = _role_from(model.extension)
    location = practitioner = None
    for key in actors:
        if key and key.startswith("Location/") and location is None:
            if key in graph.index:
                location = graph.surgery(key)[0]
            else:
                hint = known.get(key)
                location = hint if isinstance(hint, Surgery) else Surgery(key.split("/", 1)[1])
        elif key and key.startswith("Practitioner/") and practitioner is None:
            if key in graph.index:
                practitioner = graph.clinician(key, role)
            else:
                hint = known.get(key)
                practitioner = (
                    hint
                    if isinstance(hint, Clinician)
                    else Clinician(key.split("/", 1)[1], None, None, role)
                )
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
    graph = _Graph(
        [r for r in resources if r.get("resourceType") != "Appointment"], practice.ods_code
    )
    out = []
    for resource in appointments:
        try:
            out.append(parse_appointment(resource, practice, patient, graph=graph))
        except InvalidReply as error:
            _skip(practice.ods_code, "Appointment", resource.get("id"), error.diagnostics or "")
        except NotThePatients:
            _skip(practice.ods_code, "Appointment", resource.get("id"), "another patient's")
    return tuple(sorted(out, key=lambda a: (instant(a.start), a.id)))
