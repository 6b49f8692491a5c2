"""What the site keeps of a patient's bookings."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Booking(models.Model):
    """One appointment a patient booked through the site.

    The row exists from the moment the patient confirms (status ``pending``), before the practice
    is asked, with the whole request as sent (``booking_request``, X-Request-ID, ``created``), so
    it can be repeated byte for byte from the database alone: the practice replays its first
    answer instead of booking twice (docs/adr/0003-booking-exactly-once.md). A reply that does
    not say what the practice did leaves it ``unknown`` until the settling task learns it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being booked"
        UNKNOWN = "unknown", "Being confirmed"
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Not booked"

    class OutcomeSource(models.TextChoices):
        NOT_YET = "", "Not known yet"
        REPLY = "reply", "The practice's reply to the booking"
        RESENT = "resent", "The practice's reply to the same request sent again"

    # The practice may hold the appointment: it counts against the patient's limit and is shown.
    MAYBE_BOOKED = (Status.PENDING, Status.UNKNOWN, Status.BOOKED)
    # Waiting for the practice's answer: only these are ever sent (again).
    OPEN = (Status.PENDING, Status.UNKNOWN)

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
    # gpconnect.BookingRequest.as_dict(): the exact body sent and what reading the reply needs.
    booking_request = models.JSONField(default=dict, blank=True)
    # Also the Appointment's ``created`` in the request body, so set before it is built.
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    # How and when the practice's answer was learned, and the settling task's progress.
    outcome_source = models.CharField(
        max_length=8, choices=OutcomeSource.choices, default=OutcomeSource.NOT_YET, blank=True
    )
    settled_at = models.DateTimeField("outcome learned at", null=True, blank=True)
    settle_attempts = models.PositiveSmallIntegerField(default=0)
    last_problem = models.CharField("last problem asking the practice", max_length=40, blank=True)
    needs_attention = models.BooleanField(
        "needs staff attention",
        default=False,
        db_index=True,
        help_text="Still not known after every attempt: ask the practice whether it is booked.",
    )

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


class CancellationRefusal(models.Model):
    """A practice's "no" to cancelling one appointment online, kept so that the site says so
    before the patient writes a reason next time (for this appointment, and for the practice's
    others while the practice's refusal still holds: see ``services.appointments``)."""

    class Kind(models.TextChoices):
        DISABLED = "disabled", "The practice does not allow online cancellation"  # 403
        TOO_LATE = "too_late", "Too late to cancel online"  # 461
        REFUSED = "refused", "The practice refused this cancellation"  # 409 ACCESS_DENIED

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE)
    appointment_id = models.CharField("practice's appointment id", max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # How long before the appointment's start the practice said no: a 461 at 90 minutes means
    # the practice's cut-off is at least 90 minutes.
    minutes_before_start = models.IntegerField()
    refused_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["practice", "kind", "refused_at"])]

    def __str__(self) -> str:
        return f"{self.practice.ods_code} {self.appointment_id} ({self.kind})"
