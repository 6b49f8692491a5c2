"""The careful way: resources validated in full with ``fhir.resources.STU3``.

Supporting resources (Location, Practitioner, Organization) are validated once per exact JSON,
after the known single-object-for-a-list deviations are put right (CONFORMANCE D7). Slots and
Schedules are checked by hand where they are parsed; ``canary`` validates the first of each
shape in full only to log a provider drifting from STU3.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fhir.resources.STU3.location import Location as FhirLocation
from fhir.resources.STU3.organization import Organization as FhirOrganization
from fhir.resources.STU3.practitioner import Practitioner as FhirPractitioner
from pydantic import ValidationError

from booking_site.gpconnect.parsing.bundles import is_fhir_id

logger = logging.getLogger("booking_site.gpconnect")

_MODELS: dict[str, Any] = {
    "Location": FhirLocation,
    "Practitioner": FhirPractitioner,
    "Organization": FhirOrganization,
}

_KINDS = frozenset({"Slot", "Schedule", "Practitioner", "Location", "Organization"})

_PATH_PART = re.compile(r"[A-Za-z0-9_]{1,40}")


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


def problem_in(error: Exception) -> str:
    """Where a validation failed: field paths only, never values (and a field name the provider
    made up, which could be any text, shows as ``?``)."""
    if isinstance(error, ValidationError):
        paths = {
            ".".join(str(p) if _PATH_PART.fullmatch(str(p)) else "?" for p in e["loc"])
            for e in error.errors()
        }
        return "invalid " + ",".join(sorted(paths)[:5])
    return "invalid"


# Validated supporting resources by their exact JSON. A practice sends the same Practitioners,
# Locations and Organization in every window and every search; identical JSON always validates
# the same way, so it is validated once per process (bounded; dict operations are atomic, so
# threads and event loops can share it).
_VALIDATED: dict[tuple[str, bytes], tuple[Any, str | None]] = {}
_VALIDATED_LIMIT = 4096


def validated(kind: str, resource: dict) -> tuple[Any, str | None]:
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
        result = (None, problem_in(error))
    if len(_VALIDATED) >= _VALIDATED_LIMIT:
        _VALIDATED.clear()
    _VALIDATED[key] = result
    return result


# Resources whose exact JSON has passed the canary: a practice sends the same Schedules (and
# mostly the same first Slot) in every search, and the same JSON always validates the same way.
_CONFORMING: dict[tuple[Any, bytes], None] = {}


def canary(model_class: Any, resource: dict | bytes, ods: str) -> None:
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
            problem_in(error),
        )
        return
    if len(_CONFORMING) >= _VALIDATED_LIMIT:
        _CONFORMING.clear()
    _CONFORMING[model_class, text] = None
