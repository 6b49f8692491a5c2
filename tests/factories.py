"""Factories for the site's own data (the sandbox has its own: gp_sandbox/factories.py)."""

import datetime
import itertools

from booking_site.accounts.models import User
from booking_site.practices.models import Federation, Practice

_counter = itertools.count(1)

# Valid NHS numbers (checksums hold), for patients created in tests.
NHS_NUMBERS = ["9000000009", "9449305552", "9449310475", "9449304130", "9449306613"]
DEMO_PASSWORD = "Correct-horse-battery-7"


def make_federation(name: str = "North Riverside GP Federation") -> Federation:
    return Federation.objects.get_or_create(name=name)[0]


def make_practice(
    ods_code: str | None = None, *, name: str | None = None, federation: Federation | None = None
) -> Practice:
    n = next(_counter)
    ods_code = ods_code or f"T{n:05d}"
    return Practice.objects.create(
        ods_code=ods_code,
        name=name or f"Test Surgery {n}",
        federation=federation,
        base_url=f"http://testserver/sandbox/{ods_code}/FHIR/STU3/",
        phone="01632 960001",
        address="1 High Street, Riverside, RS1 1AA",
    )


def make_patient(
    *, nhs_number: str = NHS_NUMBERS[0], practice: Practice | None = None, email: str | None = None
) -> User:
    email = email or f"patient{next(_counter)}@example.com"
    return User.objects.create_user(
        username=email,
        email=email,
        password=DEMO_PASSWORD,
        first_name="Ada",
        last_name="Lovelace",
        nhs_number=nhs_number,
        date_of_birth=datetime.date(1980, 5, 17),
        registered_practice=practice or make_practice(),
    )
