"""Sending queued messages in the worker, with retries while Notify is unavailable.

A message is claimed before it is sent (its attempt count moves on, and it is given a lease), so
two task runs with the same message never both send it. A message that Notify refuses for good
(400: the message is wrong; 403: the key is) is marked not sent and logged, without its content.
One that meets a 429, a 5xx, no reply or anything unexpected is tried again later
(``RETRY_DELAYS``); before each retry Notify is asked whether the earlier attempt reached it (the
message's reference is its id), so a lost reply never sends it twice. The clock's sweep sends
any message still due (its task lost, or its worker stopped mid-send).
"""

import datetime
import logging

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from booking_site.notifications import notify
from booking_site.notifications.models import Notification

logger = logging.getLogger(__name__)

# After each failed attempt, the wait before the next: about five hours in all, then given up.
RETRY_DELAYS = (
    datetime.timedelta(seconds=30),
    datetime.timedelta(minutes=2),
    datetime.timedelta(minutes=10),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=1),
    datetime.timedelta(hours=3),
)
# How long an attempt may take before the message counts as due again (Notify's client gives
# up on a request after notify.TIMEOUT_SECONDS).
LEASE = datetime.timedelta(minutes=2)
# Messages sent by one task run: a cycle that queues many sends them in a few runs.
BATCH = 100


def enqueue_sending(ids: list, *, delay: datetime.timedelta | None = None) -> None:
    """Have the worker send these queued messages (now, or after ``delay``). Call it in the
    transaction that stores them: the task is a row in the same database, so both are kept or
    neither is."""
    ids = [str(pk) for pk in ids]
    for first in range(0, len(ids), BATCH):
        chunk = ids[first : first + BATCH]
        if delay is None:
            send_notifications.enqueue(chunk)
        else:
            send_notifications.using(run_after=timezone.now() + delay).enqueue(chunk)


@task
def send_notifications(ids: list[str]) -> str:
    notify_client = notify.client()
    outcomes = []
    for pk in ids:
        try:
            outcomes.append(_send_one(notify_client, pk))
        except Exception:
            # Whatever went wrong with one message (the database, the settings), the others in
            # the batch are still sent, and this one is left due for the sweep.
            logger.exception("notification %s: not sent this time", pk)
            outcomes.append("left for the sweep")
    return ", ".join(outcomes)


@task
def send_overdue() -> str:
    """The sweep: send every queued message that is due and has not been sent."""
    due = list(
        Notification.objects.filter(
            status=Notification.Status.QUEUED, due_at__lte=timezone.now()
        ).values_list("pk", flat=True)[: BATCH * 10]
    )
    with transaction.atomic():
        enqueue_sending(due)
    return f"{len(due)} due"


def _send_one(notify_client, pk: str) -> str:
    now = timezone.now()
    notification = Notification.objects.filter(pk=pk, status=Notification.Status.QUEUED).first()
    if notification is None:
        return "sent already"
    if notification.due_at > now:
        return "not due yet"  # a retry is scheduled, or another attempt holds the lease
    claimed = Notification.objects.filter(
        pk=pk, status=Notification.Status.QUEUED, attempts=notification.attempts
    ).update(attempts=notification.attempts + 1, due_at=now + LEASE)
    if not claimed:
        return "being sent"
    reference = str(notification.pk)
    template = f"{notification.kind}_{notification.channel}"
    try:
        # An earlier attempt may have reached Notify with its reply lost.
        notify_id = notify.sent_before(notify_client, reference) if notification.attempts else ""
        if not notify_id:
            notify_id = notify.send(
                notify_client,
                channel=notification.channel,
                recipient=notification.recipient,
                template=template,
                personalisation=notification.personalisation,
                reference=reference,
            )
    except notify.Failed as failed:
        return _failed(notification, notification.attempts + 1, failed)
    Notification.objects.filter(pk=pk).update(
        status=Notification.Status.SENT,
        notify_id=notify_id,
        sent_at=timezone.now(),
        last_problem="",
    )
    return "sent"


def _failed(notification: Notification, attempts: int, failed: notify.Failed) -> str:
    retry = failed.retry and attempts <= len(RETRY_DELAYS)
    with transaction.atomic():
        if retry:
            delay = RETRY_DELAYS[attempts - 1]
            Notification.objects.filter(pk=notification.pk).update(
                last_problem=failed.problem, due_at=timezone.now() + delay
            )
            enqueue_sending([notification.pk], delay=delay)
        else:
            Notification.objects.filter(pk=notification.pk).update(
                last_problem=failed.problem, status=Notification.Status.FAILED
            )
    if retry:
        logger.info("notification %s: %s; trying again", notification.pk, failed.problem)
        return f"retrying ({failed.problem})"
    logger.warning(
        "notification %s (%s) not sent: %s after %d attempts",
        notification.pk,
        notification.kind,
        failed.problem,
        attempts,
    )
    return f"not sent ({failed.problem})"
