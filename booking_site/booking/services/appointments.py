"""The patient's appointments as their practices hold them, whoever booked them; the rows the
site keeps of its own bookings; and cancelling, with what the practices have refused before."""

import asyncio
import datetime
import logging
import re
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.booking import messages
from booking_site.booking.models import Booking, CancellationRefusal
from booking_site.practices.directory import endpoint_for, is_ods_code_shaped
from booking_site.practices.models import Practice

logger = logging.getLogger(__name__)

# How far ahead "Your appointments" asks the practices (the retrieve call has no limit).
LOOK_AHEAD_DAYS = 366
# A practice that turned online cancellation off (403) is believed for this long, then asked
# again: practices can turn it back on, and a cancellation that works forgets it at once.
DISABLED_BELIEVED_FOR = datetime.timedelta(days=7)
# What a 461 taught about a practice's cut-off is believed for this long.
CUTOFF_BELIEVED_FOR = datetime.timedelta(days=90)

# A FHIR id (what a practice's appointment id is), checked before it reaches a query.
_APPOINTMENT_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Statuses a practice may give that mean the appointment will not happen.
_CALLED_OFF = {"cancelled"}
# A practice's record made by mistake: not the patient's appointment at all.
_NOT_SHOWN = {"entered-in-error"}

_REFUSALS = {
    gpconnect.CancellationDisabled: CancellationRefusal.Kind.DISABLED,
    gpconnect.TooLateToCancel: CancellationRefusal.Kind.TOO_LATE,
    gpconnect.CancellationRefused: CancellationRefusal.Kind.REFUSED,
}
# Site bookings the practice's record may update; the others are settled only by the task
# (docs/adr/0011), and a booking refused is never made booked.
_SETTLED = (Booking.Status.BOOKED, Booking.Status.CANCELLED)
_REFUSAL_ERRORS = {kind: error for error, kind in _REFUSALS.items()}


# How many past appointments each practice is asked for (past-appt-limit, CONFORMANCE §5.1).
PAST_APPOINTMENTS = 20


def patient_of(user: User) -> gpconnect.Patient:
    """The patient as GP Connect calls see them: NHS login's NHS number and ID token. An account
    without them (proved below P9 since, or made by the old sign-up) acts for nobody."""
    if not user.nhs_number:
        raise gpconnect.TokenRefused(diagnostics="The account has no NHS number from NHS login")
    return gpconnect.Patient(user.nhs_number, user.nhs_login_id_token)


@dataclass(frozen=True)
class Shown:
    """One appointment as the patient's pages show it.

    ``booking`` is the site's row when the site booked it; ``appointment`` the practice's
    record when it was read just now. A site booking's row is brought up to date from the
    practice's record (``apply_reply``), so it is what is shown; an appointment booked
    elsewhere has only the practice's record. ``problem`` says why the practice could not be
    asked, when it could not.
    """

    practice: Practice
    booking: Booking | None
    appointment: gpconnect.BookedAppointment | None
    problem: str | None = None

    @property
    def status(self) -> str:
        if self.booking is not None:
            return self.booking.status
        return self.appointment.status

    @property
    def start(self) -> datetime.datetime:
        return self.booking.start if self.booking is not None else self.appointment.start

    @property
    def end(self) -> datetime.datetime:
        return self.booking.end if self.booking is not None else self.appointment.end

    @property
    def appointment_id(self) -> str:
        return self.booking.appointment_id if self.booking is not None else self.appointment.id

    @property
    def details(self) -> dict:
        """The display fields (``appointment_details``), as on a booking row."""
        if self.booking is not None:
            return self.booking.details
        return appointment_details(self.appointment, {})

    @property
    def cancellation_reason(self) -> str:
        if self.booking is not None:
            return self.booking.cancellation_reason
        return self.appointment.cancellation_reason or ""

    @property
    def is_called_off(self) -> bool:
        """Cancelled, or (a site booking) turned out not to be booked."""
        return self.status in _CALLED_OFF or self.status == Booking.Status.FAILED

    @property
    def is_upcoming(self) -> bool:
        return not self.is_called_off and self.end >= timezone.now()

    @property
    def can_be_cancelled(self) -> bool:
        """Booked and not started: what a practice may agree to cancel."""
        return self.status == Booking.Status.BOOKED and self.start > timezone.now()


@dataclass(frozen=True)
class YourAppointments:
    upcoming: list[Shown]
    past: list[Shown]
    called_off: list[Shown]
    # (practice, plain-English problem) for each practice that could not be asked.
    unchecked: list[tuple[Practice, str]]


