"""The patient's answers so far, kept in their session between the journey's pages."""

import datetime
import uuid
from dataclasses import asdict, dataclass, field, replace

from django.core import signing
from django.http import HttpRequest

_KEY = "booking_journey"


@dataclass(frozen=True)
class Journey:
    ods_codes: tuple[str, ...] = ()
    scope: str = ""
    chosen: tuple[str, ...] = ()
    start: datetime.date | None = None
    end: datetime.date | None = None
    period: str = ""
    # The slot chosen: its practice and slot ids, and the display fields shown back.
    slot: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    # Made when a slot is chosen and kept until the booking is stored, so every retry of
    # "Confirm" sends the same X-Request-ID (D9).
    request_id: str = ""

    @property
    def has_where(self) -> bool:
        return bool(self.ods_codes)

    @property
    def has_when(self) -> bool:
        return self.start is not None and self.end is not None

    def with_slot(self, slot: dict) -> "Journey":
        """Another time chosen: a new request; what the patient typed stays (the details page
        shows it again, and asks for a phone number if this slot needs one)."""
        return replace(self, slot=slot, request_id=str(uuid.uuid4()))

    def with_new_request(self) -> "Journey":
        """After a booking the practice refused: trying again is a new request, never a repeat
        of one the patient was told is not booked."""
        return replace(self, request_id=str(uuid.uuid4()))


def load(request: HttpRequest) -> Journey:
    return _from_session(request.session.get(_KEY))


async def aload(request: HttpRequest) -> Journey:
    """``load`` for async views: the session is read through its async API."""
    return _from_session(await request.session.aget(_KEY))


def save(request: HttpRequest, journey: Journey) -> None:
    request.session[_KEY] = _to_session(journey)


async def asave(request: HttpRequest, journey: Journey) -> None:
    await request.session.aset(_KEY, _to_session(journey))


def clear(request: HttpRequest) -> None:
    request.session.pop(_KEY, None)


# --- What one "Check your answers" page books ---------------------------------------------------
# The session holds one journey, but a patient may have several tabs: each check-answers page
# carries, signed, exactly the slot and answers it shows (with the booking's request id), and
# pressing "Book" on it books that, whatever another tab has chosen since. Single use: the
# request id makes a second press of the same page the same booking (ADR 0003).
_CHECK_SALT = "booking.check-answers"
CHECK_MAX_AGE_SECONDS = 60 * 60


def signed_for_check(journey: Journey, user_pk: int) -> str:
    return signing.dumps(
        {"user": user_pk, "journey": _to_session(journey)}, salt=_CHECK_SALT, compress=True
    )


def from_check(value: str, user_pk: int) -> Journey | None:
    """The journey a check-answers page showed, if the value is one this site signed for this
    patient within the hour and it has a slot, answers and a request id."""
    try:
        data = signing.loads(value, salt=_CHECK_SALT, max_age=CHECK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user_pk:
        return None
    journey = _from_session(data.get("journey"))
    if not (journey.slot and journey.details and journey.request_id):
        return None
    return journey


def _from_session(data: dict | None) -> Journey:
    data = data or {}
    try:
        return Journey(
            ods_codes=tuple(data.get("ods_codes", ())),
            scope=data.get("scope", ""),
            chosen=tuple(data.get("chosen", ())),
            start=_date(data.get("start")),
            end=_date(data.get("end")),
            period=data.get("period", ""),
            slot=data.get("slot") or {},
            details=data.get("details") or {},
            request_id=data.get("request_id", ""),
        )
    except (TypeError, ValueError, AttributeError):
        return Journey()


def _to_session(journey: Journey) -> dict:
    data = asdict(journey)
    data["start"] = journey.start.isoformat() if journey.start else None
    data["end"] = journey.end.isoformat() if journey.end else None
    return data


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None
