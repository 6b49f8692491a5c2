"""The audit trail of staff availability previews, and the permission that allows them.

Every search a member of staff makes is kept: who, when, which practices and dates, and what
each practice said. Rows are written by ``services`` and only ever read afterwards (the admin
shows them read-only).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

PREVIEW_PERMISSION_CODENAME = "view_preview"


class StaffSearch(models.Model):
    """One staff search: a preview page, its practices loaded one by one, or a CSV export."""

    class Kind(models.TextChoices):
        PREVIEW = "preview", "Preview page"
        PROGRESSIVE = "progressive", "Preview page, practices loaded one by one"
        PRACTICE = "practice", "One practice"
        EXPORT = "export", "CSV export"

    # Put in the progressive page's fragment URLs, so each practice's outcome joins this search.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    searched_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="availability_searches",
    )
    # Kept as it was at the time, so the record still says who it was if the account goes.
    username = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    practices = models.JSONField("practices (ODS codes)", default=list)
    start = models.DateField("from")
    end = models.DateField("to")
    # The X-Correlation-ID sent to every practice for this search (CONFORMANCE D9).
    correlation_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["-searched_at", "-pk"]
        verbose_name = "staff availability search"
        verbose_name_plural = "staff availability searches"
        permissions = [
            (
                PREVIEW_PERMISSION_CODENAME,
                "Can preview availability at the practices in their federations",
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} at {timezone.localtime(self.searched_at):%Y-%m-%d %H:%M}"


class PracticeOutcome(models.Model):
    """What one practice said to a staff search."""

    class Status(models.TextChoices):
        SLOTS = "slots", "Answered"
        NONE = "none", "No free slots"
        FAILED = "failed", "Could not be checked"

    search = models.ForeignKey(StaffSearch, on_delete=models.CASCADE, related_name="outcomes")
    checked_at = models.DateTimeField(default=timezone.now)
    practice_ods = models.CharField("ODS code", max_length=10)
    practice_name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices)
    slot_count = models.PositiveIntegerField("free slots", default=0)
    flagged_slots = models.PositiveIntegerField("slots with label problems", default=0)
    elapsed_ms = models.PositiveIntegerField("response time (ms)", default=0)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["search", "pk"]

    def __str__(self) -> str:
        return f"{self.practice_ods}: {self.get_status_display()}"
