"""The patient journey: where, when, choose a time, details, check, book, confirmation, and
the patient's appointments (view, calendar file, cancel)."""

import datetime
import math
import uuid

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking_site import gpconnect
from booking_site.accounts.decorators import patient_required
from booking_site.booking import journey as journeys
from booking_site.booking import presenters, services
from booking_site.booking.calendar import appointment_ics
from booking_site.booking.forms import (
    MAX_WEEKS_AHEAD,
    CancelForm,
    DetailsForm,
    FilterForm,
    WhenForm,
    WhereForm,
)
from booking_site.booking.models import Booking
from booking_site.core.rendering import render as arender
from booking_site.practices.directory import (
    afederation_practices,
    apractices_by_ods,
    federation_practices,
    practices_by_ods,
)

PAGE_SIZE = 50
STAFF_PREVIEW_PERMISSION = "availability.view_preview"


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


# --- Choose a time -----------------------------------------------------------------------------


async def _search_scope(request: HttpRequest) -> tuple[list, gpconnect.DateRange] | None:
    journey = await journeys.aload(request)
    if not (journey.has_where and journey.has_when):
        return None
    practices = await apractices_by_ods(journey.ods_codes)
    if not practices:
        return None
    return practices, gpconnect.DateRange(journey.start, journey.end)


async def _results_context(
    request: HttpRequest,
    practices: list,
    dates: gpconnect.DateRange,
    *,
    answered_only: bool,
    read_only: bool = False,
    page_path: str | None = None,
) -> dict:
    """Everything the results page and its fragments show, from one search."""
    codes = {p.ods_code for p in practices}
    retry = frozenset(code for code in request.GET.getlist("retry") if code in codes)
    results = await services.search(
        request.user,
        practices,
        dates,
        correlation_id=services.new_correlation_id(),
        retry=retry,
        answered_only=answered_only,
    )
    statuses = [
        presenters.PracticeStatusView.of(practice, result)
        for practice, result in zip(practices, results, strict=True)
    ]
    all_slots = [slot for result in results if result is not None for slot in result.slots]
    filters = presenters.Filters.from_query(request.GET)
    shown = [slot for slot in all_slots if filters.accepts(slot)]
    shown.sort(key=lambda slot: (slot.start, slot.practice_name))
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    checked = sum(1 for status in statuses if status.state != "checking")
    page_links = {}
    for name, number in (("previous", page - 1), ("next", page + 1)):
        if 1 <= number <= pages:
            query = request.GET.copy()
            query["page"] = str(number)
            query.pop("retry", None)
            page_links[name] = f"{page_path or request.path}?{query.urlencode()}"
    return {
        "practices": practices,
        "dates": dates,
        "date_text": f"{presenters.date_label(dates.start)} to {presenters.date_label(dates.end)}",
        "statuses": statuses,
        "checked": checked,
        "all_answered": checked == len(statuses),
        "total": len(all_slots),
        "shown_count": len(shown),
        "days": presenters.group_by_day(shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]),
        "page": page,
        "pages": pages,
        "page_links": page_links,
        "filters": filters,
        "filter_form": FilterForm(
            request.GET, options=presenters.filter_options(all_slots, practices)
        ),
        "read_only": read_only,
        "failed": [status for status in statuses if status.state == "failed"],
    }


@patient_required
@require_GET
async def choose_slot(request: HttpRequest) -> HttpResponse:
    scope = await _search_scope(request)
    if scope is None:
        return redirect("booking:where")
    practices, dates = scope
    progressive = request.GET.get("progress") == "1"
    context = await _results_context(request, practices, dates, answered_only=progressive)
    context["progressive"] = progressive
    if context["all_answered"] and context["total"] == 0:
        return await arender(
            request,
            "booking/nothing_found.jinja",
            await _nothing_found_context(practices, dates, context),
        )
    return await arender(request, "booking/choose_slot.jinja", context)


