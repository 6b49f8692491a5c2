from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "booking_site.sandbox"
    label = "sandbox"
    verbose_name = "Provider sandbox (GP practice systems)"
