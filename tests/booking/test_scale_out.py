"""Two instances of the site, one database and one Redis: patients racing for the last free time
across both get one booking between them, and everyone else is told it has just gone.

Each instance is the production entry point (uvicorn serving booking_site.asgi) in a process of
its own (tests/serving.py). Only the PostgreSQL + Redis run can share state between processes
as production does, so the test runs there alone.
"""

import datetime
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from booking_site.accounts.models import User
from booking_site.booking.models import Booking
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Practice as SandboxPractice
from tests.factories import NHS_NUMBERS, make_patient
from tests.serving import SiteServer, output_on_failure, serving

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or not settings.REDIS_URL,
        reason="two site instances share state only through PostgreSQL and Redis: "
        "set DATABASE_URL to PostgreSQL and REDIS_URL (the second run of .ci/run)",
    ),
]

ODS = "A20047"
# Valid NHS numbers (their check digits hold), one for each patient.
PATIENT_NHS_NUMBERS = [*NHS_NUMBERS, "9449310440"]
TAKEN = "Sorry, that time has just been booked"
BOOKED = "Appointment booked"


def tomorrow_at(hour: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=1)
    return sandbox.uk(f"{day.isoformat()} {hour:02d}:00")


@pytest.fixture
def sites(django_db_setup, tmp_path: Path) -> Iterator[list[SiteServer]]:
    """Two uvicorn processes serving the site on the test database, sharing Redis."""
    with ExitStack() as stack:
        first = stack.enter_context(serving(tmp_path))
        yield [first, stack.enter_context(serving(tmp_path, sandbox_url=first.sandbox_url))]


@dataclass
class Patient:
    """A signed-in patient's browser, as far as the server can tell: cookies and pages."""

    user: User
    http: httpx.Client
    responses: list[httpx.Response] = field(default_factory=list)

    def get(self, url: str) -> httpx.Response:
        return self._send("GET", url)

    def post(self, url: str, data: dict[str, str], *, follow: bool = False) -> httpx.Response:
        return self._send("POST", url, data=data, follow_redirects=follow)

    def _send(self, method: str, url: str, **options) -> httpx.Response:
        response = self.http.request(method, url, **options)
        self.responses.extend([*response.history, response])
        return response


def signed_in(user: User, clients: ExitStack) -> Patient:
    """An HTTP client carrying `user`'s session cookie, for both instances (127.0.0.1), closed
    with `clients`."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    name = settings.SESSION_COOKIE_NAME
    http = clients.enter_context(httpx.Client(timeout=30))
    http.cookies.set(name, client.cookies[name].value, domain="127.0.0.1")
    return Patient(user, http)


def csrf_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, f"no CSRF token in the form of {page.url}"
    return match[1]


def heading(page: httpx.Response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
    assert match, f"no heading on {page.url}"
    return " ".join(re.sub(r"<[^>]+>", "", match[1]).split())


def expect_redirect(response: httpx.Response, path: str) -> None:
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == 302, f"{where} answered {response.status_code}"
    assert response.headers["location"] == path, f"{where} sent the patient elsewhere"


def signed_answers(page: httpx.Response) -> str:
    """The check-answers page's signed reference to what it books (issue 17)."""
    return re.search(r'name="answers" value="([^"]+)"', page.text).group(1)