# --- The practice's record on the site's rows -------------------------------------------------


def appointment_details(appointment: gpconnect.BookedAppointment, previous: dict) -> dict:
    """The display fields of the practice's record of ``appointment``, over ``previous`` (what
    the row held: the phone number given, the reason asked, what was chosen).

    The practice's record is the record: a field it leaves out is shown as not known, never
    filled in from the search. A surgery or clinician it names only by reference keeps what
    the practice said of that same one before (its slot search or its booking reply).
    """
    details = dict(previous)
    details.update(
        slot_type=appointment.slot_type or "",
        schedule_type=appointment.schedule_type or "",
        delivery_channel=appointment.delivery_channel or "",
        description=appointment.description or "",
        comment=appointment.comment or "",
    )
    location = appointment.location
    if location is None:
        details.update(location_id="", location_name="", location_address="", location_phone="")
    elif location.name or location.id != previous.get("location_id"):
        details.update(
            location_id=location.id,
            location_name=location.name or "",
            location_address=", ".join(location.address),
            location_phone=location.phone or "",
        )
    clinician = appointment.practitioner
    if clinician is None:
        details.update(
            practitioner_id="", practitioner="", practitioner_gender="", practitioner_role=""
        )
    elif clinician.name or clinician.id != previous.get("practitioner_id"):
        details.update(
            practitioner_id=clinician.id,
            practitioner=clinician.name or "",
            practitioner_gender=clinician.gender or "",
            practitioner_role=clinician.role.display if clinician.role else "",
        )
    return details


def _chosen(booking: Booking) -> dict:
    """What the patient chose (the practice's slot search), before any reply replaced it."""
    details = booking.details
    request = booking.booking_request or {}
    location = request.get("location") or {}
    clinician = request.get("practitioner") or {}
    return {
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "location_id": str(location.get("id") or details.get("location_id") or ""),
        "location_name": details.get("location_name", ""),
        "practitioner_id": str(clinician.get("id") or details.get("practitioner_id") or ""),
        "practitioner": details.get("practitioner", ""),
        "schedule_type": details.get("schedule_type", ""),
    }


def apply_reply(booking: Booking, appointment: gpconnect.BookedAppointment) -> None:
    """Make ``booking`` say what the practice's record of it says, keeping what was chosen
    (``details["chosen"]``) the first time, so that a difference can be told."""
    previous = dict(booking.details)
    if "chosen" not in previous:
        chosen = _chosen(booking)
        previous["chosen"] = chosen
        previous.setdefault("location_id", chosen["location_id"])
        previous.setdefault("practitioner_id", chosen["practitioner_id"])
    booking.appointment_id = appointment.id
    booking.version_id = appointment.version_id or ""
    booking.status = Booking.Status.CANCELLED if appointment.is_cancelled else Booking.Status.BOOKED
    booking.start, booking.end = appointment.start, appointment.end
    booking.slot_ids = list(appointment.slot_ids) or booking.slot_ids
    booking.details = appointment_details(appointment, previous)
    if appointment.cancellation_reason:
        booking.cancellation_reason = appointment.cancellation_reason


# --- Finding them -----------------------------------------------------------------------------


def bookings_for(user: User):
    """This patient's bookings that a practice has (or may have) accepted, and those it turned
    out not to have booked after the patient was told they were being confirmed."""
    refused_at_once = Q(status=Booking.Status.FAILED) & ~Q(
        outcome_source=Booking.OutcomeSource.RESENT
    )
    return Booking.objects.filter(patient=user).exclude(refused_at_once).select_related("practice")


async def booking_for(user: User, pk: int) -> Booking:
    """One of this patient's bookings; 404 for anyone else's, so existence never leaks."""
    try:
        return await bookings_for(user).aget(pk=pk)
    except (Booking.DoesNotExist, ValueError):
        raise Http404("No such booking") from None


async def practices_of(user: User, bookings: list[Booking] | None = None) -> list[Practice]:
    """The practices the patient is registered at or has booked at through the site."""
    if bookings is None:
        bookings = [b async for b in bookings_for(user)]
    ids = {b.practice_id for b in bookings}
    if user.registered_practice_id:
        ids.add(user.registered_practice_id)
    return [p async for p in Practice.objects.filter(pk__in=ids).order_by("name")]


