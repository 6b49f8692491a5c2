"""Staff availability searches, for administrators to read: nobody adds, edits or deletes them."""

from django.contrib import admin
from django.http import HttpRequest

from booking_site.availability.models import PracticeOutcome, StaffSearch


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class PracticeOutcomeInline(_ReadOnly, admin.TabularInline):
    model = PracticeOutcome
    extra = 0
    fields = (
        "practice_ods",
        "practice_name",
        "status",
        "slot_count",
        "flagged_slots",
        "elapsed_ms",
        "failure_reason",
        "checked_at",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(StaffSearch)
class StaffSearchAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("searched_at", "username", "kind", "start", "end", "practice_codes", "outcome")
    list_filter = ("kind", "searched_at")
    search_fields = ("username", "correlation_id")
    date_hierarchy = "searched_at"
    fields = (
        "searched_at",
        "username",
        "user",
        "kind",
        "practices",
        "start",
        "end",
        "correlation_id",
        "reference",
    )
    readonly_fields = fields
    inlines = [PracticeOutcomeInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("outcomes")

    @admin.display(description="Practices")
    def practice_codes(self, search: StaffSearch) -> str:
        return ", ".join(search.practices)

    @admin.display(description="Outcome")
    def outcome(self, search: StaffSearch) -> str:
        """e.g. "5 answered, 1 no free slots, 1 could not be checked"."""
        counts: dict[str, int] = {}
        for outcome in search.outcomes.all():
            label = outcome.get_status_display().lower()
            counts[label] = counts.get(label, 0) + 1
        return ", ".join(f"{count} {label}" for label, count in counts.items()) or "—"
