from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "booking_site.notifications"
    verbose_name = "Messages to patients (GOV.UK Notify) and earlier-appointment alerts"
