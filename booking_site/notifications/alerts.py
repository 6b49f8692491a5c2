"""Earlier-appointment alerts: setting one up, ending one, and the cycle that searches for every
watcher at once.

One cycle asks each practice that active alerts watch about the days they need, once, however
many patients watch it: practices needing the same days are searched together, through the same
slot search (and slot cache) as patients' own searches, with the service's credential (a search
is not on any one patient's behalf). A practice is asked at most once per
ALERT_SEARCH_BUDGET_SECONDS, shared by every instance (the cache holds the budget). Each watcher
then hears of the earliest free time that suits them, at most once a UK day, and never of the
same time twice.
"""

import asyncio
import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from booking_site import gpconnect
from booking_site.common.formatting import time_of_day, uk_day, uk_today
from booking_site.gpconnect.values import MAX_WINDOW_DAYS
from booking_site.notifications import messages
from booking_site.notifications.models import Alert, Notification
from booking_site.practices.directory import endpoint_for
from booking_site.practices.models import Practice

logger = logging.getLogger(__name__)

STOP_SALT = "notifications.stop-alert"
# A free time this soon is not worth a message: it will have started before most people read it.
MIN_NOTICE = datetime.timedelta(hours=2)


def latest_until(today: datetime.date | None = None) -> datetime.date:
    return (today or uk_today()) + datetime.timedelta(weeks=Alert.MAX_WEEKS)


def stop_url(alert: Alert) -> str:
    token = signing.dumps(str(alert.pk), salt=STOP_SALT)
    return messages.site_url(reverse("notifications:stop_alert", args=[token]))


def search_url(alert: Alert, day: datetime.date) -> str:
    path = reverse("booking:alert_search", args=[alert.pk])
    return messages.site_url(f"{path}?day={day.isoformat()}")


async def end(alert: Alert, status: str) -> None:
    await Alert.objects.filter(pk=alert.pk, status=Alert.Status.ACTIVE).aupdate(
        status=status, ended_at=timezone.now()
    )


class TooManyAlerts(Exception):
    pass


# Alerts one patient may have at once: enough for any real need, few enough that nobody can
# make the service send thousands of messages.
MAX_ACTIVE_PER_PATIENT = 5


def create(
    patient,
    practices: list[Practice],
    *,
    channels: list[str],
    times_of_day: list[str],
    earlier_than: datetime.datetime | None,
    until: datetime.date,
) -> Alert:
    """The patient's alert for this: one already active asking the same (a second press, a
    reload) rather than a second one. Raises TooManyAlerts past MAX_ACTIVE_PER_PATIENT."""
    wanted = {p.pk for p in practices}
    with transaction.atomic():
        active = list(
            Alert.objects.select_for_update()
            .filter(patient=patient, status=Alert.Status.ACTIVE)
            .prefetch_related("practices")
        )
        for alert in active:
            if (
                {p.pk for p in alert.practices.all()} == wanted
                and alert.channels == sorted(channels)
                and alert.times_of_day == sorted(times_of_day)
                and alert.earlier_than == earlier_than
                and alert.until == until
            ):
                return alert
        if len(active) >= MAX_ACTIVE_PER_PATIENT:
            raise TooManyAlerts(
                f"You already have {MAX_ACTIVE_PER_PATIENT} alerts. Stop one in Your "
                "appointments before you set up another"
            )
        alert = Alert.objects.create(
            patient=patient,
            channels=sorted(channels),
            times_of_day=sorted(times_of_day),
            earlier_than=earlier_than,
            until=until,
        )
        alert.practices.set(practices)
    return alert


# --- The cycle -----------------------------------------------------------------------------------


