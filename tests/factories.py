"""Factories for the site's own data (the sandbox has its own: gp_sandbox/factories.py)."""

import datetime
import itertools
from contextlib import nullcontext

from django.conf import settings
from django.test import override_settings

from booking_site.accounts.models import User
from booking_site.practices.models import Federation, Practice
from gp_sandbox.models import LoginIdentity
from gp_sandbox.models import Patient as SandboxPatient
from gp_sandbox.nhs_login.id_tokens import issue_id_token
from gp_sandbox.nhs_login.identities import sub_for_nhs_number

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


def id_token_for(
    nhs_number: str,
    *,
    level: str = "P9",
    ttl_seconds: int | None = None,
    sandbox_url: str | None = None,
) -> str:
    """The ID token the sandbox's NHS login stand-in issues for this person (signed with its
    key, for the site's client id), as after a real sign-in. ``sandbox_url``: the sandbox of a
    server in another process (tests/serving.py), whose stand-in is the token's issuer."""
    identity = LoginIdentity(
        sub=sub_for_nhs_number(nhs_number),
        identity_proofing_level=level,
        patient=SandboxPatient(nhs_number=nhs_number, given="Ada", family="Lovelace"),
    )
    issuer = override_settings(SANDBOX_BASE_URL=sandbox_url) if sandbox_url else nullcontext()
    with issuer:
        return issue_id_token(
            identity,
            audience=settings.NHS_LOGIN_CLIENT_ID,
            vot=f"{level}.Cp.Cd",
            ttl_seconds=ttl_seconds,
        )


def make_patient(
    *,
    nhs_number: str = NHS_NUMBERS[0],
    practice: Practice | None = None,
    email: str | None = None,
    sandbox_url: str | None = None,
) -> User:
    """A patient account as an NHS login sign-in at P9 leaves it (nhs_login_accounts)."""
    email = email or f"patient{next(_counter)}@example.com"
    sub = str(sub_for_nhs_number(nhs_number))
    user = User(
        username=f"nhs-login:{sub}",
        nhs_login_sub=sub,
        identity_level="P9",
        nhs_login_id_token=id_token_for(nhs_number, sandbox_url=sandbox_url),
        nhs_login_expires_at=datetime.datetime.now(tz=datetime.UTC)
        + datetime.timedelta(seconds=settings.SANDBOX_ID_TOKEN_TTL_SECONDS),
        email=email,
        email_verified=True,
        first_name="Ada",
        last_name="Lovelace",
        nhs_number=nhs_number,
        date_of_birth=datetime.date(1980, 5, 17),
        registered_practice=practice or make_practice(),
    )
    user.set_unusable_password()
    user.save()
    return user
