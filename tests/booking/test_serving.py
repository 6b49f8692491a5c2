"""The site as production serves it: uvicorn running booking_site.asgi, in a process of its own,
reaching the sandbox over HTTP at its own address as it would a practice."""

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Practice as SandboxPractice
from tests.booking.test_scale_out import ODS, csrf_token, expect_redirect, signed_in, tomorrow_at
from tests.factories import make_patient
from tests.serving import SiteServer, output_on_failure, serving

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(django_db_setup, tmp_path: Path) -> Iterator[SiteServer]:
    with serving(tmp_path) as server:
        yield server


def test_a_patients_slot_search_through_the_production_entry_point_finds_the_practices_times(
    site: SiteServer,
):
    with output_on_failure(site), ExitStack() as clients:
        # Given a practice with two free times tomorrow, and one of its patients signed in
        practice = sandbox.make_practice(ODS, name="Riverside Medical Practice")
        first, second = sandbox.make_slots(sandbox.make_schedule(practice), tomorrow_at(9), 2)
        site_practice = SitePractice.objects.create(
            ods_code=ODS,
            name="Riverside Medical Practice",
            base_url=f"{site.url}/sandbox/{ODS}/FHIR/STU3/",
            phone="01632 960100",
            address="1 Surgery Lane, Riverside",
        )
        sandbox.make_patient(SandboxPractice.objects.get(ods_code=ODS), sandbox.PATIENT_NHS_NUMBER)
        patient = signed_in(
            make_patient(
                nhs_number=sandbox.PATIENT_NHS_NUMBER,
                practice=site_practice,
                sandbox_url=site.sandbox_url,
            ),
            clients,
        )

        # When they ask for their own practice in the next 7 days
        where = patient.get(f"{site.url}/book/where/")
        expect_redirect(
            patient.post(
                f"{site.url}/book/where/",
                {"csrfmiddlewaretoken": csrf_token(where), "scope": "mine"},
            ),
            "/book/when/",
        )
        when = patient.get(f"{site.url}/book/when/")
        expect_redirect(
            patient.post(
                f"{site.url}/book/when/", {"csrfmiddlewaretoken": csrf_token(when), "period": "7"}
            ),
            "/book/times/",
        )
        results = patient.get(f"{site.url}/book/times/")

        # Then the practice was asked and both of its times are offered
        assert results.status_code == 200
        assert "could not be checked" not in results.text
        offered = re.findall(rf"/book/details/\?practice={ODS}&amp;slot=(\d+)", results.text)
        assert offered == [str(first.pk), str(second.pk)]
