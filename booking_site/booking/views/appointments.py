"""The patient's appointments: confirmation, the list, one appointment, its calendar file,
and cancelling it.

An appointment the site booked has its pages under the booking's id
(``/appointments/<pk>/``); one the site only knows from the practice (booked by phone, say)
under the practice's ODS code and the practice's own id (``/appointments/<ods>/<id>/``), and is
shown only after the practice, asked for this patient, says it is theirs.
"""

import datetime
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from booking_site import gpconnect
from booking_site.accounts.decorators import patient_required
from booking_site.booking import presenters
from booking_site.booking.calendar import appointment_ics
from booking_site.booking.forms import CancelForm
from booking_site.booking.models import Booking
from booking_site.booking.services import appointments as services
from booking_site.booking.services.appointments import Shown
from booking_site.booking.views.alerts import alert_view
from booking_site.common import practice_search
from booking_site.core.rendering import render
from booking_site.notifications import contact
from booking_site.notifications.models import Alert

# --- Display: any appointment shown, a site booking or one known only at the practice ----------

# The words and tag colour for each status; grey for the rest.
_SITE_TAGS = {
    Booking.Status.BOOKED: "nhsuk-tag--green",
    Booking.Status.UNKNOWN: "nhsuk-tag--blue",
    Booking.Status.FAILED: "nhsuk-tag--red",
}
_PRACTICE_STATUSES = {
    "booked": ("Booked", "nhsuk-tag--green"),
    "cancelled": ("Cancelled", "nhsuk-tag--grey"),
    "pending": ("Not confirmed by the practice yet", "nhsuk-tag--blue"),
    "proposed": ("Not confirmed by the practice yet", "nhsuk-tag--blue"),
    "arrived": ("Arrived", "nhsuk-tag--grey"),
    "fulfilled": ("Attended", "nhsuk-tag--grey"),
    "noshow": ("Not attended", "nhsuk-tag--grey"),
}


def _tag(shown: Shown) -> dict:
    if shown.booking is not None:
        return {
            "text": shown.booking.get_status_display(),
            "classes": _SITE_TAGS.get(shown.booking.status, "nhsuk-tag--grey"),
        }
    text, classes = _PRACTICE_STATUSES.get(shown.status, (shown.status, "nhsuk-tag--grey"))
    return {"text": text, "classes": classes}


def _urls(shown: Shown) -> dict:
    if shown.booking is not None:
        prefix, args = "", [shown.booking.pk]
    else:
        prefix, args = "practice_", [shown.practice.ods_code, shown.appointment_id]
    names = ("appointment", "cancel", "cancel_confirm", "calendar")
    return {name: reverse(f"booking:{prefix}{name}", args=args) for name in names}


def _where(shown: Shown, details: dict, location: str) -> str:
    """Where the patient needs to be: nowhere for a phone call, a link for a video call."""
    channel = details.get("delivery_channel")
    if channel == "Telephone":
        phone = details.get("phone")
        return f"The practice will phone you on {phone}" if phone else "The practice will phone you"
    if channel == "Video":
        return "Online: the practice will send you a link to join the video call"
    parts = [location] if location else [shown.practice.name, shown.practice.address]
    return ", ".join(part for part in parts if part)


def _differences(shown: Shown, when: str) -> list[str]:
    """Where the practice's record differs from what the patient chose (time, surgery,
    clinician, session), each as a sentence."""
    details = shown.details
    chosen = details.get("chosen")
    if not chosen:
        return []
    out = []
    chose_start = datetime.datetime.fromisoformat(chosen["start"])
    if gpconnect.instant(chose_start) != gpconnect.instant(shown.start):
        was = presenters.slot_summary({"start": chosen["start"], "end": chosen["end"]})["when"]
        out.append(f"Time: {when}. You chose {was}.")
    location_id = details.get("location_id")
    if chosen["location_id"] and location_id and chosen["location_id"] != location_id:
        now = details.get("location_name") or "a surgery the practice's record does not name"
        out.append(f"Where: {now}. You chose {chosen['location_name'] or 'another surgery'}.")
    if chosen["practitioner_id"] and chosen["practitioner_id"] != details.get("practitioner_id"):
        now = details.get("practitioner") or "the practice's record does not name a clinician"
        out.append(f"With: {now}. You chose {chosen['practitioner'] or 'another clinician'}.")
    session = details.get("schedule_type")
    if chosen["schedule_type"] and session and chosen["schedule_type"] != session:
        out.append(f"Session: {session}. You chose {chosen['schedule_type']}.")
    return out


