import json
import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gp_sandbox.models import Practice
from gp_sandbox.seed import DEFAULT_SEED, SeedSummary, describe, seed


class Command(BaseCommand):
    help = (
        "Replace the provider sandbox's data with demo practices, eight weeks of diaries from "
        "tomorrow, and demo patients. The same --seed always gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Leave the sandbox alone if it already has practices.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print only the federations, practices, demo patients and NHS login users, as "
            "JSON: each patient has nhs_number, given, family, birth_date, "
            "registered_practice_ods, email, phone_number, and their NHS login sub and "
            "identity_proofing_level (P9 or P5); NHS login users with no NHS number (P0) are "
            "listed apart, in nhs_login_users (sub, identity_proofing_level, email, "
            "phone_number).",
        )

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and Practice.objects.exists():
            summary = describe()
            if options["json"]:
                self._write_json(summary)
            else:
                self.stdout.write(
                    f"The sandbox already has {len(summary.practices)} practices; left as they "
                    "are (run without --if-empty to replace them)."
                )
            return

        started = time.perf_counter()
        summary = seed(options["seed"], timezone.localdate())
        elapsed = time.perf_counter() - started
        if options["json"]:
            self._write_json(summary)
        else:
            self._write_summary(summary, options["seed"], elapsed)

    def _write_json(self, summary: SeedSummary) -> None:
        self.stdout.write(json.dumps(summary.as_document(), indent=2))

    def _write_summary(self, summary: SeedSummary, seed_number: int, elapsed: float) -> None:
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Seeded the provider sandbox (seed {seed_number}) in {elapsed:.1f} s: "
                f"{len(summary.practices)} practices, {summary.locations} surgeries, "
                f"{summary.practitioners} clinicians, {summary.schedules} schedules, "
                f"{summary.slots:,} slots ({summary.busy_slots:,} already booked) "
                f"from {summary.first_slot_day} to {summary.last_slot_day}."
            )
        )
        by_ods = {practice.ods_code: practice for practice in summary.practices}
        for federation, codes in summary.federations.items():
            write(f"\n{federation}")
            for code in codes:
                practice = by_ods[code]
                write(f"  {code}  {practice.name:<32} {practice.behaviour}")
        if summary.practices:
            write(f"\nEach practice's FHIR base URL is like {summary.practices[0].base_url}")
        write("\nDemo patients (sign in as them at the sandbox's NHS login):")
        for patient in summary.patients:
            name = f"{patient.given} {patient.family}"
            write(
                f"  {patient.nhs_number}  {name:<18} {patient.identity_proofing_level or '--'}  "
                f"born {patient.birth_date}  registered at {patient.registered_practice_ods}  "
                f"{patient.email}"
            )
        for user in summary.nhs_login_users:
            write(f"  (no NHS number)  {user.email:<29} {user.identity_proofing_level}")
