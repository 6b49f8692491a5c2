"""The frozen values gpconnect's calls take and give back: practices, slots, results, bookings.

Nothing here knows about HTTP or FHIR JSON: the parsers (``parsing/``) build these from provider
replies, and views and services only ever see these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nhs_number

if TYPE_CHECKING:
    from booking_site.gpconnect.errors import ProviderError

LONDON = ZoneInfo("Europe/London")

# CONFORMANCE D3: one slot search covers at most 14 days.
MAX_WINDOW_DAYS = 14


def instant(moment: datetime) -> datetime:
    """The same moment in UTC.

    Two datetimes that share a tzinfo subtract and compare by wall clock, ignoring ``fold``:
    across a clock change (01:30 BST and 01:30 GMT on 31 October 2027 are an hour apart) only
    UTC arithmetic is right. Durations, ordering and adjacency all go through this.
    """
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PracticeEndpoint:
    """Where a practice's GP Connect service is, as the site's practice directory knows it."""

    ods_code: str
    name: str
    base_url: str
    phone: str = ""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path

    @property
    def host(self) -> str:
        """The provider host: the unit the client bounds concurrent requests by."""
        return urlsplit(self.base_url).netloc.lower()


@dataclass(frozen=True, slots=True)
class Patient:
    """The patient a call is made for. CONFORMANCE D1: their id at a practice is the NHS number."""

    nhs_number: str = field(repr=False)
    # The patient's NHS login ID token, exchanged at the API platform for their access token
    # (credentials.py). Only NHS login's proof of who they are gets one.
    id_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        # It becomes part of URL paths: only a real NHS number will do (CONFORMANCE D1).
        if not (
            isinstance(self.nhs_number, str)
            and len(self.nhs_number) == 10
            and self.nhs_number.isascii()
            and self.nhs_number.isdigit()
            and nhs_number.is_valid(self.nhs_number)
        ):
            raise ValueError("Not a valid NHS number")


@dataclass(frozen=True, slots=True)
class DateRange:
    """Whole days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A date range cannot end before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def windows(self, max_days: int = MAX_WINDOW_DAYS) -> tuple[DateRange, ...]:
        """Split into consecutive ranges of at most ``max_days`` days (CONFORMANCE D3)."""
        out = []
        start = self.start
        while start <= self.end:
            end = min(start + timedelta(days=max_days - 1), self.end)
            out.append(DateRange(start, end))
            start = end + timedelta(days=1)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class JobRole:
    """An SDS job role (CareConnect-SDSJobRoleName-1), e.g. R0260 General Medical Practitioner."""

    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Clinician:
    """The practitioner a schedule belongs to."""

    id: str
    name: str | None
    gender: str | None
    role: JobRole | None


@dataclass(frozen=True, slots=True)
class Surgery:
    """The Location where an appointment happens (the practice's main or a branch surgery).

    Only ``id`` is certain: a Location resource the provider left out or got wrong leaves the
    rest empty rather than hiding the slots at it.
    """

    id: str
    name: str | None = None
    address: tuple[str, ...] = ()
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Organisation:
    """The practice as its own system describes itself."""

    ods_code: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """Everything a provider says about a schedule, shared by all the slots on it."""

    id: str
    schedule_type: str | None
    role: JobRole | None
    practitioner: Clinician | None
    location: Surgery
    organisation: Organisation | None


@dataclass(frozen=True)
class FreeSlot:
    """One free slot in a practice's diary, as the site offers it.

    ``start_raw``/``end_raw`` keep the provider's own strings: a booking must send them back
    string-identical (CONFORMANCE §3.1).

    Not ``slots=True``: the parser builds thousands of these per reply through ``_trusted``,
    which fills ``__dict__`` in one step instead of one ``object.__setattr__`` per field
    (docs/adr/0002-parsing-slots-fast.md).
    """

    practice_ods: str
    practice_name: str
    slot_ids: tuple[str, ...]
    start: datetime
    end: datetime
    start_raw: str
    end_raw: str
    slot_type: str | None
    delivery_channel: str | None
    schedule: ScheduleInfo

    @classmethod
    def _trusted(
        cls,
        practice_ods: str,
        practice_name: str,
        slot_ids: tuple[str, ...],
        start: datetime,
        end: datetime,
        start_raw: str,
        end_raw: str,
        slot_type: str | None,
        delivery_channel: str | None,
        schedule: ScheduleInfo,
    ) -> FreeSlot:
        """The parser's constructor, for values it has already checked: same result as
        ``FreeSlot(...)``, about twice as fast."""
        slot = object.__new__(cls)
        slot.__dict__.update(
            practice_ods=practice_ods,
            practice_name=practice_name,
            slot_ids=slot_ids,
            start=start,
            end=end,
            start_raw=start_raw,
            end_raw=end_raw,
            slot_type=slot_type,
            delivery_channel=delivery_channel,
            schedule=schedule,
        )
        return slot

    @property
    def slot_id(self) -> str:
        return self.slot_ids[0]

    @property
    def schedule_id(self) -> str:
        return self.schedule.id

    @property
    def duration(self) -> timedelta:
        return instant(self.end) - instant(self.start)

    @property
    def schedule_type(self) -> str | None:
        return self.schedule.schedule_type

    @property
    def practitioner(self) -> Clinician | None:
        return self.schedule.practitioner

    @property
    def role(self) -> JobRole | None:
        return self.schedule.role

    @property
    def location(self) -> Surgery:
        return self.schedule.location


