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

# Dates typed under "Between dates I choose" when another period was chosen: not part of the
# journey, but shown again if the patient comes back to "When".
_TYPED_DATES = "booking_when_typed_dates"


@patient_required
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    journeys.clear(request)
    request.session.pop(_TYPED_DATES, None)
    return redirect("booking:where")


@patient_required
@require_http_methods(["GET", "POST"])
def where(request: HttpRequest) -> HttpResponse:
    journey = journeys.load(request)
    own = request.user.registered_practice
    initial = {"scope": journey.scope, "practices": list(journey.chosen)} if journey.scope else {}
    # Only practices that book online for this patient are offered; the others are named.
    federation = federation_practices(own)
    offered = [p for p in federation if p.books_online_for(request.user)]
    form = WhereForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        own_practice=own,
        federation_practices=offered,
    )
    if request.method == "POST" and form.is_valid():
        journey = journeys.Journey(
            ods_codes=tuple(form.chosen_ods_codes()),
            scope=form.cleaned_data["scope"],
            chosen=tuple(form.cleaned_data.get("practices") or ()),
            start=journey.start,
            end=journey.end,
            period=journey.period,
            # What the patient typed stays for when they choose a time again.
            details=journey.details,
        )
        journeys.save(request, journey)
        return redirect("booking:when")
    not_offered = [p for p in federation if p not in offered]
    return render(request, "booking/where.jinja", {"form": form, "not_offered": not_offered})


@patient_required
@require_http_methods(["GET", "POST"])
def when(request: HttpRequest) -> HttpResponse:
    journey = journeys.load(request)
    if not journey.has_where:
        return redirect("booking:where")
    initial = {"period": journey.period}
    if journey.period == "dates":
        initial.update(start=journey.start, end=journey.end)
    else:
        initial.update(request.session.get(_TYPED_DATES) or {})
    form = WhenForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        typed = form.dates_as_typed()
        if form.cleaned_data["period"] != "dates" and any(map(any, typed.values())):
            request.session[_TYPED_DATES] = typed
        else:
            request.session.pop(_TYPED_DATES, None)
        start, end = form.date_range()
        journey = journeys.Journey(
            ods_codes=journey.ods_codes,
            scope=journey.scope,
            chosen=journey.chosen,
            start=start,
            end=end,
            period=form.cleaned_data["period"],
            details=journey.details,
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
