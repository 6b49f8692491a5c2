"""Earlier-appointment alerts from the patient's side: setting one up (from the results page or
after booking), seeing one, ending one, and the link in an alert's message, which opens a fresh
search of that day (the time it told of may have gone)."""

import datetime
from datetime import UTC
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking_site.accounts.decorators import patient_required
from booking_site.booking import journey as journeys
from booking_site.booking.forms import AlertForm, WhereForm
from booking_site.booking.models import Booking
from booking_site.booking.views.results import search_scope
from booking_site.common.formatting import (
    CHANNEL_LABELS,
    TIME_OF_DAY,
    date_label,
    uk_day,
    uk_today,
    when_label,
)
from booking_site.common.results import Filters
from booking_site.core.rendering import render
from booking_site.notifications import alerts, contact
from booking_site.notifications.models import Alert
from booking_site.practices.directory import apractices_by_ods

# How long an alert looks by default: the search's last day, or this many weeks.
DEFAULT_WEEKS = 4


def describe(alert_or_fields) -> dict:
    """What an alert looks for, in words."""
    channels = alert_or_fields["channels"]
    times = alert_or_fields["times_of_day"]
    earlier = alert_or_fields["earlier_than"]
    return {
        "how": ", ".join(CHANNEL_LABELS[c] for c in channels) or "In person, by phone or by video",
        "when": ", ".join(TIME_OF_DAY[t] for t in times) or "Any time of day",
        "earlier": f"Before {when_label(earlier)}" if earlier else "Any time",
    }


async def _fields(request: HttpRequest, source: QueryDict) -> dict | None:
    """The alert asked for: the practices (the booked one after booking, else the journey's, as
    the results' practice filter narrows them), the filters, and the time to beat (the booking's,
    or the earliest the results showed; a value that is not a time to come within 8 weeks is
    taken as none)."""
    scope = await search_scope(request)
    filters = Filters.from_query(source)
    earlier, practices = None, None
    booking = None
    if source.get("after"):
        booking = (
            await Booking.objects.select_related("practice")
            .filter(pk=_int(source["after"]), patient=request.user, status=Booking.Status.BOOKED)
            .afirst()
        )
    if booking is not None and booking.practice.books_online_for(request.user):
        earlier, practices = booking.start, [booking.practice]
    elif scope is not None:
        practices = scope[0]
        if filters.practices:
            practices = [p for p in practices if p.ods_code in filters.practices] or practices
        earlier = _time_to_beat(source.get("earlier", ""))
    if not practices:
        return None
    return {
        "practices": practices,
        "dates_end": scope[1].end if scope else uk_day(booking.start),
        "channels": sorted(filters.channels),
        "times_of_day": sorted(filters.times),
        "earlier_than": earlier,
        "booking": booking,
    }


def _time_to_beat(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text[:40])
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    latest = alerts.latest_until() + datetime.timedelta(days=1)
    try:
        if not timezone.now() < moment < datetime.datetime.combine(latest, datetime.time(), UTC):
            return None
    except OverflowError:
        return None
    return moment


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


@patient_required
@require_http_methods(["GET", "POST"])
async def new_alert(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    fields = await _fields(request, source)
    if fields is None:
        return redirect("booking:where")
    today = uk_today()
    default_until = min(
        max(fields["dates_end"], today + datetime.timedelta(weeks=DEFAULT_WEEKS)),
        alerts.latest_until(today),
    )
    form = AlertForm(
        request.POST if request.method == "POST" else None, initial={"until": default_until}
    )
    reach = contact.contact_for(request.user)
    if request.method == "POST" and reach is not None and form.is_valid():
        try:
            alert = await sync_to_async(alerts.create)(
                request.user,
                fields["practices"],
                channels=fields["channels"],
                times_of_day=fields["times_of_day"],
                earlier_than=fields["earlier_than"],
                until=form.cleaned_data["until"],
            )
        except alerts.TooManyAlerts as too_many:
            # Shown at the one question the page asks.
            form.add_error("until", str(too_many))
        else:
            return redirect("booking:alert", pk=alert.pk)
    booking = fields["booking"]
    back = (
        reverse("booking:confirmation", args=[booking.pk])
        if booking
        else reverse("booking:choose_slot")
    )
    return await render(
        request,
        "booking/alert_new.jinja",
        {
            "form": form,
            "fields": fields,
            "described": describe(fields),
            "contact": contact.describe(request.user),
            "reach": reach,
            "hidden": [
                (name, value)
                for name in ("time", "channel", "practice", "after", "earlier")
                for value in source.getlist(name)
            ],
            "back": back,
            "contact_href": reverse("notifications:contact")
            + "?"
            + urlencode({"next": request.get_full_path()}),
        },
    )


async def _own_alert(request: HttpRequest, pk) -> Alert:
    alert = (
        await Alert.objects.filter(pk=pk, patient=request.user)
        .prefetch_related("practices")
        .afirst()
    )
    if alert is None:
        raise Http404("Not one of your alerts")
    return alert


def alert_view(alert: Alert) -> dict:
    return {
        "alert": alert,
        "practices": [p.name for p in alert.practices.all()],
        "until": date_label(alert.until),
        "described": describe(
            {
                "channels": alert.channels,
                "times_of_day": alert.times_of_day,
                "earlier_than": alert.earlier_than,
            }
        ),
    }


@patient_required
@require_GET
async def alert(request: HttpRequest, pk) -> HttpResponse:
    found = await _own_alert(request, pk)
    return await render(
        request,
        "booking/alert.jinja",
        {**alert_view(found), "contact": contact.describe(request.user)},
    )


@patient_required
@require_POST
async def end_alert(request: HttpRequest, pk) -> HttpResponse:
    found = await _own_alert(request, pk)
    await alerts.end(found, Alert.Status.ENDED)
    return redirect("booking:alert", pk=found.pk)


@patient_required
@require_GET
async def alert_search(request: HttpRequest, pk) -> HttpResponse:
    """The link in an alert's message: a fresh search of that day at the alert's practices
    (those still booking online for this patient), with its filters."""
    found = await _own_alert(request, pk)
    try:
        day = datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = uk_day(found.earlier_than) if found.earlier_than else uk_today()
    day = min(max(day, uk_today()), alerts.latest_until())
    ods_codes = [p.ods_code for p in found.practices.all()]
    practices = [p for p in await apractices_by_ods(ods_codes) if p.books_online_for(request.user)]
    if not practices:
        return redirect("booking:where")
    journey = await journeys.aload(request)
    await journeys.asave(
        request,
        journeys.Journey(
            ods_codes=tuple(p.ods_code for p in practices),
            scope=WhereForm.CHOSEN,
            chosen=tuple(p.ods_code for p in practices),
            start=day,
            end=day,
            period="dates",
            details=journey.details,
        ),
    )
    query = urlencode(
        [("time", t) for t in found.times_of_day] + [("channel", c) for c in found.channels]
    )
    return redirect(reverse("booking:choose_slot") + (f"?{query}" if query else ""))