@dataclass
class CycleReport:
    practices_searched: int = 0
    searches: int = 0  # practice and window pairs asked
    practices_failed: int = 0
    alerts_active: int = 0
    alerts_matched: int = 0
    messages_queued: int = 0
    alerts_expired: int = 0
    over_budget: int = 0

    def __str__(self) -> str:
        return (
            f"{self.alerts_active} alerts, {self.practices_searched} practices searched "
            f"({self.searches} practice windows, {self.practices_failed} failed, "
            f"{self.over_budget} left for their budget), {self.alerts_matched} matched, "
            f"{self.messages_queued} messages queued, {self.alerts_expired} expired"
        )


def search_end(today: datetime.date) -> datetime.date:
    """The last day a cycle searches: the end of the last whole 14-day window (CONFORMANCE D3)
    within 8 weeks. An alert's very last day (8 weeks ahead) is searched from the next day on,
    rather than costing every practice a fifth request for one day."""
    weeks = latest_until(today) - today
    return today + datetime.timedelta(days=weeks.days // MAX_WINDOW_DAYS * MAX_WINDOW_DAYS - 1)


def _wanted_end(alert: Alert, today: datetime.date) -> datetime.date:
    end = min(alert.until, search_end(today))
    if alert.earlier_than is not None:
        end = min(end, uk_day(alert.earlier_than))
    return end


def _window_end(today: datetime.date, wanted: datetime.date) -> datetime.date:
    """The end of the 14-day window from today that holds ``wanted``: practices whose watchers
    need different days of the same window share one search."""
    windows = (wanted - today).days // MAX_WINDOW_DAYS + 1
    return min(today + datetime.timedelta(days=windows * MAX_WINDOW_DAYS - 1), search_end(today))


def suits(alert: Alert, slot: gpconnect.FreeSlot, now: datetime.datetime) -> bool:
    if slot.start < now + MIN_NOTICE:
        return False
    if alert.channels and slot.delivery_channel not in alert.channels:
        return False
    if alert.times_of_day and time_of_day(slot.start) not in alert.times_of_day:
        return False
    return alert.wants(slot.start, uk_day(slot.start))


def slot_key(slot: gpconnect.FreeSlot) -> str:
    return f"{slot.practice_ods}|{slot.start.isoformat()}"


def _message_key(patient_id: int, today: datetime.date) -> str:
    # One a UK day for each patient, however many alerts they have.
    return f"earlier_appointment:{patient_id}:{today.isoformat()}"


async def run_cycle(*, correlation_id: str) -> CycleReport:
    report = CycleReport()
    today = uk_today()
    now = timezone.now()
    report.alerts_expired = await (
        Alert.objects.filter(status=Alert.Status.ACTIVE)
        .filter(Q(until__lt=today) | Q(earlier_than__lte=now + MIN_NOTICE))
        .aupdate(status=Alert.Status.EXPIRED, ended_at=now)
    )
    alerts = [
        alert
        async for alert in Alert.objects.filter(status=Alert.Status.ACTIVE)
        .select_related("patient")
        .prefetch_related("practices")
    ]
    report.alerts_active = len(alerts)
    practices: dict[str, Practice] = {}
    ends: dict[str, datetime.date] = {}
    for alert in alerts:
        wanted = _wanted_end(alert, today)
        if wanted < today:
            continue
        for practice in alert.practices.all():
            practices[practice.ods_code] = practice
            ends[practice.ods_code] = max(
                ends.get(practice.ods_code, today), _window_end(today, wanted)
            )
    groups: dict[datetime.date, list[Practice]] = defaultdict(list)
    for ods, practice in practices.items():
        if await cache.aadd(_budget_key(ods), 1, timeout=settings.ALERT_SEARCH_BUDGET_SECONDS):
            groups[ends[ods]].append(practice)
        else:
            report.over_budget += 1
    searches = [
        gpconnect.search_free_slots(
            [endpoint_for(p) for p in group],
            gpconnect.DateRange(today, end),
            None,
            correlation_id=correlation_id,
        )
        for end, group in groups.items()
    ]
    found: dict[str, tuple[gpconnect.FreeSlot, ...]] = {}
    for end, results in zip(groups, await asyncio.gather(*searches), strict=True):
        report.searches += len(gpconnect.DateRange(today, end).windows()) * len(groups[end])
        report.practices_searched += len(groups[end])
        for result in results:
            if result.status == gpconnect.ResultStatus.FAILED:
                report.practices_failed += 1
            found[result.practice.ods_code] = tuple(sorted(result.slots, key=_earliest))
    told = await sync_to_async(_told_before)({alert.patient_id for alert in alerts})
    best: dict[int, tuple[Alert, gpconnect.FreeSlot]] = {}
    for alert in alerts:
        slot = _earliest_for(alert, found, told, now)
        if slot is None:
            continue
        report.alerts_matched += 1
        held = best.get(alert.patient_id)
        if held is None or _earliest(slot) < _earliest(held[1]):
            best[alert.patient_id] = (alert, slot)
    report.messages_queued = await sync_to_async(_notify)(list(best.values()), practices, today)
    return report


def _earliest(slot: gpconnect.FreeSlot) -> tuple:
    return (slot.start, slot.practice_ods)


def _earliest_for(alert: Alert, found, told: set, now) -> gpconnect.FreeSlot | None:
    """The earliest free time at the alert's practices that suits it and that its patient has
    not been told of. Each practice's slots are earliest first: stop at the first that suits."""
    best = None
    for practice in alert.practices.all():
        for slot in found.get(practice.ods_code, ()):
            if best is not None and _earliest(slot) >= _earliest(best):
                break
            if not alert.wants(slot.start, uk_day(slot.start)):
                break
            if suits(alert, slot, now) and (alert.patient_id, slot_key(slot)) not in told:
                best = slot
                break
    return best


def _told_before(patient_ids: set[int]) -> set[tuple[int, str]]:
    """(patient, free time) of every earlier-appointment message queued for these patients."""
    return set(
        Notification.objects.filter(
            kind=Notification.Kind.EARLIER_APPOINTMENT, patient_id__in=patient_ids
        ).values_list("patient_id", "slot_key")
    )


def _budget_key(ods: str) -> str:
    return f"alerts:searched:{ods}"


def _notify(
    chosen: list[tuple[Alert, gpconnect.FreeSlot]], practices: dict[str, Practice], today
) -> int:
    """One message for each patient with something new to tell, in one statement. The day's key
    is once-only, so a second cycle running at once (another instance) tells nobody twice; an
    alert stopped since the cycle began tells nothing."""
    with transaction.atomic():
        still_active = set(
            Alert.objects.select_for_update()
            .filter(pk__in=[alert.pk for alert, _ in chosen], status=Alert.Status.ACTIVE)
            .values_list("pk", flat=True)
        )
        batch = []
        for alert, slot in chosen:
            if alert.pk not in still_active:
                continue
            practice = practices[slot.practice_ods]
            batch.append(
                messages.Message(
                    alert.patient,
                    kind=Notification.Kind.EARLIER_APPOINTMENT,
                    key=_message_key(alert.patient_id, today),
                    practice=practice,
                    fields={
                        "practice_name": practice.name,
                        **messages.when_fields(slot.start),
                        "search_url": search_url(alert, uk_day(slot.start)),
                        "stop_url": stop_url(alert),
                    },
                    slot_key=slot_key(slot),
                )
            )
        return len(messages.queue_many(batch))


@task
def alert_cycle() -> str:
    """One cycle, in the worker; the clock (``manage.py run_clock``) enqueues one every
    ALERT_CYCLE_SECONDS."""
    report = async_to_sync(_cycle_with_own_client)()
    logger.info("alert cycle: %s", report)
    return str(report)


async def _cycle_with_own_client() -> CycleReport:
    # A private GP Connect client for this loop, closed when done (the worker has no lifespan).
    async with gpconnect.session():
        return await run_cycle(correlation_id=uuid.uuid4().hex)
