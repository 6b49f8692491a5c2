from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "booking_site.core"
    label = "core"
    verbose_name = "Site pages"