@patient_required
@require_GET
async def practice_status(request: HttpRequest, ods: str) -> HttpResponse:
    """One practice's status line, asked afresh (htmx loads one per practice)."""
    scope = await _search_scope(request)
    if scope is None:
        raise Http404("No search in progress")
    practices, dates = scope
    practice = next((p for p in practices if p.ods_code == ods), None)
    if practice is None:
        raise Http404("Not one of the practices being searched")
    [result] = await services.search(
        request.user,
        [practice],
        dates,
        correlation_id=services.new_correlation_id(),
        retry=frozenset({ods}),
    )
    status = presenters.PracticeStatusView.of(practice, result)
    response = await arender(request, "booking/_practice_status.jinja", {"status": status})
    response["HX-Trigger"] = "practice-checked"
    return response


@patient_required
@require_GET
async def slot_list(request: HttpRequest) -> HttpResponse:
    """The merged list of what the practices that have answered offer so far."""
    scope = await _search_scope(request)
    if scope is None:
        raise Http404("No search in progress")
    practices, dates = scope
    context = await _results_context(
        request,
        practices,
        dates,
        answered_only=True,
        page_path=reverse("booking:choose_slot"),
    )
    context["progressive"] = True
    context["oob_progress"] = True
    if context["all_answered"] and context["total"] == 0:
        context.update(await _nothing_found_context(practices, dates, context))
    return await arender(request, "booking/_slot_list.jinja", context)


async def _nothing_found_context(
    practices: list, dates: gpconnect.DateRange, context: dict
) -> dict:
    latest = timezone.localdate() + datetime.timedelta(weeks=MAX_WEEKS_AHEAD)
    later_start = dates.end + datetime.timedelta(days=1)
    return {
        **context,
        "nothing_found": True,
        "can_search_later": later_start <= latest,
        "later_text": presenters.date_label(later_start),
        "more_practices": len(practices) < len(await afederation_practices(practices[0])),
    }


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


@login_required
@require_GET
async def preview_as_patient(request: HttpRequest) -> HttpResponse:
    """Practice staff see the results page as patients would, without booking buttons."""
    codes = request.GET.getlist("practices")
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
        dates = gpconnect.DateRange(start, end)
    except ValueError:
        raise Http404("Not a date range") from None
    if dates.days > 7 * MAX_WEEKS_AHEAD + 7:
        raise Http404("Previews cover at most the weeks patients can book")
    request.user = await request.auser()
    practices = await sync_to_async(_staff_practices_or_403)(request.user, codes)
    context = await _results_context(request, practices, dates, answered_only=False, read_only=True)
    context["progressive"] = False
    return await arender(request, "booking/choose_slot.jinja", context)


def _staff_practices_or_403(user, codes: list[str]) -> list:
    """The practices asked for, if every one is in a federation this staff member works in."""
    if user.is_patient or not user.has_perm(STAFF_PREVIEW_PERMISSION):
        raise PermissionDenied("Practice staff only")
    federations = {p.federation_id for p in user.staff_practices.all() if p.federation_id}
    practices = practices_by_ods(codes)
    if not practices or len(practices) != len(set(codes)):
        raise Http404("Unknown practice")
    if any(p.federation_id not in federations for p in practices):
        raise PermissionDenied("Not a practice in your federation")
    return practices


# --- Details, check, book ----------------------------------------------------------------------


