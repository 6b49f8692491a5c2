"""The results page's presenters, shared by the patient's "Choose a time" and the staff's
"What patients see": each practice's line, the filters, and the free times by day, a page at a
time."""

import datetime
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict
from django.template.loader import render_to_string
from markupsafe import Markup

from booking_site import gpconnect
from booking_site.common.formatting import (
    CHANNEL_LABELS,
    GENDER_LABELS,
    TIME_OF_DAY,
    channel_label,
    date_range_label,
    duration_label,
    practitioner_label,
    relative_day_label,
    time_label,
    time_of_day,
    uk_day,
    when_label,
)
from booking_site.common.forms import FilterForm
from booking_site.common.labels import is_clear, patient_slot_type
from booking_site.practices.models import Practice

# A day shows this many times until the patient asks for all of its times ("day" parameter);
# the page shows this many days with times until they ask for more ("days" parameter).
TIMES_PER_DAY = 4
DAYS_SHOWN = 7
FILTER_NAMES = frozenset({"time", "channel", "practice", "gender", "type"})
# What a results page's own links and forms never carry along.
_NOT_KEPT = FILTER_NAMES | {"day", "days", "retry", "progress"}


@dataclass(frozen=True)
class SlotView:
    """One free slot as the results page shows it; ``choose_href`` is None where it cannot be
    chosen (the staff preview)."""

    slot: gpconnect.FreeSlot
    choose_href: str | None = None

    @property
    def day(self) -> datetime.date:
        return uk_day(self.slot.start)

    @property
    def time(self) -> str:
        return time_label(self.slot.start)

    @property
    def when(self) -> str:
        """8:40am tomorrow, Tuesday 1 December 2026."""
        return when_label(self.slot.start)

    @property
    def duration(self) -> str:
        return duration_label(int(self.slot.duration.total_seconds() // 60))

    @property
    def slot_type(self) -> str:
        """What the appointment is, in words a patient reads: the slot type, or its session's
        name when the slot type is diary jargon ("EMBARGO", "Slot 1") or missing."""
        return patient_slot_type(self.slot.slot_type, self.slot.schedule.schedule_type)

    @property
    def session(self) -> str:
        """The session's name (schedule type, e.g. "Duty doctor"), which GP Connect consumers
        show; empty when it is diary jargon or already the slot type shown."""
        name = (self.slot.schedule.schedule_type or "").strip()
        if not is_clear(name) or name in self.slot_type:
            return ""
        return name

    @property
    def channel(self) -> str:
        return channel_label(self.slot.delivery_channel)

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
    def element_id(self) -> str:
        """Kept across refreshes of the list, so focus can come back to the same time."""
        return f"choose-{self.slot.practice_ods}-{'-'.join(self.slot.slot_ids)}"

    @property
    def accessible_name(self) -> str:
        """What is being chosen, for the "Choose" link's name: the time and day, what and how,
        with whom, and where (practice and site), so that no two different slots share it."""
        parts = [self.when, self.slot_type, self.session, self.channel, self.practitioner]
        parts += [self.practice, self.location]
        return ", ".join(part for part in parts if part)


def choose_query(slot: gpconnect.FreeSlot) -> str:
    """The query that picks ``slot`` on the details page."""
    return urlencode({"practice": slot.practice_ods, "slot": ",".join(slot.slot_ids)})


@dataclass(frozen=True)
class Day:
    day: datetime.date
    slots: list[SlotView]
    # How many times the day has in all (``slots`` may be the first few), and the link that
    # shows every one of them.
    total: int = 0
    more_href: str = ""

    @property
    def heading(self) -> str:
        return relative_day_label(self.day)

    @property
    def hidden_count(self) -> int:
        return self.total - len(self.slots)


def _shown_type(slot: gpconnect.FreeSlot) -> str:
    """The appointment type as patients see it (and filter by): never diary jargon."""
    return patient_slot_type(slot.slot_type, slot.schedule.schedule_type)


def by_day(views: Sequence[SlotView]) -> list[Day]:
    """The slots (already in time order) grouped by UK day."""
    return [
        Day(day, grouped, total=len(grouped))
        for day, group in itertools.groupby(views, key=lambda v: v.day)
        for grouped in [list(group)]
    ]


def _days_shown(days: list[Day], query: QueryDict, page_path: str) -> tuple[list[Day], str]:
    """The days the page shows, each with its first few times unless the patient asked for all
    of that day's; and the link to the next days, if there are more."""
    expanded = query.get("day", "")
    try:
        wanted = max(DAYS_SHOWN, min(int(query.get("days", DAYS_SHOWN)), 366))
    except ValueError:
        wanted = DAYS_SHOWN
    shown = []
    for day in days[:wanted]:
        if day.day.isoformat() == expanded or day.total <= TIMES_PER_DAY:
            shown.append(day)
            continue
        linked = query.copy()
        linked["day"] = day.day.isoformat()
        linked.pop("retry", None)
        more = f"{page_path}?{linked.urlencode()}#day-{day.day.isoformat()}"
        shown.append(Day(day.day, day.slots[:TIMES_PER_DAY], total=day.total, more_href=more))
    more_days = ""
    if len(days) > wanted:
        linked = query.copy()
        linked["days"] = str(wanted + DAYS_SHOWN)
        linked.pop("retry", None)
        more_days = f"{page_path}?{linked.urlencode()}#day-{days[wanted].day.isoformat()}"
    return shown, more_days


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
        return not (self.types and _shown_type(slot) not in self.types)

    def query(self) -> str:
        pairs = [("time", v) for v in sorted(self.times)]
        pairs += [("channel", v) for v in sorted(self.channels)]
        pairs += [("practice", v) for v in sorted(self.practices)]
        pairs += [("gender", v) for v in sorted(self.genders)]
        pairs += [("type", v) for v in sorted(self.types)]
        return urlencode(pairs)


def filter_options(
    slots: Sequence[gpconnect.FreeSlot], practices: Sequence[Practice]
) -> dict[str, list[tuple[str, str]]]:
    """The choices each filter offers: only values that occur (types), or fixed lists."""
    types = sorted({_shown_type(slot) for slot in slots})
    return {
        "time": list(TIME_OF_DAY.items()),
        "channel": list(CHANNEL_LABELS.items()),
        "practice": [(p.ods_code, p.name) for p in practices],
        "gender": list(GENDER_LABELS.items()),
        "type": [(t, t) for t in types],
    }


def filter_fields(options: dict[str, list[tuple[str, str]]], filters: Filters) -> Markup:
    """The filters' checkboxes, with ``filters``' values ticked."""
    chosen = {
        "time": filters.times,
        "channel": filters.channels,
        "practice": filters.practices,
        "gender": filters.genders,
        "type": filters.types,
    }
    return _filter_fields(
        tuple((name, tuple(choices)) for name, choices in options.items()),
        tuple((name, tuple(sorted(values))) for name, values in chosen.items()),
    )


@functools.lru_cache(maxsize=256)
def _filter_fields(
    options: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
    chosen: tuple[tuple[str, tuple[str, ...]], ...],
) -> Markup:
    """Rendered once per set of choices and ticks, then reused: the NHS.UK checkboxes macros
    were a third of a warm results page's server time, and the same practices' pages repeat
    the same choices (docs/adr/0010-asgi-end-to-end-and-a-plainer-client.md, throughput)."""
    data = QueryDict(mutable=True)
    for name, values in chosen:
        data.setlist(name, list(values))
    form = FilterForm(data, options={name: list(choices) for name, choices in options})
    html = render_to_string("common/_filter_fields.jinja", {"filter_form": form})
    return Markup(html)  # noqa: S704 (the output of an autoescaping template)


@dataclass(frozen=True)
class PracticeStatusView:
    """One practice's line in the "checking practices" list. ``fragment_href`` asks for this
    line afresh (htmx); ``retry_href`` is the ordinary link behind "try again"."""

    ods_code: str
    name: str
    phone: str
    state: str  # checking | slots | none | failed
    count: int = 0
    reason: str = ""
    fragment_href: str = ""
    retry_href: str = ""

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
    def of(
        cls,
        practice: Practice,
        result: gpconnect.PracticeResult | None,
        *,
        fragment_href: str = "",
        retry_href: str = "",
    ) -> "PracticeStatusView":
        """``practice``'s line: still checking (no result yet), or what it answered."""
        links = {"fragment_href": fragment_href, "retry_href": retry_href}
        if result is None:
            return cls(practice.ods_code, practice.name, practice.phone, "checking", **links)
        return cls(
            practice.ods_code,
            practice.name,
            practice.phone,
            str(result.status),
            count=len(result.slots),
            reason=result.reason or "",
            **links,
        )

    @property
    def tag_colour(self) -> str:
        return {"checking": "grey", "slots": "green", "none": "white", "failed": "red"}[self.state]


Links = Callable[[Practice], tuple[str, str]]


def results_context(
    query: QueryDict,
    practices: Sequence[Practice],
    dates: gpconnect.DateRange,
    results: Sequence[gpconnect.PracticeResult | None],
    *,
    page_path: str,
    status_links: Links,
    choose_href: Callable[[gpconnect.FreeSlot], str] | None = None,
) -> dict:
    """Everything the results page and its regions show, from the practices' results so far.

    ``status_links(practice)`` gives a practice line's (fragment, retry) links; ``choose_href``
    makes each slot's "Choose" link (None: nothing can be chosen here).
    """
    statuses = [
        PracticeStatusView.of(
            practice,
            result,
            **dict(zip(("fragment_href", "retry_href"), status_links(practice), strict=True)),
        )
        for practice, result in zip(practices, results, strict=True)
    ]
    found = [slot for result in results if result is not None for slot in result.slots]
    filters = Filters.from_query(query)
    shown = [slot for slot in found if filters.accepts(slot)]
    shown.sort(key=lambda slot: (slot.start, slot.practice_name))
    views = [SlotView(slot, choose_href(slot) if choose_href else None) for slot in shown]
    days, more_days = _days_shown(by_day(views), query, page_path)
    checked = sum(1 for status in statuses if status.state != "checking")
    kept = [(k, v) for k, values in query.lists() if k not in _NOT_KEPT for v in values]
    return {
        "practices": practices,
        "dates": dates,
        # "on 26 December 2026" or "from 26 December 2026 to 2 January 2027".
        "date_phrase": date_range_label(dates.start, dates.end),
        "statuses": statuses,
        "checked": checked,
        "all_answered": checked == len(statuses),
        "total": len(found),
        "shown_count": len(shown),
        "days": days,
        "more_days_href": more_days,
        # The earliest time that matches the filters, said first.
        "earliest": views[0] if views else None,
        "filters": filters,
        "filter_fields": filter_fields(filter_options(found, practices), filters),
        # The rest of the question (the staff preview's practices and dates), kept by the
        # filters form and the "clear the filters" link.
        "hidden_fields": kept,
        "clear_filters_href": f"{page_path}?{urlencode(kept)}" if kept else page_path,
        "failed": [status for status in statuses if status.state == "failed"],
    }
