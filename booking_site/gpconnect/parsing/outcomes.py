"""An OperationOutcome reply (a practice saying no) → the Spine code and diagnostics."""

from __future__ import annotations

from booking_site.gpconnect.errors import InvalidReply, Outcome, normalise_code
from booking_site.gpconnect.parsing.bundles import load_json


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
