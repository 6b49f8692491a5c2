"""Slot search replies → the practice's free slots, earliest first.

``parse_slot_reply`` takes a reply's body: one with no deviation at all is decoded straight into
the Slot fields the site checks (msgspec, the typed way); any other goes the careful way,
``parse_free_slots`` of its plain JSON, with the same checks
(docs/adr/0007-decoding-slot-replies-into-typed-fields.md). A bad Slot is skipped and logged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, Union

import msgspec
import orjson
from fhir.resources.STU3.slot import Slot as FhirSlot

from booking_site.gpconnect.errors import SEARCH, InvalidReply
from booking_site.gpconnect.fhir_urls import DELIVERY_CHANNEL_URL
from booking_site.gpconnect.parsing.bundles import (
    FHIR_ID,
    Invalid,
    load_json,
    log_skipped,
    log_unusable,
    searchset_resources,
)
from booking_site.gpconnect.parsing.stu3 import canary
from booking_site.gpconnect.parsing.supporting_resources import SupportingResources
from booking_site.gpconnect.values import LONDON, FreeSlot, PracticeEndpoint, ScheduleInfo

# A FHIR instant always has seconds and an offset.
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")


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
        try:
            return parse_free_slots(load_json(content), practice)
        except InvalidReply as error:
            log_unusable(practice.ods_code, SEARCH, error.diagnostics)
            raise
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
        canary(FhirSlot, bytes(first_slot), practice.ods_code)
    return _free_slots(slots, SupportingResources(others, practice.ods_code), practice)


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
            canary(FhirSlot, resource, ods)
        try:
            slots.append(msgspec.convert(resource, _SlotFields))
        except msgspec.ValidationError as error:
            log_skipped(ods, "Slot", resource.get("id"), f"invalid {_field_of(error)}")
    return _free_slots(slots, SupportingResources(others, ods), practice)


def _field_of(error: msgspec.ValidationError) -> str:
    """The top-level field a validation error is about (``... - at `$.serviceType[0].text```
    is ``serviceType``), never a value."""
    _, _, path = str(error).rpartition("`$.")
    name = re.match(r"[A-Za-z]{1,40}", path)
    return name.group(0) if name else "shape"


def _free_slots(
    slots: list[_SlotFields], supporting: SupportingResources, practice: PracticeEndpoint
) -> tuple[FreeSlot, ...]:
    """The checks of the fields the site uses, for the Slots of a reply, and their order.

    The order is kept with the UTC times already parsed for the checks, rather than by sorting
    the slots afterwards with a key that converts both times of every slot again."""
    ods, practice_name = practice.ods_code, practice.name
    id_match = FHIR_ID.fullmatch
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
                raise Invalid("id")
            if resource.status != "free":
                raise Invalid("status is not free")
            start_raw, end_raw = resource.start, resource.end
            if start_raw is None or end_raw is None:
                raise Invalid("start/end")
            start = times.get(start_raw)
            if start is None:
                start = times[start_raw] = _instant(start_raw)
            end = times.get(end_raw)
            if end is None:
                end = times[end_raw] = _instant(end_raw)
            if end[1] <= start[1]:
                raise Invalid("end is not after start")
            reference = resource.schedule.reference if resource.schedule is not None else None
            if reference is None:
                raise Invalid("schedule")
            info = schedules.get(reference, _UNSEEN)
            if info is _UNSEEN:
                info = schedules[reference] = supporting.schedule(reference)
            if info is None:
                raise Invalid("schedule not usable")
            slot_type = resource.serviceType[0].text if resource.serviceType else None
            channel = None
            for ext in resource.extension or ():
                if ext.url == DELIVERY_CHANNEL_URL:
                    channel = ext.valueCode
                    if type(channel) is not str:
                        raise Invalid("delivery channel")
        except Invalid as problem:
            log_skipped(ods, "Slot", resource.id, f"invalid {problem}")
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
        raise Invalid("start/end format")
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(LONDON), moment.astimezone(UTC)
    except ValueError:  # well-formed but not a real time (month 13, hour 25)
        raise Invalid("start/end value") from None
