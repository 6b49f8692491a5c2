"""The patient's appointments: confirmation, the list, one appointment, its calendar file,
and cancelling it."""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from booking_site import gpconnect
from booking_site.accounts.decorators import patient_required
from booking_site.booking import presenters
from booking_site.booking.calendar import appointment_ics
from booking_site.booking.forms import CancelForm
from booking_site.booking.models import Booking
from booking_site.booking.services import appointments as services
from booking_site.common import practice_search
from booking_site.core.rendering import render


@patient_required
@require_GET
async def confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    if booking.status in Booking.OPEN:
        # Sent, but the practice's answer did not say whether it booked it: never "not booked".
        return await render(
            request,
            "booking/being_confirmed.jinja",
            {"booking": booking, "view": presenters.booking_view(booking)},
        )
    if booking.status != Booking.Status.BOOKED:
        return redirect("booking:appointment", pk=booking.pk)
    return await render(
        request,
        "booking/confirmation.jinja",
        {"booking": booking, "view": presenters.booking_view(booking)},
    )


@patient_required
@require_GET
async def appointments(request: HttpRequest) -> HttpResponse:
    bookings = [booking async for booking in services.bookings_for(request.user)]
    problems = await services.refresh(
        [b for b in bookings if services.is_upcoming(b)],
        request.user,
        correlation_id=practice_search.new_correlation_id(),
    )
    upcoming = [b for b in bookings if services.is_upcoming(b)]
    past = [b for b in bookings if not services.is_upcoming(b)]
    past.reverse()
    return await render(
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
        [booking], request.user, correlation_id=practice_search.new_correlation_id()
    )
    return await render(
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
    return await render(
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
        return await render(
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
            correlation_id=practice_search.new_correlation_id(),
        )
    except gpconnect.ProviderError as error:
        return await render(
            request,
            "booking/cancel_failed.jinja",
            {"booking": booking, "message": presenters.cancel_message(error)},
        )
    await request.session.apop(_cancel_key(pk), None)
    return redirect("booking:appointment", pk=booking.pk)