async def your_appointments(user: User, *, correlation_id: str) -> YourAppointments:
    """Every appointment the patient's practices hold for them from today on, and their latest
    past ones (the retrieve call with past-appt-limit, all practices at once), with the site's
    own rows: a booking still being confirmed as its row says (docs/adr/0011)."""
    bookings = [b async for b in bookings_for(user)]
    practices = await practices_of(user, bookings)
    patient = patient_of(user)
    today = timezone.localdate()
    ahead = gpconnect.DateRange(today, today + datetime.timedelta(days=LOOK_AHEAD_DAYS))
    outcomes = await asyncio.gather(
        *(
            gpconnect.patient_appointments(
                endpoint_for(p),
                patient,
                ahead,
                correlation_id=correlation_id,
                past_limit=PAST_APPOINTMENTS,
            )
            for p in practices
        ),
        return_exceptions=True,
    )
    by_id = {(b.practice_id, b.appointment_id): b for b in bookings if b.appointment_id}
    shown: list[Shown] = []
    unchecked: list[tuple[Practice, str]] = []
    listed: set[int] = set()
    for practice, outcome in zip(practices, outcomes, strict=True):
        if isinstance(outcome, gpconnect.ProviderError):
            unchecked.append((practice, outcome.message))
            continue
        if isinstance(outcome, BaseException):
            raise outcome
        open_slots = {
            slot_id
            for b in bookings
            if b.practice_id == practice.pk and b.status in Booking.OPEN
            for slot_id in b.slot_ids
        }
        for appointment in outcome:
            booking = by_id.get((practice.pk, appointment.id))
            if booking is None and open_slots.intersection(appointment.slot_ids):
                continue  # the site's row says it is being confirmed: that row is shown
            if appointment.status in _NOT_SHOWN:
                continue
            if booking is not None and booking.status in _SETTLED:
                apply_reply(booking, appointment)
                await booking.asave()
                listed.add(booking.pk)
                shown.append(Shown(practice, booking, appointment))
            elif booking is None:
                shown.append(Shown(practice, None, appointment))
    problems = {practice.pk: message for practice, message in unchecked}
    shown += [
        Shown(b.practice, b, None, problems.get(b.practice_id))
        for b in bookings
        if b.pk not in listed
    ]
    upcoming = sorted((s for s in shown if s.is_upcoming), key=lambda s: s.start)
    past = sorted(
        (s for s in shown if not s.is_upcoming and not s.is_called_off),
        key=lambda s: s.start,
        reverse=True,
    )
    called_off = sorted((s for s in shown if s.is_called_off), key=lambda s: s.start, reverse=True)
    return YourAppointments(upcoming, past, called_off, unchecked)


async def booking_appointment(user: User, pk: int, *, correlation_id: str) -> Shown:
    """One of the patient's site bookings, brought up to date from its practice."""
    booking = await booking_for(user, pk)
    if not booking.appointment_id or booking.status not in _SETTLED:
        return Shown(booking.practice, booking, None)
    try:
        appointment = await gpconnect.read_appointment(
            endpoint_for(booking.practice),
            patient_of(user),
            booking.appointment_id,
            correlation_id=correlation_id,
        )
    except gpconnect.ProviderError as error:
        return Shown(booking.practice, booking, None, error.message)
    apply_reply(booking, appointment)
    await booking.asave()
    return Shown(booking.practice, booking, appointment)


class Unreachable(Exception):
    """The practice could not be asked for an appointment only it knows of."""

    def __init__(self, practice: Practice, message: str) -> None:
        super().__init__(message)
        self.practice = practice
        self.message = message


async def practice_appointment(
    user: User, ods: str, appointment_id: str, *, correlation_id: str
) -> Shown | Booking:
    """An appointment the patient's practice holds, read from the practice: it is theirs only
    if the practice says so (404 otherwise, and for practices that are not theirs). The site's
    own booking instead, when the site booked it (its page is the booking's)."""
    if not (is_ods_code_shaped(ods) and _APPOINTMENT_ID.fullmatch(appointment_id)):
        raise Http404("Not an appointment's address")
    practice = next((p for p in await practices_of(user) if p.ods_code == ods), None)
    if practice is None:
        raise Http404("Not one of the patient's practices")
    booking = await (
        bookings_for(user).filter(practice=practice, appointment_id=appointment_id).afirst()
    )
    if booking is not None:
        return booking
    try:
        appointment = await gpconnect.read_appointment(
            endpoint_for(practice), patient_of(user), appointment_id, correlation_id=correlation_id
        )
    except (gpconnect.NotFound, gpconnect.Forbidden):
        # A practice refuses to show another patient's appointment (403): to this patient it
        # does not exist.
        raise Http404("No such appointment at the practice") from None
    except gpconnect.ProviderError as error:
        raise Unreachable(practice, error.message) from None
    if appointment.status in _NOT_SHOWN:
        raise Http404("Not an appointment")
    return Shown(practice, None, appointment)