@patient_required
@require_http_methods(["GET", "POST"])
async def details(request: HttpRequest) -> HttpResponse:
    journey = await journeys.aload(request)
    scope = await _search_scope(request)
    if scope is None:
        return redirect("booking:where")
    practices, dates = scope
    if "slot" in request.GET:
        practice = next((p for p in practices if p.ods_code == request.GET.get("practice")), None)
        slot_ids = tuple(request.GET["slot"].split(","))
        if practice is None:
            raise Http404("Not one of the practices searched")
        if (
            journey.slot.get("slot_ids") != list(slot_ids)
            or journey.slot.get("practice_ods") != practice.ods_code
        ):
            slot = await services.find_slot(
                request.user,
                practice,
                dates,
                slot_ids,
                correlation_id=services.new_correlation_id(),
            )
            if slot is None:
                await journeys.asave(
                    request, journey.with_slot({"practice_ods": practice.ods_code, "taken": True})
                )
                return redirect("booking:slot_taken")
            journey = journey.with_slot(services.slot_details(slot))
            await services.keep_chosen_slot(journey.request_id, slot)
            await journeys.asave(request, journey)
        return redirect("booking:details")
    if not journey.slot or journey.slot.get("taken"):
        return redirect("booking:choose_slot")
    needs_phone = journey.slot.get("delivery_channel") == "Telephone"
    form = DetailsForm(
        request.POST if request.method == "POST" else None,
        initial=journey.details,
        needs_phone=needs_phone,
    )
    if request.method == "POST" and form.is_valid():
        await journeys.asave(
            request, journeys.Journey(**{**journey.__dict__, "details": form.cleaned_data})
        )
        return redirect("booking:check")
    return await arender(
        request,
        "booking/details.jinja",
        {"form": form, "slot": presenters.slot_summary(journey.slot)},
    )


@patient_required
@require_http_methods(["GET", "POST"])
async def check(request: HttpRequest) -> HttpResponse:
    journey = await journeys.aload(request)
    if not journey.slot or journey.slot.get("taken"):
        return redirect("booking:choose_slot")
    if not journey.details:
        return redirect("booking:details")
    existing = await Booking.objects.filter(
        request_id=journey.request_id, patient=request.user
    ).afirst()
    if existing is not None and existing.status == Booking.Status.BOOKED:
        # Confirmed already (a reload, the back button, a second click): never book twice.
        return redirect("booking:confirmation", pk=existing.pk)
    if request.method == "POST":
        return await _confirm(request, journey)
    return await arender(
        request,
        "booking/check.jinja",
        {
            "slot": presenters.slot_summary(journey.slot),
            "details": journey.details,
            "journey": journey,
        },
    )


async def _confirm(request: HttpRequest, journey: journeys.Journey) -> HttpResponse:
    practices = await apractices_by_ods([journey.slot["practice_ods"]])
    if not practices:
        raise Http404("Unknown practice")
    practice = practices[0]
    correlation_id = services.new_correlation_id()
    slot = await services.chosen_slot(journey.request_id)
    if slot is None:
        dates = gpconnect.DateRange(journey.start, journey.end)
        slot = await services.find_slot(
            request.user,
            practice,
            dates,
            tuple(journey.slot["slot_ids"]),
            correlation_id=correlation_id,
        )
    if slot is None:
        return redirect("booking:slot_taken")
    try:
        booking = await services.confirm_booking(
            request.user,
            practice,
            slot,
            reason=journey.details["reason"],
            note=journey.details.get("note", ""),
            phone=journey.details.get("phone", ""),
            request_id=journey.request_id,
            correlation_id=correlation_id,
        )
    except services.SlotGone:
        await journeys.asave(
            request,
            journeys.Journey(**{**journey.__dict__, "slot": {**journey.slot, "taken": True}}),
        )
        return redirect("booking:slot_taken")
    except services.BookingFailed as failure:
        return await arender(
            request,
            "booking/booking_failed.jinja",
            {"message": failure.message, "practice": practice},
            status=200,
        )
    return redirect("booking:confirmation", pk=booking.pk)


@patient_required
@require_GET
async def slot_taken(request: HttpRequest) -> HttpResponse:
    journey = await journeys.aload(request)
    scope = await _search_scope(request)
    if scope is None or not journey.slot:
        return redirect("booking:choose_slot")
    practices, dates = scope
    taken_start = (
        datetime.datetime.fromisoformat(journey.slot["start"])
        if "start" in journey.slot
        else timezone.now()
    )
    alternatives = await services.nearest_alternatives(
        request.user,
        practices,
        dates,
        taken_practice=journey.slot.get("practice_ods", ""),
        taken_start=taken_start,
        correlation_id=services.new_correlation_id(),
    )
    return await arender(
        request,
        "booking/slot_taken.jinja",
        {"alternatives": [presenters.SlotView(slot) for slot in alternatives]},
    )


