"""The results page's presenters, shared by the patient's "Choose a time" and the staff's
"What patients see": each practice's line, the filters, and the free times by day, a page at a
time."""

import datetime
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from markupsafe import Markup

from booking_site import gpconnect
from booking_site.common.formatting import (
    CHANNEL_LABELS,
    GENDER_LABELS,
    TIME_OF_DAY,
    channel_label,
    date_label,
    day_label,
    duration_label,
    practitioner_label,
    time_label,
    time_of_day,
    uk_day,
)
from booking_site.common.forms import FilterForm
from booking_site.practices.models import Practice

PAGE_SIZE = 50
FILTER_NAMES = frozenset({"time", "channel", "practice", "gender", "type"})
# What a results page's own links and forms never carry along.
_NOT_KEPT = FILTER_NAMES | {"page", "retry", "progress"}


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
    def duration(self) -> str:
        return duration_label(int(self.slot.duration.total_seconds() // 60))

    @property
    def slot_type(self) -> str:
        return self.slot.slot_type or "Appointment"

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
        """Unique link text context for screen readers: what is being chosen."""
        parts = [f"{self.time} on {day_label(self.day)}", self.slot_type, self.channel]
        return ", ".join([*parts, self.practice])


def choose_query(slot: gpconnect.FreeSlot) -> str:
    """The query that picks ``slot`` on the details page."""
    return urlencode({"practice": slot.practice_ods, "slot": ",".join(slot.slot_ids)})


@dataclass(frozen=True)
class Day:
    day: datetime.date
    slots: list[SlotView]

    @property
    def heading(self) -> str:
        return day_label(self.day)


def by_day(views: Sequence[SlotView]) -> list[Day]:
    """The slots (already in time order) grouped by UK day."""
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
    slots: Sequence[gpconnect.FreeSlot], practices: Sequence[Practice]
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
    page = Paginator(shown, PAGE_SIZE).get_page(query.get("page"))
    views = [SlotView(slot, choose_href(slot) if choose_href else None) for slot in page]
    checked = sum(1 for status in statuses if status.state != "checking")
    kept = [(k, v) for k, values in query.lists() if k not in _NOT_KEPT for v in values]
    return {
        "practices": practices,
        "dates": dates,
        "date_text": f"{date_label(dates.start)} to {date_label(dates.end)}",
        "statuses": statuses,
        "checked": checked,
        "all_answered": checked == len(statuses),
        "total": len(found),
        "shown_count": len(shown),
        "days": by_day(views),
        "page": page,
        "page_links": _page_links(query, page, page_path),
        "filters": filters,
        "filter_fields": filter_fields(filter_options(found, practices), filters),
        # The rest of the question (the staff preview's practices and dates), kept by the
        # filters form and the "clear the filters" link.
        "hidden_fields": kept,
        "clear_filters_href": f"{page_path}?{urlencode(kept)}" if kept else page_path,
        "failed": [status for status in statuses if status.state == "failed"],
    }


def _page_links(query: QueryDict, page, page_path: str) -> dict[str, str]:
    links = {}
    for name, has, number in (
        ("previous", page.has_previous, page.number - 1),
        ("next", page.has_next, page.number + 1),
    ):
        if has():
            linked = query.copy()
            linked["page"] = str(number)
            linked.pop("retry", None)
            links[name] = f"{page_path}?{linked.urlencode()}"
    return links
