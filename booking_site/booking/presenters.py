"""Display formatting for the journey's pages: times, days, slot descriptions and filters."""

import datetime
import itertools
import zoneinfo
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict

from booking_site import gpconnect

LONDON = zoneinfo.ZoneInfo("Europe/London")

CHANNEL_LABELS = {"In-person": "In person", "Telephone": "Phone call", "Video": "Video call"}
GENDER_LABELS = {"female": "Female", "male": "Male"}
TIME_OF_DAY = {
    "morning": "Morning (before 12pm)",
    "afternoon": "Afternoon (12pm to 6pm)",
    "evening": "Evening (after 6pm)",
}


def time_label(moment: datetime.datetime) -> str:
    """9:30am, 12pm, 2:05pm — the NHS.UK style for times."""
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    if local.hour == 12 and local.minute == 0:
        return "12pm (midday)"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def day_label(day: datetime.date) -> str:
    """Monday 30 November 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def date_label(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def duration_label(minutes: int) -> str:
    return f"{minutes} minutes" if minutes != 1 else "1 minute"


def time_of_day(moment: datetime.datetime) -> str:
    hour = moment.astimezone(LONDON).hour
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def practitioner_label(name: str, role: str, gender: str) -> str:
    """Dr Sarah Jones (General Medical Practitioner, female)."""
    extra = ", ".join(part for part in [role, gender] if part)
    if name and extra:
        return f"{name} ({extra})"
    return name or extra


@dataclass(frozen=True)
class SlotView:
    """One free slot as the results page shows it."""

    slot: gpconnect.FreeSlot

    @property
    def day(self) -> datetime.date:
        return self.slot.start.astimezone(LONDON).date()

    @property
    def time(self) -> str:
        return time_label(self.slot.start)

    @property
    def duration(self) -> str:
        return duration_label(int(self.slot.duration.total_seconds() // 60))

    @property
    def slot_type(self) -> str:
        return self.slot.slot_type or "Appointment"

    @property
    def channel(self) -> str:
        channel = self.slot.delivery_channel
        return CHANNEL_LABELS.get(channel, channel) if channel else "Ask the practice"

    @property
    def practitioner(self) -> str:
        clinician = self.slot.practitioner
        role = self.slot.role.display if self.slot.role else ""
        gender = (clinician.gender or "") if clinician else ""
        name = (clinician.name or "") if clinician else ""
        return practitioner_label(name, role, gender if gender in GENDER_LABELS else "")

    @property
    def location(self) -> str:
        return self.slot.location.name or ""

    @property
    def address(self) -> str:
        return ", ".join(self.slot.location.address)

    @property
    def practice(self) -> str:
        return self.slot.practice_name

    @property
    def choose_query(self) -> str:
        return urlencode({"practice": self.slot.practice_ods, "slot": ",".join(self.slot.slot_ids)})

    @property
    def accessible_name(self) -> str:
        """Unique link text context for screen readers: what is being chosen."""
        parts = [f"{self.time} on {day_label(self.day)}", self.slot_type, self.channel]
        return ", ".join([*parts, self.practice])


@dataclass(frozen=True)
class Day:
    day: datetime.date
    slots: list[SlotView]

    @property
    def heading(self) -> str:
        return day_label(self.day)


def group_by_day(slots: list[gpconnect.FreeSlot]) -> list[Day]:
    views = sorted(
        (SlotView(slot) for slot in slots), key=lambda view: (view.slot.start, view.practice)
    )
    return [Day(day, list(group)) for day, group in itertools.groupby(views, key=lambda v: v.day)]


@dataclass
class Filters:
    """The results filters, read from GET parameters (bookmarkable; unknown values ignored)."""

    times: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    practices: set[str] = field(default_factory=set)
    genders: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        return cls(
            times={v for v in query.getlist("time") if v in TIME_OF_DAY},
            channels={v for v in query.getlist("channel") if v in CHANNEL_LABELS},
            practices=set(query.getlist("practice")),
            genders={v for v in query.getlist("gender") if v in GENDER_LABELS},
            types=set(query.getlist("type")),
        )

    @property
    def active(self) -> bool:
        return bool(self.times or self.channels or self.practices or self.genders or self.types)

    def accepts(self, slot: gpconnect.FreeSlot) -> bool:
        if self.times and time_of_day(slot.start) not in self.times:
            return False
        if self.channels and slot.delivery_channel not in self.channels:
            return False
        if self.practices and slot.practice_ods not in self.practices:
            return False
        gender = slot.practitioner.gender if slot.practitioner else None
        if self.genders and gender not in self.genders:
            return False
        return not (self.types and (slot.slot_type or "") not in self.types)

    def query(self) -> str:
        pairs = [("time", v) for v in sorted(self.times)]
        pairs += [("channel", v) for v in sorted(self.channels)]
        pairs += [("practice", v) for v in sorted(self.practices)]
        pairs += [("gender", v) for v in sorted(self.genders)]
        pairs += [("type", v) for v in sorted(self.types)]
        return urlencode(pairs)


def filter_options(
    slots: list[gpconnect.FreeSlot], practices: list
) -> dict[str, list[tuple[str, str]]]:
    """The choices each filter offers: only values that occur (types), or fixed lists."""
    types = sorted({slot.slot_type for slot in slots if slot.slot_type})
    return {
        "time": list(TIME_OF_DAY.items()),
        "channel": list(CHANNEL_LABELS.items()),
        "practice": [(p.ods_code, p.name) for p in practices],
        "gender": list(GENDER_LABELS.items()),
        "type": [(t, t) for t in types],
    }


@dataclass(frozen=True)
class PracticeStatusView:
    """One practice's line in the "checking practices" list."""

    ods_code: str
    name: str
    phone: str
    state: str  # checking | slots | none | failed
    count: int = 0
    reason: str = ""

    @property
    def text(self) -> str:
        if self.state == "checking":
            return "Checking…"
        if self.state == "slots":
            return f"{self.count} appointment{'s' if self.count != 1 else ''}"
        if self.state == "none":
            return "No appointments"
        return "Could not be checked"

    @classmethod
    def of(cls, practice, result: gpconnect.PracticeResult | None) -> "PracticeStatusView":
        """``practice``'s line: still checking (no result yet), or what it answered."""
        if result is None:
            return cls(practice.ods_code, practice.name, practice.phone, "checking")
        return cls(
            practice.ods_code,
            practice.name,
            practice.phone,
            str(result.status),
            count=len(result.slots),
            reason=result.reason or "",
        )

    @property
    def tag_colour(self) -> str:
        return {"checking": "grey", "slots": "green", "none": "white", "failed": "red"}[self.state]


