import json
import sys

from django.core.management.base import BaseCommand, CommandError

from booking_site.practices.directory import load_directory


class Command(BaseCommand):
    help = "Load practices and federations from a JSON document (as `seed_sandbox --json` prints)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="JSON file, or - for standard input")

    def handle(self, *args, path: str, **options) -> None:
        try:
            if path == "-":
                document = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(
                f"Could not read the practice directory from {path}: {error}"
            ) from error
        try:
            federations, practices = load_directory(document)
        except (KeyError, TypeError) as error:
            raise CommandError(f"The practice directory document is missing {error}") from None
        self.stdout.write(f"Loaded {practices} practices in {federations} federations")
