from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "booking_site.accounts"
    label = "accounts"
    verbose_name = "Accounts"
