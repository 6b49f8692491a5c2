"""What the site keeps of a patient's bookings."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Booking(models.Model):
    """One appointment a patient booked through the site.

    The row exists from the moment the patient confirms (status ``pending``), before the practice
    is asked, so that the X-Request-ID sent is never lost: a retry re-sends the same id and the
    practice replays its first answer instead of booking twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being booked"
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Not booked"

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT)
    request_id = models.UUIDField("X-Request-ID", unique=True, default=uuid.uuid4)
    slot_ids = models.JSONField(default=list)
    appointment_id = models.CharField("practice's appointment id", max_length=64, blank=True)
    version_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The display details shown at confirmation (slot type, channel, practitioner, location...),
    # as the practice's reply gave them.
    details = models.JSONField(default=dict)
    cancellation_reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "appointment_id"],
                condition=~Q(appointment_id=""),
                name="unique_practice_appointment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practice.ods_code} {self.appointment_id or self.request_id} ({self.status})"
