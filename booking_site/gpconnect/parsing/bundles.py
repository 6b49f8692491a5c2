"""What every reply parser shares: strict JSON, a searchset Bundle's resources, references by
``Type/id``, and the log line for a resource skipped."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson

from booking_site.gpconnect.errors import InvalidReply

logger = logging.getLogger("booking_site.gpconnect")

# A FHIR id.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_BOM = b"\xef\xbb\xbf"


class Invalid(Exception):
    """A resource failed a hand-written check; the message names the field."""


def is_fhir_id(value: Any) -> bool:
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None


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


def ref_key(reference: Any) -> str | None:
    """``Type/id`` from a relative or absolute reference, with any ``_history`` dropped.

    Entries carry no ``fullUrl`` (CONFORMANCE §2.1), so everything resolves by ``Type/id``.
    """
    if not isinstance(reference, str):
        return None
    parts = reference.strip().split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-2] or not FHIR_ID.fullmatch(parts[-1]):
        return None
    return f"{parts[-2]}/{parts[-1]}"


def log_skipped(ods: str, kind: str, resource_id: Any, problem: str) -> None:
    """One line for a resource left out of what the site shows: never a value from it."""
    safe_id = resource_id if is_fhir_id(resource_id) else "?"
    logger.warning("skipped resource ods=%s type=%s id=%s problem=%s", ods, kind, safe_id, problem)


def log_unusable(ods: str, operation: str, problem: str | None) -> None:
    """One line for a whole reply the site could not use (CONFORMANCE D7): the practice, the
    call and the reason, which parsers write as field paths and never as values from the reply."""
    logger.warning(
        "unusable reply ods=%s op=%s problem=%s", ods, operation, problem or "not described"
    )
