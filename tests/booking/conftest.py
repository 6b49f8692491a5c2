"""The patient journey against the real provider sandbox, reached over HTTP in process
(httpx.ASGITransport → the site's ASGI application), exactly as the site reaches a practice."""

import datetime
import re

import httpx
import pytest
from django.utils import timezone

from booking_site import nhs_login
from booking_site.asgi import application
from booking_site.gpconnect import use_transport
from booking_site.practices.models import Federation
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from tests.factories import make_patient

SANDBOX = "http://testserver/sandbox"


@pytest.fixture(autouse=True)
def in_process_sandbox(settings):
    settings.SANDBOX_BASE_URL = SANDBOX
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 3.0
    settings.GPCONNECT_DEADLINE_SECONDS = 5.0
    settings.GPCONNECT_RETRIES = 0
    transport = httpx.ASGITransport(app=application)
    with use_transport(transport), nhs_login.use_transport(transport):
        yield


def tomorrow_at(hour: int, minute: int = 0) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=1)
    return sandbox.uk(f"{day.isoformat()} {hour:02d}:{minute:02d}")


class World:
    """A federation of sandbox practices, the site's directory entries for them, and patients."""

    def __init__(self) -> None:
        self.federation = Federation.objects.create(name="North Riverside GP Federation")
        self.sandbox_practices = {}
        self.practices = {}
        for ods, name in [("A20047", "Riverside Medical Practice"), ("B82617", "Hill Surgery")]:
            self.add_practice(ods, name)
        home = self.sandbox_practices["A20047"]
        sandbox.make_patient(home, sandbox.PATIENT_NHS_NUMBER)
        sandbox.make_patient(home, sandbox.OTHER_NHS_NUMBER)
        self.patient = make_patient(
            nhs_number=sandbox.PATIENT_NHS_NUMBER, practice=self.practices["A20047"]
        )
        self.other_patient = make_patient(
            nhs_number=sandbox.OTHER_NHS_NUMBER, practice=self.practices["A20047"]
        )

    def add_practice(self, ods: str, name: str, **switches) -> SitePractice:
        sandbox_practice = sandbox.make_practice(ods, name=name, **switches)
        self.sandbox_practices[ods] = sandbox_practice
        site = SitePractice.objects.create(
            ods_code=ods,
            name=name,
            federation=self.federation,
            base_url=f"{SANDBOX}/{ods}/FHIR/STU3/",
            phone="01632 960100",
            address="1 Surgery Lane, Riverside",
        )
        self.practices[ods] = site
        return site

    def slots(self, ods: str, start: datetime.datetime, count: int, **fields):
        practice = self.sandbox_practices[ods]
        schedule = sandbox.make_schedule(practice)
        return sandbox.make_slots(schedule, start, count, **fields)


@pytest.fixture
def world(transactional_db) -> World:
    return World()


def answers_on_check(client) -> str:
    """The signed answers of the check-answers page as it is now ("" if it redirects)."""
    page = client.get("/book/check/")
    found = re.search(r'name="answers" value="([^"]+)"', page.content.decode())
    return found.group(1) if found else ""


def press_book(client, answers: str | None = None, **kwargs):
    """Press "Book appointment" on the check-answers page (the one shown now, or the page whose
    ``answers`` are given: a second press of the same page)."""
    if answers is None:
        answers = answers_on_check(client)
    return client.post("/book/check/", {"answers": answers}, **kwargs)
