"""Notify's REST API, mounted at the host root (/v2/) when the sandbox is enabled: Notify's
client joins "/v2/notifications/..." to its base URL's origin."""

from django.urls import path

from gp_sandbox.notify import api_views

urlpatterns = [
    path("notifications/email", api_views.send_email, name="notify_v2_send_email"),
    path("notifications/sms", api_views.send_sms, name="notify_v2_send_sms"),
    path("notifications", api_views.notifications, name="notify_v2_notifications"),
    path(
        "notifications/<str:notification_id>",
        api_views.notification,
        name="notify_v2_notification",
    ),
]