def appointment_view(shown: Shown, refusal: gpconnect.ProviderError | None = None) -> dict:
    """An appointment's display fields, formatted. ``refusal`` is why the practice is known to
    refuse cancelling it online, if it is."""
    details = shown.details
    summary = presenters.slot_summary(
        {**details, "start": shown.start.isoformat(), "end": shown.end.isoformat()}
    )
    return {
        **summary,
        "session": details.get("schedule_type") or "",
        "where": _where(shown, details, summary["location"]),
        "tag": _tag(shown),
        "status": shown.status,
        "reason": details.get("description") or details.get("asked_reason", ""),
        "note": details.get("comment", ""),
        "phone": details.get("phone", ""),
        "practice": shown.practice,
        "reference": shown.appointment_id,
        "cancellation_reason": shown.cancellation_reason,
        "differences": _differences(shown, summary["when"]),
        "urls": _urls(shown),
        "refusal": presenters.cancel_message(refusal) if refusal else "",
        "can_cancel": shown.can_be_cancelled and refusal is None,
    }


# --- Finding the appointment a URL names ------------------------------------------------------


async def _shown(
    request: HttpRequest,
    pk: int | None,
    ods: str | None,
    appointment_id: str | None,
    *,
    read: bool,
) -> Shown | HttpResponse:
    """The appointment the URL names, as the patient's; a redirect to the booking's own URL
    for one the site booked; a page saying so when the practice cannot be asked."""
    correlation_id = practice_search.new_correlation_id()
    if pk is not None:
        if read:
            return await services.booking_appointment(
                request.user, pk, correlation_id=correlation_id
            )
        booking = await services.booking_for(request.user, pk)
        return Shown(booking.practice, booking, None)
    try:
        found = await services.practice_appointment(
            request.user, ods, appointment_id, correlation_id=correlation_id
        )
    except services.Unreachable as error:
        return await render(
            request,
            "booking/appointment.jinja",
            {"view": None, "practice": error.practice, "problem": error.message},
        )
    if isinstance(found, Booking):
        page = request.resolver_match.url_name.removeprefix("practice_")
        return redirect(f"booking:{page}", pk=found.pk)
    return found


# --- Pages ------------------------------------------------------------------------------------


@patient_required
@require_GET
async def confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    booking = await services.booking_for(request.user, pk)
    shown = Shown(booking.practice, booking, None)
    if booking.status in Booking.OPEN:
        # Sent, but the practice's answer did not say whether it booked it: never "not booked".
        return await render(
            request,
            "booking/being_confirmed.jinja",
            {"booking": booking, "view": appointment_view(shown)},
        )
    if booking.status != Booking.Status.BOOKED:
        return redirect("booking:appointment", pk=booking.pk)
    return await render(
        request,
        "booking/confirmation.jinja",
        {"booking": booking, "view": appointment_view(shown)},
    )


@patient_required
@require_GET
async def appointments(request: HttpRequest) -> HttpResponse:
    found = await services.your_appointments(
        request.user, correlation_id=practice_search.new_correlation_id()
    )

    def listed(entries: list[Shown]) -> list[tuple[Shown, dict]]:
        return [(shown, appointment_view(shown)) for shown in entries]

    return await render(
        request,
        "booking/appointments.jinja",
        {
            "upcoming": listed(found.upcoming),
            "past": listed(found.past),
            "called_off": listed(found.called_off),
            "unchecked": found.unchecked,
            "alerts": await _alerts_of(request.user),
            "contact": contact.describe(request.user),
        },
    )


async def _alerts_of(user) -> list[dict]:
    """The patient's alerts still looking, and their own way to end each one."""
    found = (
        Alert.objects.filter(patient=user, status=Alert.Status.ACTIVE)
        .prefetch_related("practices")
        .order_by("until")
    )
    return [alert_view(alert) async for alert in found]


async def _appointment_page(request: HttpRequest, **where) -> HttpResponse:
    shown = await _shown(request, **where, read=True)
    if isinstance(shown, HttpResponse):
        return shown
    refusal = await services.known_refusal(shown) if shown.can_be_cancelled else None
    return await render(
        request,
        "booking/appointment.jinja",
        {
            "shown": shown,
            "view": appointment_view(shown, refusal),
            "practice": shown.practice,
            "problem": shown.problem,
        },
    )


async def _calendar_file(request: HttpRequest, **where) -> HttpResponse:
    shown = await _shown(request, **where, read=False)
    if isinstance(shown, HttpResponse):
        return shown
    if not shown.appointment_id:
        raise Http404("Not booked")
    refusal = await services.known_refusal(shown) if shown.can_be_cancelled else None
    response = HttpResponse(
        appointment_ics(
            shown,
            host=request.get_host(),
            cancel_online=shown.can_be_cancelled and refusal is None,
        ),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="gp-appointment-{shown.start:%Y-%m-%d}.ics"'
    )
    return response


