"""Demo patient accounts for local use, from the sandbox seed's patients."""

import datetime

from booking_site.accounts.models import User
from booking_site.practices.models import Practice


def create_demo_patients(patients: list[dict]) -> list[User]:
    """Create (or refresh) a site account for each demo patient; returns the accounts.

    Each entry has nhs_number, given, family, birth_date, registered_practice_ods, email and
    password, as ``seed_sandbox --json`` prints them.
    """
    practices = {practice.ods_code: practice for practice in Practice.objects.all()}
    accounts = []
    for entry in patients:
        email = entry["email"].lower()
        user = (
            User.objects.filter(nhs_number=entry["nhs_number"]).first()
            or User.objects.filter(username=email).first()
            or User(username=email)
        )
        user.username = user.email = email
        user.first_name, user.last_name = entry["given"], entry["family"]
        user.nhs_number = entry["nhs_number"]
        user.date_of_birth = datetime.date.fromisoformat(entry["birth_date"])
        user.registered_practice = practices.get(entry["registered_practice_ods"])
        user.set_password(entry["password"])
        user.save()
        accounts.append(user)
    return accounts