# --- Cancelling -------------------------------------------------------------------------------


def _minutes_before(start: datetime.datetime) -> int:
    return int((start - timezone.now()).total_seconds() // 60)


async def known_refusal(shown: Shown) -> gpconnect.ProviderError | None:
    """Why the practice will refuse to cancel ``shown`` online, if that is known already: it
    refused this appointment before; it turned online cancellation off lately (403); or a 461
    showed its cut-off is at least as far ahead as this appointment's start."""
    refusals = CancellationRefusal.objects.filter(practice=shown.practice)
    own = (
        await refusals.filter(appointment_id=shown.appointment_id).order_by("-refused_at").afirst()
    )
    if own is not None and own.kind != CancellationRefusal.Kind.DISABLED:
        return _REFUSAL_ERRORS[own.kind]()
    now = timezone.now()
    if await refusals.filter(
        kind=CancellationRefusal.Kind.DISABLED, refused_at__gte=now - DISABLED_BELIEVED_FOR
    ).aexists():
        return gpconnect.CancellationDisabled()
    cutoff = await refusals.filter(
        kind=CancellationRefusal.Kind.TOO_LATE, refused_at__gte=now - CUTOFF_BELIEVED_FOR
    ).aaggregate(at_least=Max("minutes_before_start"))
    if cutoff["at_least"] is not None and _minutes_before(shown.start) <= cutoff["at_least"]:
        return gpconnect.TooLateToCancel()
    return None


async def _remember_refusal(shown: Shown, error: gpconnect.ProviderError) -> None:
    kind = next((k for e, k in _REFUSALS.items() if isinstance(error, e)), None)
    if kind is not None:
        await CancellationRefusal.objects.acreate(
            practice=shown.practice,
            appointment_id=shown.appointment_id,
            kind=kind,
            minutes_before_start=_minutes_before(shown.start),
        )


async def _forget_contradicted(shown: Shown) -> None:
    """A cancellation the practice accepted: it allows online cancellation, and its cut-off is
    shorter than this appointment's distance."""
    await (
        CancellationRefusal.objects.filter(practice=shown.practice)
        .filter(
            Q(kind=CancellationRefusal.Kind.DISABLED)
            | Q(
                kind=CancellationRefusal.Kind.TOO_LATE,
                minutes_before_start__gte=_minutes_before(shown.start),
            )
        )
        .adelete()
    )


async def cancel(
    user: User, shown: Shown, reason: str, *, request_id: str, correlation_id: str
) -> None:
    """Cancel at the practice with the appointment's current version, and bring the site's row
    (if any) up to date. Raises ProviderError subclasses (CancellationDisabled, TooLateToCancel,
    CancellationRefused, ...) on refusal; a refusal is remembered (``known_refusal``)."""
    practice = endpoint_for(shown.practice)
    patient = patient_of(user)
    current = await gpconnect.read_appointment(
        practice, patient, shown.appointment_id, correlation_id=correlation_id
    )
    if not current.is_cancelled:
        try:
            current = await gpconnect.cancel(
                practice,
                patient,
                current,
                reason,
                request_id=request_id,
                correlation_id=correlation_id,
            )
        except gpconnect.ProviderError as error:
            await _remember_refusal(shown, error)
            raise
        await _forget_contradicted(shown)
    if shown.booking is not None:
        apply_reply(shown.booking, current)
        shown.booking.cancellation_reason = shown.booking.cancellation_reason or reason
    await sync_to_async(_record_cancelled)(user, shown)


def _record_cancelled(user: User, shown: Shown) -> None:
    """The practice's cancelled record on the site's row, and the message saying so (once, even
    after a second press), in one transaction. The practice has cancelled it: a message that
    cannot be stored is logged, never an error page."""
    with transaction.atomic():
        if shown.booking is not None:
            shown.booking.save()
        try:
            with transaction.atomic():
                messages.cancelled(user, shown)
        except DatabaseError:
            logger.exception("cancellation message for %s not queued", shown.appointment_id)
