"""Staff previews against the real provider sandbox, reached over HTTP in process
(httpx.ASGITransport → the site's ASGI application), exactly as the site reaches a practice.

Personas: anonymous, a patient, practice staff in North Riverside, practice staff in Hillcrest
(another federation), a signed-in person without the preview permission, and a superuser.
"""

import datetime

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from booking_site.accounts.models import User
from booking_site.asgi import application
from booking_site.availability.services import practice_staff_group
from booking_site.gpconnect import use_transport
from booking_site.practices.models import Federation
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from tests.factories import DEMO_PASSWORD, make_patient

SANDBOX = "http://testserver/sandbox"
NORTH_RIVERSIDE = "North Riverside GP Federation"
HILLCREST = "Hillcrest Primary Care Network"


@pytest.fixture(autouse=True)
def in_process_sandbox(settings):
    # Six people per test: hashing each password the production way would be most of the time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SANDBOX_BASE_URL = SANDBOX
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 3.0
    settings.GPCONNECT_DEADLINE_SECONDS = 5.0
    settings.GPCONNECT_RETRIES = 0
    with use_transport(httpx.ASGITransport(app=application)):
        yield


def next_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return sandbox.uk(f"{day.isoformat()} {hour:02d}:{minute:02d}")


def next_week_query(*codes: str, who: str = "chosen") -> dict:
    """The preview's GET parameters for next week (Monday to Sunday) at ``codes``."""
    return {"who": who, "practices": list(codes), "week": next_monday().isoformat()}


def make_user(email: str, *, practices=(), staff: bool = True, **fields) -> User:
    user = User.objects.create_user(
        username=email, email=email, password=DEMO_PASSWORD, first_name="Sam", **fields
    )
    if staff:
        user.groups.add(practice_staff_group())
    user.staff_practices.set(practices)
    return user


class World:
    """Two federations of sandbox practices, the site's directory entries for them, and the
    people who might ask about them."""

    def __init__(self) -> None:
        self.federation = Federation.objects.create(name=NORTH_RIVERSIDE)
        self.other_federation = Federation.objects.create(name=HILLCREST)
        self.practices: dict[str, SitePractice] = {}
        self.sandbox_practices = {}
        self.add_practice("A20047", "Riverside Medical Practice")
        self.add_practice("B86019", "Kirkstall Lane Surgery")
        self.add_practice("B82617", "Hillcrest Surgery", federation=self.other_federation)
        self.staff = make_user("staff@example.com", practices=[self.practices["A20047"]])
        self.other_staff = make_user("hillcrest@example.com", practices=[self.practices["B82617"]])
        self.without_permission = make_user(
            "receptionist@example.com", practices=[self.practices["A20047"]], staff=False
        )
        self.unlinked_staff = make_user("unlinked@example.com")
        self.patient = make_patient(
            nhs_number=sandbox.PATIENT_NHS_NUMBER, practice=self.practices["A20047"]
        )
        # A patient who somehow holds the permission and a practice is still a patient.
        self.patient.groups.add(practice_staff_group())
        self.patient.staff_practices.set([self.practices["A20047"]])
        self.superuser = make_user("root@example.com", staff=False, is_superuser=True)

    def add_practice(self, ods: str, name: str, *, federation=None, **switches) -> SitePractice:
        self.sandbox_practices[ods] = sandbox.make_practice(ods, name=name, **switches)
        site = SitePractice.objects.create(
            ods_code=ods,
            name=name,
            federation=federation or self.federation,
            base_url=f"{SANDBOX}/{ods}/FHIR/STU3/",
            phone="01632 960100",
            address="1 Surgery Lane, Riverside",
        )
        self.practices[ods] = site
        return site

    def schedule(self, ods: str, **fields):
        return sandbox.make_schedule(self.sandbox_practices[ods], **fields)

    def slots(self, ods: str, start: datetime.datetime, count: int = 1, *, schedule=None, **fields):
        return sandbox.make_slots(schedule or self.schedule(ods), start, count, **fields)

    def client_for(self, user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client


@pytest.fixture
def world(transactional_db) -> World:
    return World()