# --- Your appointments -------------------------------------------------------------------------


@patient_required
@require_GET
async def confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    if booking.status != Booking.Status.BOOKED:
        return redirect("booking:appointment", pk=booking.pk)
    return await arender(
        request,
        "booking/confirmation.jinja",
        {"booking": booking, "view": presenters.booking_view(booking)},
    )


@patient_required
@require_GET
async def appointments(request: HttpRequest) -> HttpResponse:
    await services.settle_pending(request.user, correlation_id=services.new_correlation_id())
    bookings = [booking async for booking in services.bookings_for(request.user)]
    problems = await services.refresh(
        [b for b in bookings if services.is_upcoming(b)],
        request.user,
        correlation_id=services.new_correlation_id(),
    )
    upcoming = [b for b in bookings if services.is_upcoming(b)]
    past = [b for b in bookings if not services.is_upcoming(b)]
    past.reverse()
    return await arender(
        request,
        "booking/appointments.jinja",
        {
            "upcoming": [(b, presenters.booking_view(b), problems.get(b.pk)) for b in upcoming],
            "past": [(b, presenters.booking_view(b), problems.get(b.pk)) for b in past],
        },
    )


@patient_required
@require_GET
async def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    problems = await services.refresh(
        [booking], request.user, correlation_id=services.new_correlation_id()
    )
    return await arender(
        request,
        "booking/appointment.jinja",
        {
            "booking": booking,
            "view": presenters.booking_view(booking),
            "problem": problems.get(booking.pk),
            "can_cancel": booking.status == Booking.Status.BOOKED and services.is_upcoming(booking),
        },
    )


@patient_required
@require_GET
async def calendar_file(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    if not booking.appointment_id:
        raise Http404("Not booked")
    response = HttpResponse(
        appointment_ics(booking, host=request.get_host()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="gp-appointment-{booking.start:%Y-%m-%d}.ics"'
    )
    return response


def _cancel_key(pk: int) -> str:
    return f"cancel:{pk}"


@patient_required
@require_http_methods(["GET", "POST"])
async def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    if booking.status != Booking.Status.BOOKED or not services.is_upcoming(booking):
        return redirect("booking:appointment", pk=booking.pk)
    pending = await request.session.aget(_cancel_key(pk)) or {}
    form = CancelForm(
        request.POST if request.method == "POST" else None,
        initial={"reason": pending.get("reason", "")},
    )
    if request.method == "POST" and form.is_valid():
        await request.session.aset(
            _cancel_key(pk),
            {
                "reason": form.cleaned_data["reason"],
                "request_id": pending.get("request_id") or str(uuid.uuid4()),
            },
        )
        return redirect("booking:cancel_confirm", pk=booking.pk)
    return await arender(
        request,
        "booking/cancel.jinja",
        {"form": form, "booking": booking, "view": presenters.booking_view(booking)},
    )


@patient_required
@require_http_methods(["GET", "POST"])
async def cancel_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    pending = await request.session.aget(_cancel_key(pk))
    if booking.status == Booking.Status.CANCELLED:
        return redirect("booking:appointment", pk=booking.pk)
    if not pending:
        return redirect("booking:cancel", pk=booking.pk)
    if request.method == "GET":
        return await arender(
            request,
            "booking/cancel_confirm.jinja",
            {
                "booking": booking,
                "view": presenters.booking_view(booking),
                "reason": pending["reason"],
            },
        )
    try:
        await services.cancel_booking(
            request.user,
            booking,
            pending["reason"],
            request_id=pending["request_id"],
            correlation_id=services.new_correlation_id(),
        )
    except gpconnect.ProviderError as error:
        return await arender(
            request,
            "booking/cancel_failed.jinja",
            {"booking": booking, "message": presenters.cancel_message(error)},
        )
    await request.session.apop(_cancel_key(pk), None)
    return redirect("booking:appointment", pk=booking.pk)
