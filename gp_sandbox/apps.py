from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "gp_sandbox"
    label = "sandbox"
    verbose_name = "Provider sandbox (GP practice systems)"
