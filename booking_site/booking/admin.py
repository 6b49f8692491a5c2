from django.contrib import admin

from booking_site.booking.models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Bookings for support: "needs staff attention" lists those whose outcome the settling task
    could not learn (booking_site/booking/tasks.py): ask the practice, then record its answer
    (status, and the practice's appointment id if it booked it) and clear the flag."""

    list_display = [
        "request_id",
        "practice",
        "start",
        "status",
        "needs_attention",
        "settle_attempts",
        "last_problem",
        "outcome_source",
        "settled_at",
        "created",
    ]
    list_filter = ["needs_attention", "status", "outcome_source", "practice"]
    search_fields = ["request_id", "appointment_id", "practice__ods_code"]
    list_select_related = ["practice"]
    date_hierarchy = "created"
    # What was sent and what the practice said are records, not for editing.
    readonly_fields = [
        "request_id",
        "patient",
        "practice",
        "booking_request",
        "created",
        "updated",
        "version_id",
        "outcome_source",
        "settled_at",
        "settle_attempts",
        "last_problem",
    ]
