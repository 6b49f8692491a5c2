"""The staff view of messages and alerts: what was sent, what failed and why, and how many
alerts watch each practice. Never what a message said, nor where it went."""

from django.contrib import admin
from django.db.models import Count, Q

from booking_site.notifications.models import Alert, Notification, PracticeAlerts


class ReadOnly(admin.ModelAdmin):
    """Records for staff to look at; nothing here is added, changed or deleted by hand (a
    practice's own row is the directory's)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ["kind", "channel", "status", "practice", "attempts", "last_problem", "created"]
    list_filter = ["status", "kind", "channel", "practice"]
    list_select_related = ["practice"]
    date_hierarchy = "created"
    # No recipient and no personalisation: staff see that a message went, not what it said.
    fields = [
        "kind",
        "channel",
        "status",
        "practice",
        "attempts",
        "last_problem",
        "notify_id",
        "created",
        "sent_at",
    ]


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ["created", "status", "until"]
    list_filter = ["status", "practices"]
    date_hierarchy = "created"
    fields = ["status", "until", "channels", "times_of_day", "created", "ended_at"]


@admin.register(PracticeAlerts)
class PracticeAlertsAdmin(ReadOnly):
    """One line per practice: alerts watching it, and its messages sent and not sent."""

    list_display = ["name", "ods_code", "active_alerts", "messages_sent", "messages_failed"]
    search_fields = ["name", "ods_code"]
    fields = ["name", "ods_code"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active=Count("alerts", filter=Q(alerts__status=Alert.Status.ACTIVE), distinct=True),
                sent=Count(
                    "notification",
                    filter=Q(notification__status=Notification.Status.SENT),
                    distinct=True,
                ),
                failed=Count(
                    "notification",
                    filter=Q(notification__status=Notification.Status.FAILED),
                    distinct=True,
                ),
            )
        )

    @admin.display(description="Active alerts", ordering="active")
    def active_alerts(self, obj) -> int:
        return obj.active

    @admin.display(description="Messages sent", ordering="sent")
    def messages_sent(self, obj) -> int:
        return obj.sent

    @admin.display(description="Messages not sent", ordering="failed")
    def messages_failed(self, obj) -> int:
        return obj.failed
