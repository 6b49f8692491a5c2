"""Staff availability previews: who may look, the search, grouping by day and time of day, slot
label checks, and the audit record of every search.

Views call these; these call ``booking_site.gpconnect`` (the only code that talks to practices).
Staff search with the service credential (no patient): it may search slots and nothing else.
"""

import datetime
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction

from booking_site import gpconnect
from booking_site.accounts.models import User
from booking_site.availability.models import (
    PREVIEW_PERMISSION_CODENAME,
    PracticeOutcome,
    StaffSearch,
)
from booking_site.common import practice_search
from booking_site.common.formatting import AFTERNOON, EVENING, MORNING, time_of_day, uk_day
from booking_site.common.labels import is_shouting, jargon_in
from booking_site.gpconnect.values import instant
from booking_site.practices.models import Federation, Practice

PRACTICE_STAFF_GROUP = "Practice staff"
PREVIEW_PERMISSION = f"availability.{PREVIEW_PERMISSION_CODENAME}"


# --- Who may preview ---------------------------------------------------------------------------


def practice_staff_group() -> Group:
    """The "Practice staff" group with the preview permission (the data migration makes it;
    this makes it again where it is missing, e.g. after a test flushed the database)."""
    group, _ = Group.objects.get_or_create(name=PRACTICE_STAFF_GROUP)
    permission, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(StaffSearch),
        codename=PREVIEW_PERMISSION_CODENAME,
        defaults={"name": "Can preview availability at the practices in their federations"},
    )
    group.permissions.add(permission)
    return group


def staff_federations(user: User) -> list[Federation]:
    """The federations of the practices this member of staff works for."""
    return list(
        Federation.objects.filter(practices__staff_members=user).distinct().order_by("name")
    )


def require_staff(user: User) -> list[Federation]:
    """The user's federations, if they are practice staff; PermissionDenied otherwise.

    Practice staff are signed-in people who are not patients, hold the preview permission and
    are linked to at least one practice in a federation. Superusers are held to the same rule:
    the preview is about the practices someone works for.
    """
    if not user.is_authenticated or user.is_patient:
        raise PermissionDenied("Practice staff only")
    if not user.has_perm(PREVIEW_PERMISSION):
        raise PermissionDenied("This account may not preview availability")
    federations = staff_federations(user)
    if not federations:
        raise PermissionDenied("This account is not linked to a practice in a federation")
    return federations


def visible_practices(user: User) -> list[Practice]:
    """Every practice in the user's federations, by name."""
    return list(
        Practice.objects.filter(federation__in=require_staff(user))
        .select_related("federation")
        .order_by("name", "ods_code")
    )


def require_practices(user: User, ods_codes: Iterable[str]) -> list[Practice]:
    """The practices with these ODS codes, in the order given, if every one is in the user's
    federations. Any other code (another federation's practice, or none at all) is refused
    with PermissionDenied, so the answer never tells which practices exist elsewhere."""
    visible = {practice.ods_code: practice for practice in visible_practices(user)}
    codes = list(dict.fromkeys(ods_codes))
    refused = [code for code in codes if code not in visible]
    if refused:
        raise PermissionDenied("Not a practice in your federations")
    return [visible[code] for code in codes]


def require_federations(user: User, federation_ids: Iterable[int]) -> None:
    """PermissionDenied unless every federation asked about is one of the user's."""
    mine = {federation.pk for federation in require_staff(user)}
    if any(federation_id not in mine for federation_id in federation_ids):
        raise PermissionDenied("Not one of your federations")


# --- Slot label checks ------------------------------------------------------------------------
# The wording rules (jargon, capitals) are booking_site.common.labels', which patients' pages use.


@dataclass(frozen=True)
class LabelProblem:
    """Why a slot's labels might confuse a patient, in words for practice staff."""

    code: str
    message: str


def _name_problems(name: str | None) -> list[LabelProblem]:
    if not name or not name.strip():
        return [LabelProblem("no-type", "No slot type, so patients are not told what it is for")]
    problems = []
    jargon = jargon_in(name)
    if jargon:
        problems.append(LabelProblem("jargon", f"Uses internal wording (“{jargon}”)"))
    if is_shouting(name):
        problems.append(LabelProblem("capitals", "Written in capital letters"))
    return problems


def label_problems(slot: gpconnect.FreeSlot) -> tuple[LabelProblem, ...]:
    """What a patient would not understand about this slot, or could not choose well by."""
    problems = _name_problems(slot.slot_type)
    if not slot.delivery_channel:
        problems.append(
            LabelProblem(
                "no-channel",
                "No delivery channel, so patients cannot tell if it is in person, "
                "by phone or by video",
            )
        )
    clinician = slot.practitioner
    if clinician is not None:
        if slot.role is None and clinician.role is None:
            problems.append(LabelProblem("no-role", "The clinician has no job role"))
        if not clinician.gender:
            problems.append(LabelProblem("no-gender", "The clinician's gender is not given"))
    elif any(problem.code in {"no-type", "jargon"} for problem in problems):
        # Without a named clinician, the slot type is all a patient has to go on.
        problems.append(
            LabelProblem(
                "unclear-without-clinician",
                "No clinician is named and the slot type does not say what the appointment is",
            )
        )
    schedule_type = slot.schedule_type
    if schedule_type and schedule_type.strip():
        jargon = jargon_in(schedule_type)
        if jargon:
            problems.append(
                LabelProblem(
                    "schedule-jargon",
                    f"Schedule type “{schedule_type}” uses internal wording (“{jargon}”)",
                )
            )
        if is_shouting(schedule_type):
            problems.append(
                LabelProblem(
                    "schedule-capitals", f"Schedule type “{schedule_type}” is in capital letters"
                )
            )
    return tuple(problems)