def _cancel_key(shown: Shown) -> str:
    if shown.booking is not None:
        return f"cancel:{shown.booking.pk}"
    return f"cancel:{shown.practice.ods_code}:{shown.appointment_id}"


async def _refused_before_asking(request: HttpRequest, shown: Shown) -> HttpResponse | None:
    """The page saying the practice will not cancel it online, when that is known already."""
    refusal = await services.known_refusal(shown)
    if refusal is None:
        return None
    return await render(
        request,
        "booking/cancel_failed.jinja",
        {
            "view": appointment_view(shown, refusal),
            "message": presenters.cancel_message(refusal),
            "known_before": True,
        },
    )


async def _cancel(request: HttpRequest, **where) -> HttpResponse:
    shown = await _shown(request, **where, read=False)
    if isinstance(shown, HttpResponse):
        return shown
    view = appointment_view(shown)
    if not shown.can_be_cancelled:
        return redirect(view["urls"]["appointment"])
    refused = await _refused_before_asking(request, shown)
    if refused is not None:
        return refused
    key = _cancel_key(shown)
    pending = await request.session.aget(key) or {}
    form = CancelForm(
        request.POST if request.method == "POST" else None,
        initial={"reason": pending.get("reason", "")},
    )
    if request.method == "POST" and form.is_valid():
        await request.session.aset(
            key,
            {
                "reason": form.cleaned_data["reason"],
                "request_id": pending.get("request_id") or str(uuid.uuid4()),
            },
        )
        return redirect(view["urls"]["cancel_confirm"])
    return await render(request, "booking/cancel.jinja", {"form": form, "view": view})


async def _cancel_confirm(request: HttpRequest, **where) -> HttpResponse:
    shown = await _shown(request, **where, read=False)
    if isinstance(shown, HttpResponse):
        return shown
    view = appointment_view(shown)
    key = _cancel_key(shown)
    pending = await request.session.aget(key)
    if not shown.can_be_cancelled:
        return redirect(view["urls"]["appointment"])
    if not pending:
        return redirect(view["urls"]["cancel"])
    refused = await _refused_before_asking(request, shown)
    if refused is not None:
        return refused
    if request.method == "GET":
        return await render(
            request, "booking/cancel_confirm.jinja", {"view": view, "reason": pending["reason"]}
        )
    try:
        await services.cancel(
            request.user,
            shown,
            pending["reason"],
            request_id=pending["request_id"],
            correlation_id=practice_search.new_correlation_id(),
        )
    except gpconnect.ProviderError as error:
        return await render(
            request,
            "booking/cancel_failed.jinja",
            {"view": appointment_view(shown, error), "message": presenters.cancel_message(error)},
        )
    await request.session.apop(key, None)
    return redirect(view["urls"]["appointment"])


# The same pages under the booking's id and under the practice's (ODS code, appointment id).


@patient_required
@require_GET
async def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    return await _appointment_page(request, pk=pk, ods=None, appointment_id=None)


@patient_required
@require_GET
async def practice_appointment(request: HttpRequest, ods: str, appointment_id: str) -> HttpResponse:
    return await _appointment_page(request, pk=None, ods=ods, appointment_id=appointment_id)


@patient_required
@require_GET
async def calendar_file(request: HttpRequest, pk: int) -> HttpResponse:
    return await _calendar_file(request, pk=pk, ods=None, appointment_id=None)


@patient_required
@require_GET
async def practice_calendar_file(
    request: HttpRequest, ods: str, appointment_id: str
) -> HttpResponse:
    return await _calendar_file(request, pk=None, ods=ods, appointment_id=appointment_id)


@patient_required
@require_http_methods(["GET", "POST"])
async def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return await _cancel(request, pk=pk, ods=None, appointment_id=None)


@patient_required
@require_http_methods(["GET", "POST"])
async def practice_cancel(request: HttpRequest, ods: str, appointment_id: str) -> HttpResponse:
    return await _cancel(request, pk=None, ods=ods, appointment_id=appointment_id)


@patient_required
@require_http_methods(["GET", "POST"])
async def cancel_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return await _cancel_confirm(request, pk=pk, ods=None, appointment_id=None)


@patient_required
@require_http_methods(["GET", "POST"])
async def practice_cancel_confirm(
    request: HttpRequest, ods: str, appointment_id: str
) -> HttpResponse:
    return await _cancel_confirm(request, pk=None, ods=ods, appointment_id=appointment_id)
