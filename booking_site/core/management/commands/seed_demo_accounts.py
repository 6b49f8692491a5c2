import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Demo-admin-2026"  # noqa: S105 (published for local testers; never in production)
ADMIN_EMAIL = "admin@example.com"
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "Demo-staff-2026"  # noqa: S105 (published for local testers; never in production)
STAFF_FEDERATION = "North Riverside GP Federation"


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo sign-ins for local use: a Django admin superuser, so testers "
        "can flip the sandbox practices' behaviour switches, and a member of practice staff who "
        "can preview availability. Refused in production."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--patients",
            metavar="PATH",
            help="The sandbox seed document (seed_sandbox --json): also list its demo patients, "
            "who sign in through the sandbox's NHS login stand-in.",
        )

    def handle(self, *args, patients: str | None = None, **options) -> None:
        if settings.DJANGO_ENV not in {"local", "test"}:
            raise CommandError(
                "seed_demo_accounts creates sign-ins with published passwords, so it only runs "
                f"when DJANGO_ENV is local or test (it is {settings.DJANGO_ENV})."
            )
        created = self._ensure_admin()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} the admin sign-in for /admin/:")
            + f" username {ADMIN_USERNAME}, password {ADMIN_PASSWORD}"
        )
        self._ensure_staff()
        if patients:
            self._list_patients(patients)

    def _ensure_staff(self) -> None:
        """A member of practice staff at the first North Riverside practice, if the practice
        directory has one (``load_practice_directory`` comes first in ``make run``)."""
        from booking_site.availability.services import practice_staff_group
        from booking_site.practices.models import Practice

        practice = (
            Practice.objects.filter(federation__name=STAFF_FEDERATION).order_by("ods_code").first()
        )
        if practice is None:
            self.stdout.write(
                f"No staff sign-in: the practice directory has no {STAFF_FEDERATION} practice "
                "(load it first)."
            )
            return
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username=STAFF_EMAIL, defaults={"email": STAFF_EMAIL}
        )
        user.email = STAFF_EMAIL
        user.first_name, user.last_name = "Sam", "Okafor"
        user.nhs_number = ""
        user.is_active = True
        user.is_staff = user.is_superuser = False
        user.set_password(STAFF_PASSWORD)
        user.save()
        user.groups.add(practice_staff_group())
        user.staff_practices.set([practice])
        self.stdout.write(
            self.style.SUCCESS("Practice staff (preview availability at /staff/availability/):")
            + f" {STAFF_EMAIL}  password {STAFF_PASSWORD}  ({practice.name}, {STAFF_FEDERATION})"
        )

    def _list_patients(self, path: str) -> None:
        """Patients' accounts are made by signing in with NHS login (the sandbox's stand-in
        lists these people to pick from): nothing is made here, the list is for testers."""
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"Could not read the seed document {path}: {error}") from error
        self.stdout.write(
            self.style.SUCCESS("Demo patients (sign in with NHS login at /account/sign-in/):")
        )
        for entry in document.get("patients", []):
            self.stdout.write(
                f"  {entry.get('given', '')} {entry.get('family', '')}"
                f"  {entry.get('identity_proofing_level', 'P9')}"
                f"  NHS number {entry.get('nhs_number') or '-'}"
                f"  {entry.get('registered_practice_ods') or 'no practice'}"
            )
        for entry in document.get("nhs_login_users", []):
            self.stdout.write(
                f"  {entry.get('email', '')}  {entry.get('identity_proofing_level', 'P0')}"
                "  no NHS number  no practice"
            )

    def _ensure_admin(self) -> bool:
        """Make the admin superuser exist with the published password; True if it was new."""
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=ADMIN_USERNAME, defaults={"email": ADMIN_EMAIL}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(ADMIN_PASSWORD)
        user.save()
        return created
