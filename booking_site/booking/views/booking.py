"""Choosing a time, the patient's details, checking the answers, booking, and the "just
taken" page."""

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from booking_site import gpconnect
from booking_site.accounts.decorators import patient_required
from booking_site.accounts.timeout import take_resumed_form
from booking_site.booking import journey as journeys
from booking_site.booking import presenters
from booking_site.booking.forms import DetailsForm
from booking_site.booking.models import Booking
from booking_site.booking.services import booking as services
from booking_site.booking.views.results import choose_href, search_scope
from booking_site.common import practice_search
from booking_site.common.results import SlotView
from booking_site.core.rendering import render
from booking_site.notifications.forms import ContactForm
from booking_site.practices.directory import apractices_by_ods


@patient_required
@require_http_methods(["GET", "POST"])
async def details(request: HttpRequest) -> HttpResponse:
    journey = await journeys.aload(request)
    scope = await search_scope(request)
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
            try:
                slot = await services.find_slot(
                    request.user,
                    practice,
                    dates,
                    slot_ids,
                    correlation_id=practice_search.new_correlation_id(),
                )
            except services.SignInAgain as again:
                return await _sign_in_again(request, again, request.get_full_path())
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
    # The practice phones for a telephone appointment, and may for one whose channel it does
    # not say: both ask for a number.
    needs_phone = journey.slot.get("delivery_channel") in ("Telephone", "", None)
    # What they were typing when their session timed out comes back after signing in again.
    resumed = await take_resumed_form(request) if request.method == "GET" else {}
    form = DetailsForm(
        request.POST if request.method == "POST" else None,
        initial={**journey.details, **resumed},
        needs_phone=needs_phone,
    )
    if request.method == "POST" and form.is_valid():
        await journeys.asave(
            request, journeys.Journey(**{**journey.__dict__, "details": form.cleaned_data})
        )
        return redirect("booking:check")
    return await render(
        request,
        "booking/details.jinja",
        {"form": form, "slot": presenters.slot_summary(journey.slot)},
    )


@patient_required
@require_http_methods(["GET", "POST"])
async def check(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # Book exactly what the page pressed showed, not whatever the session holds now (another
        # tab may have chosen since). A page that is not one of ours, or too old, shows again.
        journey = journeys.from_check(request.POST.get("answers", ""), request.user.pk)
        if journey is None:
            return redirect("booking:check")
    else:
        journey = await journeys.aload(request)
    if not journey.slot or journey.slot.get("taken"):
        return redirect("booking:choose_slot")
    if not journey.details:
        return redirect("booking:details")
    existing = await Booking.objects.filter(
        request_id=journey.request_id, patient=request.user
    ).afirst()
    if existing is not None and existing.status in (Booking.Status.BOOKED, Booking.Status.UNKNOWN):
        # Booked or being confirmed already (a reload, the back button, a second click): never
        # book twice; the confirmation page says which.
        return redirect("booking:confirmation", pk=existing.pk)
    if request.method == "POST":
        await _keep_contact_choice(request)
        if existing is not None and existing.status == Booking.Status.FAILED:
            # That page's request was refused; trying again is a new request (the check page
            # the patient is sent back to has one).
            return redirect("booking:check")
        return await _confirm(request, journey, stored=existing is not None)
    return await render(
        request,
        "booking/check.jinja",
        {
            "slot": presenters.slot_summary(journey.slot),
            "details": journey.details,
            "journey": journey,
            "answers": journeys.signed_for_check(journey, request.user.pk),
            "contact_form": ContactForm(user=request.user),
        },
    )


async def _keep_contact_choice(request: HttpRequest) -> None:
    """How to hear about this booking, chosen on the check page (a choice that is not one of
    the patient's options leaves theirs as it was)."""
    if "contact_by" not in request.POST:
        return
    form = ContactForm(request.POST, user=request.user)
    if form.is_valid() and form.cleaned_data["contact_by"] != request.user.contact_by:
        request.user.contact_by = form.cleaned_data["contact_by"]
        await request.user.asave(update_fields=["contact_by"])


async def _confirm(
    request: HttpRequest, journey: journeys.Journey, *, stored: bool
) -> HttpResponse:
    practices = await apractices_by_ods([journey.slot["practice_ods"]])
    if not practices:
        raise Http404("Unknown practice")
    practice = practices[0]
    correlation_id = practice_search.new_correlation_id()
    # A booking already stored is sent from its row, never from a search or the cache.
    slot = None if stored else await services.chosen_slot(journey.request_id)
    try:
        if slot is None and not stored:
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
    except services.SignInAgain as again:
        return await _sign_in_again(request, again, reverse("booking:check"))
    except services.SlotGone:
        await journeys.asave(
            request,
            journeys.Journey(**{**journey.__dict__, "slot": {**journey.slot, "taken": True}}),
        )
        return redirect("booking:slot_taken")
    except services.BookingFailed as failure:
        await journeys.asave(request, journey.with_new_request())
        return await render(
            request,
            "booking/booking_failed.jinja",
            {"message": failure.message, "practice": practice},
            status=200,
        )
    except services.TooManyBookings as limit:
        return await render(
            request,
            "booking/too_many_bookings.jinja",
            {"held": limit.held, "limit": limit.limit, "practice": practice},
            status=200,
        )
    # Booked, or being confirmed: the confirmation page says which.
    return redirect("booking:confirmation", pk=booking.pk)


async def _sign_in_again(
    request: HttpRequest, again: services.SignInAgain, next_url: str
) -> HttpResponse:
    return await render(
        request,
        "booking/sign_in_again.jinja",
        {"message": again.message, "next": next_url},
        status=200,
    )


@patient_required
@require_GET
async def slot_taken(request: HttpRequest) -> HttpResponse:
    journey = await journeys.aload(request)
    scope = await search_scope(request)
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
        correlation_id=practice_search.new_correlation_id(),
    )
    return await render(
        request,
        "booking/slot_taken.jinja",
        {"alternatives": [SlotView(slot, choose_href(slot)) for slot in alternatives]},
    )