class ResultStatus(enum.StrEnum):
    SLOTS = "slots"
    NONE = "none"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PracticeResult:
    """What one practice said to a slot search.

    ``failure`` is set exactly when ``status`` is FAILED; its ``message`` is the plain-English
    reason the practice "could not be checked".
    """

    practice: PracticeEndpoint
    status: ResultStatus
    slots: tuple[FreeSlot, ...] = ()
    failure: ProviderError | None = None
    elapsed_ms: int = 0
    from_cache: bool = False

    @property
    def reason(self) -> str | None:
        return self.failure.message if self.failure else None


@dataclass(frozen=True, slots=True)
class BookingDetails:
    """What the patient tells the practice. Lengths are the profile's (CONFORMANCE §3.1)."""

    description: str
    comment: str = ""

    MAX_DESCRIPTION = 100
    MAX_COMMENT = 500

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise ValueError("A booking needs a description")
        if len(self.description) > self.MAX_DESCRIPTION:
            raise ValueError(f"A description is at most {self.MAX_DESCRIPTION} characters")
        if len(self.comment) > self.MAX_COMMENT:
            raise ValueError(f"A comment is at most {self.MAX_COMMENT} characters")


@dataclass(frozen=True, slots=True)
class BookedAppointment:
    """An appointment as the practice's system holds it (built from its reply, never from what
    the site sent).

    ``source_json`` is the resource exactly as the practice sent it: cancelling sends it back
    unmodified apart from the status and the reason (CONFORMANCE §5.3).
    """

    practice: PracticeEndpoint
    id: str
    version_id: str | None
    status: str
    start: datetime
    end: datetime
    slot_ids: tuple[str, ...]
    description: str | None
    comment: str | None
    created: datetime | None
    location: Surgery | None
    practitioner: Clinician | None
    delivery_channel: str | None
    slot_type: str | None
    schedule_type: str | None
    cancellation_reason: str | None
    source_json: str = field(repr=False, compare=False)

    @property
    def duration(self) -> timedelta:
        return instant(self.end) - instant(self.start)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A booking exactly as it is sent (``appointments.booking_request``), kept by the caller
    with its X-Request-ID so that sending it again (``appointments.send_booking``) repeats the
    same request byte for byte and the practice replays its first answer (CONFORMANCE D9).

    ``location`` and ``practitioner`` are the schedule's, as the practice offered them: the
    reply names them only by reference.
    """

    practice_ods: str
    body: bytes = field(repr=False)
    location: Surgery
    practitioner: Clinician | None

    def as_dict(self) -> dict:
        """Plain JSON-able values, to store (``from_dict`` restores them)."""
        return {
            "practice_ods": self.practice_ods,
            "body": self.body.decode("utf-8"),
            "location": {
                "id": self.location.id,
                "name": self.location.name,
                "address": list(self.location.address),
                "phone": self.location.phone,
            },
            "practitioner": _clinician_dict(self.practitioner),
        }

    @classmethod
    def from_dict(cls, data: dict) -> BookingRequest:
        """The request ``as_dict`` gave; ValueError if ``data`` is not one."""
        try:
            location = data["location"]
            practitioner = data["practitioner"]
            role = practitioner["role"] if practitioner else None
            return cls(
                practice_ods=str(data["practice_ods"]),
                body=data["body"].encode("utf-8"),
                location=Surgery(
                    id=str(location["id"]),
                    name=location["name"],
                    address=tuple(location["address"]),
                    phone=location["phone"],
                ),
                practitioner=Clinician(
                    id=str(practitioner["id"]),
                    name=practitioner["name"],
                    gender=practitioner["gender"],
                    role=JobRole(role["code"], role["display"]) if role else None,
                )
                if practitioner
                else None,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"Not a stored booking request: {error!r}") from None


def _clinician_dict(clinician: Clinician | None) -> dict | None:
    if clinician is None:
        return None
    role = clinician.role
    return {
        "id": clinician.id,
        "name": clinician.name,
        "gender": clinician.gender,
        "role": {"code": role.code, "display": role.display} if role else None,
    }
