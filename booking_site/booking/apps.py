from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking_site.booking"
    label = "booking"
    verbose_name = "Patient bookings"