def slot_summary(slot: dict) -> dict:
    """The chosen slot's display fields (as kept in the journey or on a booking), formatted."""
    start = datetime.datetime.fromisoformat(slot["start"])
    end = datetime.datetime.fromisoformat(slot["end"])
    minutes = int((end - start).total_seconds() // 60)
    day = start.astimezone(LONDON).date()
    where = [slot.get("location_name"), slot.get("location_address")]
    return {
        "when": f"{time_label(start)} on {day_label(day)}",
        "duration": duration_label(minutes),
        "slot_type": slot.get("slot_type") or "Appointment",
        "channel": CHANNEL_LABELS.get(slot.get("delivery_channel"), "Ask the practice"),
        "practitioner": practitioner_label(
            slot.get("practitioner", ""),
            slot.get("practitioner_role", ""),
            slot.get("practitioner_gender", ""),
        ),
        "location": ", ".join(part for part in where if part),
        "practice": slot.get("practice_name", ""),
    }


def booking_view(booking) -> dict:
    """A stored booking's display fields, formatted."""
    slot = {**booking.details, "start": booking.start.isoformat(), "end": booking.end.isoformat()}
    return {
        **slot_summary(slot),
        "reason": booking.details.get("description") or booking.details.get("asked_reason", ""),
        "note": booking.details.get("comment", ""),
        "phone": booking.details.get("phone", ""),
    }


_CANCEL_MESSAGES = {
    gpconnect.TooLateToCancel: (
        "It's too late to cancel this appointment online. Phone the practice to cancel it."
    ),
    gpconnect.CancellationDisabled: (
        "Your practice does not allow appointments to be cancelled online. "
        "Phone the practice to cancel it."
    ),
    gpconnect.CancellationRefused: (
        "The practice could not cancel this appointment online. Phone the practice to cancel it."
    ),
    gpconnect.VersionConflict: (
        "This appointment was changed at the practice since you opened it. "
        "Check the details, then try again."
    ),
}


def cancel_message(error: gpconnect.ProviderError) -> str:
    for kind, message in _CANCEL_MESSAGES.items():
        if isinstance(error, kind):
            return message
    return error.message
