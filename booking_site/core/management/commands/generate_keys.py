from django.core.management.base import BaseCommand

from booking_site.core.keys import ensure_keys


class Command(BaseCommand):
    help = "Make the NHS login signing keys for local use (var/keys/) where they are absent."

    def handle(self, *args, **options) -> None:
        for path in ensure_keys():
            self.stdout.write(f"Made {path}")
