from django.core.management.base import BaseCommand, CommandError, CommandParser

from gp_sandbox.tokens import issue_token
from gp_sandbox.validation import is_nhs_number


class Command(BaseCommand):
    help = (
        "Print a sandbox access token: a patient token for NHS_NUMBER, or with --service a "
        "service token (slot searches only). Use it as 'Authorization: Bearer <token>'. (The "
        "site gets a patient's token by exchanging their NHS login ID token at "
        "/sandbox/oauth2/token; this is a tester's shortcut.)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("nhs_number", nargs="?", metavar="NHS_NUMBER")
        parser.add_argument(
            "--service", action="store_true", help="A service token, carrying no patient."
        )

    def handle(self, *args, **options) -> None:
        patient, service = options["nhs_number"], options["service"]
        if service and patient:
            raise CommandError("Give an NHS number or --service, not both.")
        if not service and not patient:
            raise CommandError("Give the patient's NHS number, or --service for a service token.")
        if patient and not is_nhs_number(patient):
            raise CommandError(
                f"{patient!r} is not a valid NHS number: it must be 10 digits whose check "
                "digit holds, for example 9000000009."
            )
        self.stdout.write(issue_token(None if service else patient))
