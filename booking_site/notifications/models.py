"""What the site sends patients through GOV.UK Notify, and the alerts it watches for them.

A message is a row before it is anything else (an outbox): it is stored in the same step that
decides it is due, with a key that makes it once-only, and the worker sends it, retrying while
Notify is unavailable. Its reference at Notify is the row's id, so an attempt whose reply was
lost is found at Notify before anything is sent again.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from booking_site.practices.models import Practice


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class Notification(models.Model):
    class Kind(models.TextChoices):
        BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
        REMINDER = "reminder", "Reminder the day before"
        EARLIER_APPOINTMENT = "earlier_appointment", "Earlier appointment alert"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent to Notify"
        FAILED = "failed", "Not sent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Once-only: the same key is never queued twice (one confirmation per appointment, one
    # reminder, one alert message per alert and day).
    key = models.CharField(max_length=200, unique=True)
    # The address and the template's fields: needed to send, never shown to staff.
    recipient = models.CharField(max_length=320)
    personalisation = models.JSONField(default=dict)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it may next be sent: now when queued, after a failure the retry's time, and while an
    # attempt is under way the end of its lease (a worker that died mid-send leaves it due
    # again, and the sweep sends it: ``tasks.send_overdue``).
    due_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Why the last attempt did not send it (an HTTP status and Notify's error name; no content).
    last_problem = models.CharField(max_length=80, blank=True)
    notify_id = models.CharField("Notify's id", max_length=64, blank=True)
    # An earlier-appointment message's free time ("ODS|start"): never told to a patient twice.
    slot_key = models.CharField(max_length=80, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["patient", "kind", "slot_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display().lower()} ({self.status})"


class Alert(models.Model):
    """A patient's "tell me if an earlier appointment comes up": free slots at ``practices``,
    matching the filters, that start before ``earlier_than`` (when set) and on or before
    ``until``, the day it ends itself."""

    MAX_WEEKS = 8

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended by the patient"
        BOOKED = "booked", "Ended: an earlier appointment was booked"
        EXPIRED = "expired", "Ended: its last day or the time to beat passed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    practices = models.ManyToManyField("practices.Practice", related_name="alerts")
    # The results page's filters (common.results): channel values and times of day.
    channels = models.JSONField(default=list, blank=True)
    times_of_day = models.JSONField(default=list, blank=True)
    earlier_than = models.DateTimeField(null=True, blank=True)
    until = models.DateField()
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    created = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["until", "created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active") | Q(ended_at__isnull=False),
                name="ended_alert_has_end_time",
            )
        ]

    def __str__(self) -> str:
        return f"Alert until {self.until:%d %b %Y} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def wants(self, start: datetime.datetime, day: datetime.date) -> bool:
        """Whether a free slot starting at ``start`` (UK day ``day``) is earlier enough."""
        if self.earlier_than is not None and start >= self.earlier_than:
            return False
        return day <= self.until


class PracticeAlerts(Practice):
    """The practices, as the staff view of alerts and messages lists them (admin)."""

    class Meta:
        proxy = True
        verbose_name = "practice's alerts and messages"
        verbose_name_plural = "alerts and messages by practice"
