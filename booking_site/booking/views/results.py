"""Choose a time: the results page, one view per region. Without JavaScript the page waits for
every practice; with it, the page shows the practices that have answered and asks each other
one in a request of its own (its status line, also the "try again" link), and the list of
times is asked for again as each answers. ``request.htmx`` picks the region to render; every
``hx-get`` has an ordinary link behind it."""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking_site import gpconnect
from booking_site.accounts.decorators import patient_required
from booking_site.booking import journey as journeys
from booking_site.booking.forms import MAX_WEEKS_AHEAD
from booking_site.common import practice_search
from booking_site.common.formatting import date_label
from booking_site.common.results import (
    Filters,
    PracticeStatusView,
    choose_query,
    results_context,
)
from booking_site.core.rendering import render
from booking_site.practices.directory import afederation_practices, apractices_by_ods
from booking_site.practices.models import Practice

SLOT_LIST_REGION = "slot-list"
SLOT_NEWS_REGION = "slot-news"
# How long the progressive page waits for a first practice with free times before it shows the
# practices as "checking" (each then asks for itself).
FIRST_ANSWER_SECONDS = 1.5


async def search_scope(request: HttpRequest) -> tuple[list, gpconnect.DateRange] | None:
    """The practices and dates of the patient's journey, once both are answered: only the
    practices that book online for this patient (``not_offered`` names the others)."""
    journey = await journeys.aload(request)
    if not (journey.has_where and journey.has_when):
        return None
    practices = await apractices_by_ods(journey.ods_codes)
    bookable = [p for p in practices if p.books_online_for(request.user)]
    if not bookable:
        return None
    return bookable, gpconnect.DateRange(journey.start, journey.end)


async def not_offered(request: HttpRequest) -> list[Practice]:
    """The journey's practices that do not book online for this patient (registered patients
    only): never searched, and the results page says so."""
    journey = await journeys.aload(request)
    practices = await apractices_by_ods(journey.ods_codes)
    return [p for p in practices if not p.books_online_for(request.user)]


def _status_links(practice: Practice) -> tuple[str, str]:
    """A practice line's links: its fragment (htmx), and the ordinary "try again" link."""
    return (
        reverse("booking:practice_status", args=[practice.ods_code]),
        f"{reverse('booking:choose_slot')}?retry={practice.ods_code}",
    )


def alert_query(query: QueryDict, *, earlier: datetime.datetime | None = None, after=None) -> str:
    """The alert page's address parameters: the results' channel and time-of-day filters and
    the time to beat (the earliest shown, or a booking's)."""
    filters = Filters.from_query(query)
    pairs = [("time", v) for v in sorted(filters.times)]
    pairs += [("channel", v) for v in sorted(filters.channels)]
    pairs += [("practice", v) for v in sorted(filters.practices)]
    if after is not None:
        pairs.append(("after", str(after)))
    elif earlier is not None:
        pairs.append(("earlier", earlier.isoformat()))
    return urlencode(pairs)


def choose_href(slot: gpconnect.FreeSlot) -> str:
    return f"{reverse('booking:details')}?{choose_query(slot)}"


@patient_required
@require_GET
async def choose_slot(request: HttpRequest) -> HttpResponse:
    """The whole page, or (htmx, targeting the list) the list of times found so far."""
    scope = await search_scope(request)
    if scope is None:
        if request.htmx:
            raise Http404("No search in progress")
        return redirect("booking:where")
    practices, dates = scope
    list_only = request.htmx.target == SLOT_LIST_REGION
    news_only = request.htmx.target == SLOT_NEWS_REGION
    progressive = list_only or news_only or request.GET.get("progress") == "1"
    results = await practice_search.search(
        request.user,
        practices,
        dates,
        correlation_id=practice_search.new_correlation_id(),
        retry=practice_search.retried(request.GET, practices),
        # The list region shows what has come in; the progressive page waits for the first
        # practice with free times, and its practice lines then ask for the rest.
        answered_only=list_only or news_only,
        first_within=FIRST_ANSWER_SECONDS if progressive and not (list_only or news_only) else None,
        # Without JavaScript the page comes after a short bound, not the slowest practice.
        all_within=None if progressive else settings.RESULTS_WAIT_SECONDS,
    )
    context = results_context(
        request.GET,
        practices,
        dates,
        results,
        page_path=reverse("booking:choose_slot"),
        status_links=_status_links,
        choose_href=choose_href,
    )
    context["progressive"] = progressive
    earliest = context["earliest"]
    context["alert_href"] = (
        reverse("booking:new_alert")
        + "?"
        + alert_query(request.GET, earlier=earliest.slot.start if earliest else None)
    )
    context["not_offered"] = await not_offered(request)
    # Practices still being asked when a page without JavaScript stopped waiting.
    context["not_answered"] = (
        []
        if progressive
        else [status for status in context["statuses"] if status.state == "checking"]
    )
    failed = any(status.state == "failed" for status in context["statuses"])
    if context["all_answered"] and context["total"] == 0 and not failed:
        context.update(await _nothing_found_context(practices, dates))
        if not list_only:
            return await render(request, "booking/nothing_found.jinja", context)
    if news_only:
        # How many the patient's list shows now: more are announced, not moved in under them;
        # while it shows none, the list itself comes too.
        shown_before = _count(request.GET.get("shown"))
        context["news_count"] = max(0, context["shown_count"] - shown_before)
        context["list_too"] = shown_before == 0
        if context["list_too"]:
            context["news_count"] = 0
        else:
            # The news keeps asking with the count the list still shows.
            context["shown_count_for_news"] = shown_before
        return await render(request, "common/_slot_news_region.jinja", context)
    if list_only:
        context["oob_progress"] = True
        context["oob_news"] = True
        return await render(request, "common/_slot_list.jinja", context)
    return await render(request, "booking/choose_slot.jinja", context)


@patient_required
@require_GET
async def practice_status(request: HttpRequest, ods: str) -> HttpResponse:
    """One practice's status line, asked afresh (htmx asks for one per practice, and "try
    again" asks again). Without htmx, the whole page, asking that practice again."""
    if not request.htmx:
        return redirect(f"{reverse('booking:choose_slot')}?retry={ods}")
    scope = await search_scope(request)
    if scope is None:
        raise Http404("No search in progress")
    practices, dates = scope
    practice = next((p for p in practices if p.ods_code == ods), None)
    if practice is None:
        raise Http404("Not one of the practices being searched")
    [result] = await practice_search.search(
        request.user,
        [practice],
        dates,
        correlation_id=practice_search.new_correlation_id(),
        retry=frozenset({ods}),
    )
    fragment, retry = _status_links(practice)
    status = PracticeStatusView.of(practice, result, fragment_href=fragment, retry_href=retry)
    response = await render(request, "common/_practice_status.jinja", {"status": status})
    response["HX-Trigger"] = "practice-checked"
    return response


def _count(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 1_000_000))
    except ValueError:
        return 0


async def _nothing_found_context(practices: list, dates: gpconnect.DateRange) -> dict:
    latest = timezone.localdate() + datetime.timedelta(weeks=MAX_WEEKS_AHEAD)
    later_start = dates.end + datetime.timedelta(days=1)
    return {
        "nothing_found": "booking/_nothing_found_body.jinja",
        "can_search_later": later_start <= latest,
        "later_text": date_label(later_start),
        "more_practices": len(practices) < len(await afederation_practices(practices[0])),
    }
