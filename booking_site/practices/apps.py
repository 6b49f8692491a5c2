from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "booking_site.practices"
    label = "practices"
    verbose_name = "Practice directory"
