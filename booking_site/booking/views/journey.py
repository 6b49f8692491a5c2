"""The journey's first questions: start, where and when, and searching later dates."""

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking_site.accounts.decorators import patient_required
from booking_site.booking import journey as journeys
from booking_site.booking.forms import MAX_WEEKS_AHEAD, WhenForm, WhereForm
from booking_site.practices.directory import federation_practices


@patient_required
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    journeys.clear(request)
    return redirect("booking:where")


@patient_required
@require_http_methods(["GET", "POST"])
def where(request: HttpRequest) -> HttpResponse:
    journey = journeys.load(request)
    own = request.user.registered_practice
    initial = {"scope": journey.scope, "practices": list(journey.chosen)} if journey.scope else {}
    form = WhereForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        own_practice=own,
        federation_practices=federation_practices(own),
    )
    if request.method == "POST" and form.is_valid():
        journey = journeys.Journey(
            ods_codes=tuple(form.chosen_ods_codes()),
            scope=form.cleaned_data["scope"],
            chosen=tuple(form.cleaned_data.get("practices") or ()),
            start=journey.start,
            end=journey.end,
            period=journey.period,
        )
        journeys.save(request, journey)
        return redirect("booking:when")
    return render(request, "booking/where.jinja", {"form": form})


@patient_required
@require_http_methods(["GET", "POST"])
def when(request: HttpRequest) -> HttpResponse:
    journey = journeys.load(request)
    if not journey.has_where:
        return redirect("booking:where")
    initial = {"period": journey.period}
    if journey.period == "dates":
        initial.update(start=journey.start, end=journey.end)
    form = WhenForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        start, end = form.date_range()
        journey = journeys.Journey(
            ods_codes=journey.ods_codes,
            scope=journey.scope,
            chosen=journey.chosen,
            start=start,
            end=end,
            period=form.cleaned_data["period"],
        )
        journeys.save(request, journey)
        url = reverse("booking:choose_slot")
        # Set by static/js/journey.js: with JavaScript the results arrive practice by practice.
        return redirect(url + "?progress=1" if request.POST.get("js") == "1" else url)
    return render(request, "booking/when.jinja", {"form": form})


@patient_required
@require_POST
def search_later(request: HttpRequest) -> HttpResponse:
    """ "Search the next 2 weeks": the same practices, the 14 days after the range searched."""
    journey = journeys.load(request)
    if not journey.has_when:
        return redirect("booking:when")
    latest = timezone.localdate() + datetime.timedelta(weeks=MAX_WEEKS_AHEAD)
    start = journey.end + datetime.timedelta(days=1)
    if start > latest:
        return redirect("booking:choose_slot")
    end = min(start + datetime.timedelta(days=13), latest)
    journeys.save(
        request,
        journeys.Journey(**{**journey.__dict__, "start": start, "end": end, "period": "dates"}),
    )
    return redirect("booking:choose_slot")
