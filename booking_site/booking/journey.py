"""The patient's answers so far, kept in their session between the journey's pages."""

import datetime
import uuid
from dataclasses import asdict, dataclass, field, replace

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
        return replace(self, slot=slot, details={}, request_id=str(uuid.uuid4()))

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
