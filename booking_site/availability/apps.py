from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    name = "booking_site.availability"
    label = "availability"
    verbose_name = "Staff availability previews"
