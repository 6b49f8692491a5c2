"""The ways a practice's system can say no, as a small hierarchy of typed errors.

Every error carries a plain-English ``message`` fit to show a patient, and the Spine error
``code`` and ``diagnostics`` from the provider's OperationOutcome (for logs and support, never for
patients). Raw HTTP statuses and httpx exceptions never leave this package (STYLE rule 3).

Matching is on the Spine code only (CONFORMANCE D6): providers disagree on the coding system and
the issue type. Where the code alone is ambiguous (``ACCESS_DENIED`` means different things on
401, 403, 409 and 461) the HTTP status and the operation pick the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# Operations, as they appear in log lines and pick between ambiguous errors.
SEARCH = "slot_search"
BOOK = "book"
READ = "read"
LIST = "patient_appointments"
CANCEL = "cancel"
TOKEN = "token"  # noqa: S105 - an operation name, not a secret


class ProviderError(Exception):
    """A practice's system could not do what was asked."""

    kind: ClassVar[str] = "provider_error"
    default_message: ClassVar[str] = "There was a problem with the practice's system."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        diagnostics: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code
        self.diagnostics = diagnostics
        super().__init__(self.message)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.diagnostics))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


def _rebuild(cls, message, code, diagnostics):
    return cls(message, code=code, diagnostics=diagnostics)


class SlotTaken(ProviderError):
    """409 DUPLICATE_REJECTED: a slot was booked by someone else since the search."""

    kind = "slot_taken"
    default_message = "That time has just been booked by someone else. Choose another time."


class InvalidRequest(ProviderError):
    """400 or 422 (INVALID_RESOURCE, INVALID_PARAMETER, REFERENCE_NOT_FOUND, BAD_REQUEST, …).

    Usually a defect on the site's side; the diagnostics say what the provider disliked.
    """

    kind = "invalid_request"
    default_message = "The practice's system could not accept this request."


class Forbidden(ProviderError):
    """403 ACCESS_DENIED or NO_ORGANISATION_CONSENT: the practice refuses this access."""

    kind = "forbidden"
    default_message = (
        "Online booking is not available at this practice. Contact the practice instead."
    )


class NotAuthorised(ProviderError):
    """401: the access token was missing, invalid or expired."""

    kind = "not_authorised"
    default_message = "Your sign-in has expired. Sign in again."


class TokenRefused(NotAuthorised):
    """The API platform would not exchange the patient's NHS login ID token (expired, revoked,
    not P9): nothing was sent to the practice. Signing in again gets a new one."""

    kind = "token_refused"
    default_message = "We could not confirm who you are with NHS login. Sign in again."


class NotFound(ProviderError):
    """404 (NO_RECORD_FOUND, PATIENT_NOT_FOUND, …): the practice has no such record."""

    kind = "not_found"
    default_message = "We could not find this record at the practice."


