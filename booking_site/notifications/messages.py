"""What each message says (the fields of its Notify template) and queuing it, once.

Messages name the practice, the day and time, how the appointment happens and what to do, and
how to cancel; never what the appointment is for (NHS content style: nothing clinical in an
email or text, which others may read).
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from booking_site.accounts.models import User
from booking_site.common.formatting import day_label, time_label, uk_day
from booking_site.notifications import contact
from booking_site.notifications.models import Notification
from booking_site.notifications.notify import origin
from booking_site.notifications.tasks import enqueue_sending
from booking_site.practices.models import Practice

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """An absolute link to this site for a message (SITE_URL, or the sandbox's origin)."""
    base = settings.SITE_URL or origin(settings.SANDBOX_BASE_URL)
    return base.rstrip("/") + path


def when_fields(start: datetime.datetime) -> dict:
    return {"appointment_day": day_label(uk_day(start)), "appointment_time": time_label(start)}


def what_to_do(details: dict, practice: Practice) -> str:
    """What the patient does, by how the appointment happens (the practice's record), as the
    appointment's page says it: a slot that does not say how is at the surgery."""
    channel = details.get("delivery_channel") or ""
    if channel == "Telephone":
        return "The practice will phone you. Keep your phone with you at that time."
    if channel == "Video":
        return "The practice will send you a link to join a video call."
    place = details.get("location_name") or practice.name
    address = details.get("location_address") or practice.address
    return f"Go to {place}, {address}." if address else f"Go to {place}."


def appointment_fields(
    practice: Practice, start: datetime.datetime, details: dict, appointment_path: str
) -> dict:
    """Fields of the confirmation and the reminder."""
    return {
        "practice_name": practice.name,
        **when_fields(start),
        "what_to_do": what_to_do(details, practice),
        "appointment_url": site_url(appointment_path),
        "practice_phone": practice.phone or details.get("location_phone") or "its usual number",
    }


def cancelled_fields(practice: Practice, start: datetime.datetime) -> dict:
    return {
        "practice_name": practice.name,
        **when_fields(start),
        "book_url": site_url(reverse("booking:start")),
    }


def queue(
    patient: User, *, kind: str, key: str, practice: Practice | None, fields: dict
) -> Notification | None:
    """Store the message (once per ``key``) to the patient's chosen contact, with the task that
    sends it, in the caller's transaction. None when the patient wants no messages or it was
    queued before. Never raises for a message: a booking or cancellation is never undone by
    one."""
    chosen = contact.contact_for(patient)
    if chosen is None:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                patient=patient,
                practice=practice,
                kind=kind,
                channel=chosen.channel,
                key=key,
                recipient=chosen.recipient,
                personalisation=fields,
            )
            enqueue_sending([notification.pk])
    except IntegrityError:
        return None  # queued before: once only
    return notification


@dataclass(frozen=True)
class Message:
    patient: User
    kind: str
    key: str
    practice: Practice | None
    fields: dict
    slot_key: str = ""


def queue_many(batch: list[Message]) -> list[Message]:
    """``queue`` for many messages at once (the alert cycle's): stored in one statement, each
    still once per key; returns those queued now (not before, and wanted)."""
    rows = {}
    for message in batch:
        chosen = contact.contact_for(message.patient)
        if chosen is None:
            continue
        rows[message.key] = (
            message,
            Notification(
                id=uuid.uuid4(),
                patient=message.patient,
                practice=message.practice,
                kind=message.kind,
                channel=chosen.channel,
                key=message.key,
                recipient=chosen.recipient,
                personalisation=message.fields,
                slot_key=message.slot_key,
            ),
        )
    with transaction.atomic():
        Notification.objects.bulk_create([row for _, row in rows.values()], ignore_conflicts=True)
        stored = set(
            Notification.objects.filter(pk__in=[row.pk for _, row in rows.values()]).values_list(
                "pk", flat=True
            )
        )
        enqueue_sending([row.pk for _, row in rows.values() if row.pk in stored])
    return [message for message, row in rows.values() if row.pk in stored]


def appointment_key(kind: str, practice: Practice, appointment_id: str) -> str:
    return f"{kind}:{practice.ods_code}:{appointment_id}"