def check_answers(patient: Patient, here: str, there: str, slot_id: int) -> dict[str, str]:
    """Go from the start of the journey to "Check your answers" for the slot, alternating
    between the two instances at each request; the CSRF token of the check page's form."""
    expect_redirect(patient.get(f"{here}/book/"), "/book/where/")
    where = patient.get(f"{there}/book/where/")
    answer = patient.post(
        f"{here}/book/where/", {"csrfmiddlewaretoken": csrf_token(where), "scope": "mine"}
    )
    expect_redirect(answer, "/book/when/")
    when = patient.get(f"{there}/book/when/")
    answer = patient.post(
        f"{here}/book/when/",
        {"csrfmiddlewaretoken": csrf_token(when), "period": "7", "js": ""},
    )
    expect_redirect(answer, "/book/times/")
    expect_redirect(
        patient.get(f"{there}/book/details/?practice={ODS}&slot={slot_id}"), "/book/details/"
    )
    details = patient.get(f"{here}/book/details/")
    answer = patient.post(
        f"{there}/book/details/",
        {"csrfmiddlewaretoken": csrf_token(details), "reason": "Sore knee", "note": ""},
    )
    expect_redirect(answer, "/book/check/")
    check = patient.get(f"{here}/book/check/")
    assert heading(check) == "Check your answers before booking"
    return {"csrfmiddlewaretoken": csrf_token(check), "answers": signed_answers(check)}


def test_patients_racing_for_one_time_across_two_instances_book_it_once(
    sites: list[SiteServer],
):
    with output_on_failure(*sites), ExitStack() as clients:
        # Given a practice with one free time tomorrow, and six of its patients
        first, second = sites
        practice = sandbox.make_practice(ODS, name="Riverside Medical Practice")
        (slot,) = sandbox.make_slots(sandbox.make_schedule(practice), tomorrow_at(9), 1)
        site_practice = SitePractice.objects.create(
            ods_code=ODS,
            name="Riverside Medical Practice",
            base_url=f"{first.url}/sandbox/{ODS}/FHIR/STU3/",
            phone="01632 960100",
            address="1 Surgery Lane, Riverside",
        )
        patients = []
        for nhs_number in PATIENT_NHS_NUMBERS:
            sandbox.make_patient(SandboxPractice.objects.get(ods_code=ODS), nhs_number)
            patients.append(
                signed_in(
                    make_patient(
                        nhs_number=nhs_number,
                        practice=site_practice,
                        sandbox_url=first.sandbox_url,
                    ),
                    clients,
                )
            )

        # And each has chosen that time and is checking their answers, half of them on each instance
        tokens = []
        for n, patient in enumerate(patients):
            here, there = (first.url, second.url) if n % 2 == 0 else (second.url, first.url)
            tokens.append(check_answers(patient, here, there, slot.pk))

        # When they all press "Book appointment" at the same moment, half on each instance
        barrier = threading.Barrier(len(patients))

        def book(n: int) -> httpx.Response:
            barrier.wait()
            site = sites[n % 2]
            return patients[n].post(f"{site.url}/book/check/", tokens[n], follow=True)

        with ThreadPoolExecutor(max_workers=len(patients)) as pool:
            finals = list(pool.map(book, range(len(patients))))

        # Then no request failed on the server
        errors = [
            f"{r.request.method} {r.request.url}: {r.status_code}"
            for patient in patients
            for r in patient.responses
            if r.status_code >= 500
        ]
        assert not errors, "\n".join(errors)

        # And one patient was booked; every other one was told the time had just been taken
        headings = [heading(page) for page in finals]
        assert sorted(headings) == sorted([BOOKED] + [TAKEN] * (len(patients) - 1)), headings
        for page in finals:
            if heading(page) == TAKEN:
                assert page.url.path == "/book/taken/"
        winner = patients[headings.index(BOOKED)].user

        # And the practice holds exactly one appointment, for that patient
        appointment = SandboxAppointment.objects.get()
        assert appointment.patient_nhs_number == winner.nhs_number
        assert list(appointment.slots.all()) == [slot]

        # And the site holds one booking of it, and no patient has more than one booking row
        booked = Booking.objects.get(status=Booking.Status.BOOKED)
        assert booked.patient == winner
        assert booked.appointment_id == str(appointment.pk)
        rows = Counter(Booking.objects.values_list("patient_id", flat=True))
        assert all(count == 1 for count in rows.values()), rows
        assert not Booking.objects.filter(status=Booking.Status.PENDING).exists()
