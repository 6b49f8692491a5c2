"""What the Notify stand-in keeps: the messages it accepted and how it is told to answer.

Imported by gp_sandbox.models, so the tables belong to the "sandbox" app.
"""

import uuid

from django.db import models
from django.utils import timezone


class NotifyMessage(models.Model):
    """One message the stand-in accepted: what Notify would have sent, exactly as written."""

    class Type(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        # Notify's statuses for emails and text messages. The stand-in delivers at once.
        CREATED = "created", "Created"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        SENT = "sent", "Sent internationally"
        PERMANENT_FAILURE = "permanent-failure", "Permanent failure"
        TEMPORARY_FAILURE = "temporary-failure", "Temporary failure"
        TECHNICAL_FAILURE = "technical-failure", "Technical failure"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=5, choices=Type.choices)
    template_name = models.CharField(max_length=100)
    template_id = models.UUIDField()
    template_version = models.PositiveIntegerField()
    # The email address or phone number as the client sent it (Notify's "to").
    recipient = models.CharField(max_length=320, db_index=True)
    # The client's own reference, if it sent one (Notify's "client_reference").
    reference = models.CharField(max_length=1000, blank=True, db_index=True)
    personalisation = models.JSONField(default=dict, blank=True)
    subject = models.TextField(blank=True)
    body = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DELIVERED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Notify message"

    def __str__(self) -> str:
        return f"{self.get_type_display()} to {self.recipient} ({self.template_name})"


class NotifyBehaviour(models.Model):
    """How the stand-in answers API calls: one row, changed in the admin or on the
    mail-catcher page. While ``fail_with`` is set, every call that passes the key check gets
    that failure and nothing is stored."""

    class Failure(models.TextChoices):
        NONE = "", "Works: accepts every valid message"
        RATE_LIMIT = "429", "429 RateLimitError: the key's rate limit is exceeded"
        SERVER_ERROR = "500", "500 Internal server error"
        UNAVAILABLE = "503", "503 Service Unavailable, not JSON (from in front of Notify)"

    fail_with = models.CharField(max_length=3, choices=Failure.choices, blank=True, default="")

    class Meta:
        verbose_name = "Notify behaviour"
        verbose_name_plural = "Notify behaviour"

    def __str__(self) -> str:
        return self.get_fail_with_display()

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # a single row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "NotifyBehaviour":
        behaviour, _ = cls.objects.get_or_create(pk=1)
        return behaviour

    @classmethod
    def set(cls, fail_with: str) -> None:
        """Make the stand-in fail with ``fail_with`` (a Failure value), or work ("")."""
        cls.objects.update_or_create(pk=1, defaults={"fail_with": cls.Failure(fail_with)})
