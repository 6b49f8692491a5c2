"""What patients see: staff open the patients' results page for their practices and dates,
with nothing to choose; nobody else may."""

import re

import pytest
from django.urls import reverse

from tests.availability.conftest import at, next_monday

pytestmark = pytest.mark.django_db(transaction=True)


def patient_view(client, *codes: str):
    start = next_monday()
    query = {"practices": list(codes), "start": start.isoformat(), "end": start.isoformat()}
    return client.get(reverse("availability:patient_view"), query)


def test_staff_see_the_patients_results_for_their_federation_without_anything_to_choose(world):
    world.slots("A20047", at(next_monday(), 9), 2, service_type="Blood test")
    world.slots("B86019", at(next_monday(), 10), 1, service_type="Asthma review")

    page = patient_view(world.client_for(world.staff), "A20047", "B86019")

    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>What patients see</h1>" in text
    assert "This is a preview of what patients see. You cannot book from here." in text
    assert text.count("Preview only") == 3
    assert "Blood test" in text
    assert "Asthma review" in text
    assert "/book/details/" not in text
    # The filters keep the question (practices and dates) when applied.
    assert re.search(r'<input type="hidden" name="practices" value="A20047">', text)


def test_the_patient_view_offers_the_preview_page_from_the_staff_preview(world):
    query = {"who": "chosen", "practices": ["A20047"], "week": next_monday().isoformat()}

    page = world.client_for(world.staff).get(reverse("availability:preview"), query)

    assert reverse("availability:patient_view") in page.content.decode()


@pytest.mark.parametrize("who", ["patient", "without_permission", "other_staff"])
def test_nobody_but_the_federations_staff_may_see_it(world, who):
    page = patient_view(world.client_for(getattr(world, who)), "A20047")

    assert page.status_code == 403


def test_anonymous_people_are_sent_to_sign_in(world):
    page = patient_view(world.client_for(None), "A20047")

    assert page.status_code == 302
    assert reverse("accounts:sign_in") in page["Location"]


def test_an_unknown_practice_and_another_federations_are_refused_alike(world):
    """Nothing tells staff which practice codes exist outside their federations."""
    staff = world.client_for(world.staff)

    unknown = patient_view(staff, "Z99999")
    elsewhere = patient_view(staff, "B82617")

    assert unknown.status_code == elsewhere.status_code == 403
    assert b"Z99999" not in unknown.content