@dataclass(frozen=True)
class SlotTypeFindings:
    """One slot type with label problems: how many of its free slots, and why (with how many
    slots each reason applies to)."""

    slot_type: str
    flagged_slots: int
    reasons: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class LabelReport:
    """A practice's label checks: the count of free slots with a problem and the slot types
    behind them, worst first."""

    flagged_slots: int = 0
    slot_types: tuple[SlotTypeFindings, ...] = ()
    by_slot: dict[tuple[str, ...], tuple[LabelProblem, ...]] = field(default_factory=dict)

    def problems(self, slot: gpconnect.FreeSlot) -> tuple[LabelProblem, ...]:
        return self.by_slot.get(slot.slot_ids, ())


def check_labels(slots: Sequence[gpconnect.FreeSlot]) -> LabelReport:
    """Check every slot's labels and sum them up by slot type."""
    by_slot = {}
    flagged: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for slot in slots:
        problems = label_problems(slot)
        if not problems:
            continue
        by_slot[slot.slot_ids] = problems
        name = (slot.slot_type or "").strip()
        flagged[name] += 1
        for problem in problems:
            reasons[name][problem.message] += 1
    slot_types = tuple(
        SlotTypeFindings(name, count, tuple(reasons[name].most_common()))
        for name, count in sorted(flagged.items(), key=lambda item: (-item[1], item[0]))
    )
    return LabelReport(sum(flagged.values()), slot_types, by_slot)


# --- Grouping ----------------------------------------------------------------------------------

PERIODS = (MORNING, AFTERNOON, EVENING)


@dataclass(frozen=True)
class DayOfSlots:
    day: datetime.date
    periods: dict[str, tuple[gpconnect.FreeSlot, ...]]


def by_day_and_period(
    slots: Iterable[gpconnect.FreeSlot], dates: gpconnect.DateRange
) -> list[DayOfSlots]:
    """Every day of ``dates`` (empty days too: a gap is worth seeing), each with its slots in
    the morning, afternoon and evening, earliest first."""
    cells: dict[tuple[datetime.date, str], list[gpconnect.FreeSlot]] = defaultdict(list)
    for slot in sorted(slots, key=lambda s: instant(s.start)):
        cells[(uk_day(slot.start), time_of_day(slot.start))].append(slot)
    return [
        DayOfSlots(day, {period: tuple(cells.get((day, period), ())) for period in PERIODS})
        for day in (dates.start + datetime.timedelta(days=n) for n in range(dates.days))
    ]


# --- Searching and the audit trail ---------------------------------------------------------------


@dataclass(frozen=True)
class PracticePreview:
    """One practice's answer to a staff search, with its label checks."""

    practice: Practice
    result: gpconnect.PracticeResult
    labels: LabelReport

    @property
    def slots(self) -> tuple[gpconnect.FreeSlot, ...]:
        return self.result.slots


def start_search(
    user: User, practices: Sequence[Practice], dates: gpconnect.DateRange, *, kind: str
) -> StaffSearch:
    """Record that ``user`` is searching ``practices`` over ``dates`` (outcomes follow)."""
    require_practices(user, [practice.ods_code for practice in practices])
    return StaffSearch.objects.create(
        user=user,
        username=user.get_username(),
        kind=kind,
        practices=[practice.ods_code for practice in practices],
        start=dates.start,
        end=dates.end,
        correlation_id=uuid.uuid4().hex,
    )


def search_for(user: User, reference: str | None) -> StaffSearch | None:
    """The user's own recorded search with this reference, or None (never someone else's)."""
    try:
        reference = str(uuid.UUID(str(reference)))
    except ValueError:
        return None
    return StaffSearch.objects.filter(user=user, reference=reference).first()


async def preview(
    user: User,
    practices: Sequence[Practice],
    dates: gpconnect.DateRange,
    *,
    kind: str,
    search: StaffSearch | None = None,
) -> tuple[StaffSearch, list[PracticePreview]]:
    """Search ``practices`` at once with the service credential, check each one's labels and
    record the outcomes, under ``search`` if given (a progressive page's) or a new one.

    Every practice must be in the user's federations (PermissionDenied otherwise), whatever the
    caller checked before.
    """
    await sync_to_async(require_practices)(user, [practice.ods_code for practice in practices])
    if search is None:
        search = await sync_to_async(start_search)(user, practices, dates, kind=kind)
    elif search.user_id != user.pk:
        raise PermissionDenied("Not your search")
    # Staff are not patients: the search uses the service credential, good for slot search only.
    results = await practice_search.search(
        user,
        practices,
        dates,
        correlation_id=search.correlation_id,
        retry=frozenset(practice.ods_code for practice in practices),
    )
    previews = [
        PracticePreview(practice, result, check_labels(result.slots))
        for practice, result in zip(practices, results, strict=True)
    ]
    await sync_to_async(_record)(search, previews)
    return search, previews


@transaction.atomic
def _record(search: StaffSearch, previews: Sequence[PracticePreview]) -> None:
    PracticeOutcome.objects.bulk_create(
        PracticeOutcome(
            search=search,
            practice_ods=item.practice.ods_code,
            practice_name=item.practice.name,
            status=str(item.result.status),
            slot_count=len(item.result.slots),
            flagged_slots=item.labels.flagged_slots,
            elapsed_ms=item.result.elapsed_ms,
            failure_reason=item.result.reason or "",
        )
        for item in previews
    )