class Unavailable(ProviderError):
    """5xx, a refused connection or no reply in time. Safe to try again later."""

    kind = "unavailable"
    default_message = "The practice's system is not responding. Try again later."

    def __init__(self, message: str | None = None, *, timed_out: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.timed_out = timed_out

    def __reduce__(self):
        return (_rebuild_unavailable, (self.message, self.code, self.diagnostics, self.timed_out))


def _rebuild_unavailable(message, code, diagnostics, timed_out):
    return Unavailable(message, code=code, diagnostics=diagnostics, timed_out=timed_out)


class InvalidReply(ProviderError):
    """The reply was not JSON, or not the FHIR resource asked for."""

    kind = "invalid_reply"
    default_message = "The practice's system sent a reply we could not read."


class CancellationDisabled(Forbidden):
    """403 ACCESS_DENIED on a cancellation: the practice does not allow online cancelling."""

    kind = "cancellation_disabled"
    default_message = (
        "Your practice does not let you cancel appointments online. Contact the practice to cancel."
    )


class TooLateToCancel(Forbidden):
    """461 ACCESS_DENIED: inside the practice's cancellation cut-off."""

    kind = "too_late_to_cancel"
    default_message = "It's too late to cancel this appointment online. Phone the practice."


class CancellationRefused(ProviderError):
    """409 ACCESS_DENIED on a cancellation: the practice refused it."""

    kind = "cancellation_refused"
    default_message = "The practice could not cancel this appointment online. Contact the practice."


class VersionConflict(ProviderError):
    """409 FHIR_CONSTRAINT_VIOLATION: the appointment changed since it was read."""

    kind = "version_conflict"
    default_message = (
        "This appointment has changed since you opened it. Check the details and try again."
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """The parts of an OperationOutcome the site acts on."""

    code: str | None
    diagnostics: str | None


_NOT_FOUND_CODES = frozenset(
    {
        "NO_RECORD_FOUND",
        "PATIENT_NOT_FOUND",
        "ORGANISATION_NOT_FOUND",
        "PRACTITIONER_NOT_FOUND",
    }
)
_INVALID_CODES = frozenset(
    {
        "INVALID_RESOURCE",
        "INVALID_PARAMETER",
        "REFERENCE_NOT_FOUND",
        "BAD_REQUEST",
        "INVALID_IDENTIFIER_VALUE",
        "INVALID_IDENTIFIER_VA",
        "VALIDATION_ERROR",
        "UNSUPPORTED_VALUE",
    }
)
_NHS_NUMBER_MESSAGE = "There's a problem with your NHS number. Contact the practice."
_NO_SERVICE_MESSAGE = "This practice does not offer online appointments yet."
_NOT_FOUND_MESSAGES = {
    LIST: "We could not find your record at this practice. Contact the practice.",
    BOOK: "We could not find your record at this practice. Contact the practice.",
    READ: "We could not find this appointment at the practice.",
    CANCEL: "We could not find this appointment at the practice.",
}


def normalise_code(code: str | None) -> str | None:
    """Spine codes as providers spell them (``INVALID RESOURCE``, ``ACCESS DENIED``) → canonical."""
    if not code or not isinstance(code, str):
        return None
    return "_".join(code.strip().upper().split())


def error_for(status: int, outcome: Outcome | None, operation: str) -> ProviderError:
    """The error a non-success reply means. Called for every status outside 2xx."""
    code = outcome.code if outcome else None
    extra = {"code": code, "diagnostics": outcome.diagnostics if outcome else None}
    if status >= 500:
        return Unavailable(**extra)
    if status == 401:
        return NotAuthorised(**extra)
    if status == 461:
        return TooLateToCancel(**extra)
    if status == 404:
        # Providers disagree on the code (NO_RECORD_FOUND, REFERENCE_NOT_FOUND, …); the API
        # platform sends a bare "Not Found" when the practice has no GP Connect endpoint.
        message = _NOT_FOUND_MESSAGES.get(operation) if outcome else _NO_SERVICE_MESSAGE
        return NotFound(message, **extra)
    if code == "DUPLICATE_REJECTED":
        return SlotTaken(**extra)
    if code == "FHIR_CONSTRAINT_VIOLATION":
        return VersionConflict(**extra)
    if code == "NO_ORGANISATION_CONSENT":
        return Forbidden(**extra)
    if code == "INVALID_NHS_NUMBER":
        return InvalidRequest(_NHS_NUMBER_MESSAGE, **extra)
    if code in _NOT_FOUND_CODES:
        return NotFound(_NOT_FOUND_MESSAGES.get(operation), **extra)
    if code == "ACCESS_DENIED":
        if operation == CANCEL:
            return CancellationRefused(**extra) if status == 409 else CancellationDisabled(**extra)
        return Forbidden(**extra)
    if code in _INVALID_CODES:
        return InvalidRequest(**extra)
    # No code we know: fall back on the status.
    if status == 403:
        return CancellationDisabled(**extra) if operation == CANCEL else Forbidden(**extra)
    if status == 409 and operation == BOOK:
        return SlotTaken(**extra)
    if status == 409 and operation == CANCEL:
        return VersionConflict(**extra)
    if 400 <= status < 500:
        return InvalidRequest(**extra)
    return InvalidReply(**extra)
