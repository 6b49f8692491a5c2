"""Display formatting for the staff preview: each practice's status, the grid of days by time of
day, slots with every display field, label findings, and links to other views of the preview."""

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from booking_site import gpconnect
from booking_site.availability import services
from booking_site.common.formatting import (
    CHANNEL_LABELS,
    TIME_OF_DAY,
    day_label,
    time_label,
)
from booking_site.practices.models import Practice

NO_CHANNEL = "No delivery channel"
NOT_GIVEN = "Not given"

_STATUS = {
    "slots": ("Answered", "green"),
    "none": ("No free slots", "yellow"),
    "failed": ("Could not be checked", "red"),
    "checking": ("Checking", "grey"),
}


def channel_label(channel: str | None) -> str:
    """The delivery channel as patients see it (In person, Phone call, Video call)."""
    return CHANNEL_LABELS.get(channel, channel) if channel else NO_CHANNEL


def response_time(elapsed_ms: int, *, from_cache: bool = False) -> str:
    text = "under 0.1 seconds" if elapsed_ms < 100 else f"{elapsed_ms / 1000:.1f} seconds"
    return f"{text} (a recent answer, reused)" if from_cache else text


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class SlotDetails:
    """One free slot with every field a patient would be shown (CONFORMANCE §2.4)."""

    slot: gpconnect.FreeSlot
    problems: tuple[services.LabelProblem, ...] = ()

    @property
    def times(self) -> str:
        return f"{time_label(self.slot.start)} to {time_label(self.slot.end)}"

    @property
    def duration(self) -> str:
        return plural(int(self.slot.duration.total_seconds() // 60), "minute")

    @property
    def fields(self) -> list[tuple[str, str]]:
        slot, clinician = self.slot, self.slot.practitioner
        role = slot.role or (clinician.role if clinician else None)
        rows = [
            ("Slot type", slot.slot_type or NOT_GIVEN),
            ("Schedule type", slot.schedule_type or NOT_GIVEN),
            ("Delivery channel", channel_label(slot.delivery_channel)),
        ]
        if clinician is None:
            rows.append(("Clinician", "No clinician named"))
        else:
            rows += [
                ("Clinician", clinician.name or NOT_GIVEN),
                ("Gender", (clinician.gender or NOT_GIVEN).capitalize()),
                ("Job role", f"{role.display} ({role.code})" if role else NOT_GIVEN),
            ]
        location = slot.location
        rows += [
            ("Location", location.name or NOT_GIVEN),
            ("Address", ", ".join(location.address) or NOT_GIVEN),
        ]
        if location.phone:
            rows.append(("Phone", location.phone))
        return rows


@dataclass(frozen=True)
class Cell:
    """One day's morning, afternoon or evening at one practice."""

    day: datetime.date
    period: str
    slots: tuple[SlotDetails, ...]

    @property
    def total(self) -> int:
        return len(self.slots)

    @property
    def flagged(self) -> int:
        return sum(1 for item in self.slots if item.problems)

    @property
    def channels(self) -> list[tuple[str, int]]:
        """Free slots by delivery channel as patients see it, the commonest first."""
        counts = Counter(channel_label(item.slot.delivery_channel) for item in self.slots)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def where(self) -> str:
        """For screen readers: which cell a "show slots" control belongs to."""
        return f"on {day_label(self.day)}, {self.period}"


@dataclass(frozen=True)
class DayRow:
    day: datetime.date
    cells: tuple[Cell, ...]

    @property
    def label(self) -> str:
        return day_label(self.day)


@dataclass(frozen=True)
class SlotTypeRow:
    """A slot type with label problems, as the practice's findings table shows it."""

    name: str
    flagged_slots: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PracticeView:
    """One practice's section of the preview (or its placeholder while it is being checked)."""

    ods_code: str
    name: str
    state: str
    reason: str = ""
    elapsed: str = ""
    total: int = 0
    flagged: int = 0
    slot_types: tuple[SlotTypeRow, ...] = ()
    days: tuple[DayRow, ...] = ()

    @property
    def status_text(self) -> str:
        return _STATUS[self.state][0]

    @property
    def tag_colour(self) -> str:
        return _STATUS[self.state][1]

    @property
    def periods(self) -> tuple[str, ...]:
        """The grid's column headings: morning, afternoon and evening."""
        return tuple(TIME_OF_DAY[period] for period in services.PERIODS)

    @property
    def anchor(self) -> str:
        return f"practice-{self.ods_code}"

    @property
    def announcement(self) -> str:
        """What the live region says when this practice's answer arrives."""
        if self.state == "slots":
            return f"{self.name}: {plural(self.total, 'free slot')}."
        return f"{self.name}: {self.status_text.lower()}."

    @classmethod
    def checking(cls, practice: Practice) -> "PracticeView":
        return cls(practice.ods_code, practice.name, "checking")

    @classmethod
    def of(cls, preview: services.PracticePreview, dates: gpconnect.DateRange) -> "PracticeView":
        result, labels = preview.result, preview.labels
        days = tuple(
            DayRow(
                day.day,
                tuple(
                    Cell(
                        day.day,
                        period,
                        tuple(SlotDetails(slot, labels.problems(slot)) for slot in slots),
                    )
                    for period, slots in day.periods.items()
                ),
            )
            for day in services.by_day_and_period(result.slots, dates)
        )
        return cls(
            ods_code=preview.practice.ods_code,
            name=preview.practice.name,
            state=str(result.status),
            reason=result.reason or "",
            elapsed=response_time(result.elapsed_ms, from_cache=result.from_cache),
            total=len(result.slots),
            flagged=labels.flagged_slots,
            slot_types=tuple(
                SlotTypeRow(
                    finding.slot_type or "(no slot type)",
                    finding.flagged_slots,
                    tuple(
                        f"{reason} ({plural(count, 'slot')})" for reason, count in finding.reasons
                    ),
                )
                for finding in labels.slot_types
            ),
            days=days,
        )


def patient_view_link(practices: Sequence[Practice], dates: gpconnect.DateRange) -> str:
    """The patients' results page for the same practices and dates, read-only."""
    return f"{reverse('availability:patient_view')}?{patient_view_query(practices, dates)}"


def patient_view_query(practices: Sequence[Practice], dates: gpconnect.DateRange) -> str:
    pairs = [("practices", practice.ods_code) for practice in practices]
    pairs += [("start", dates.start.isoformat()), ("end", dates.end.isoformat())]
    return urlencode(pairs)


def query_without(data: QueryDict, *names: str) -> str:
    """The query string of ``data`` without ``names``: the preview's own parameters, to carry
    from the page to its export and fragments."""
    query = data.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def summary_line(practices: Sequence[Practice], dates: gpconnect.DateRange) -> str:
    """Free slots at 2 practices from Monday 30 November 2026 to Sunday 6 December 2026 (or
    "on Monday 30 November 2026" for one day)."""
    if dates.start == dates.end:
        when = f"on {day_label(dates.start)}"
    else:
        when = f"from {day_label(dates.start)} to {day_label(dates.end)}"
    return f"Free slots at {plural(len(practices), 'practice')} {when}"
