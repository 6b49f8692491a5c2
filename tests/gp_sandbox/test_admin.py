from datetime import timedelta

import pytest
from django.utils import timezone

from gp_sandbox import factories
from gp_sandbox.models import (
    Appointment,
    IdempotentRequest,
    Location,
    LoginIdentity,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice() -> Practice:
    """A small practice with one of everything the admin shows."""
    practice = factories.make_practice("A20047", federation="North Riverside GP Federation")
    location = factories.make_location(practice, "Riverside Medical Centre")
    schedule = factories.make_schedule(practice, location=location)
    slot = factories.make_slot(schedule, timezone.now() + timedelta(days=1), status="busy")
    factories.make_identity(factories.make_patient(practice, "9000000009"))
    factories.make_p0_identity("sam.okafor@example.com")
    appointment = Appointment.objects.create(
        practice=practice,
        patient_nhs_number="9000000009",
        start=slot.start,
        end=slot.end,
        resource={"resourceType": "Appointment"},
    )
    appointment.slots.add(slot)
    IdempotentRequest.objects.create(
        practice=practice,
        request_id="0b6f4d49-4a4e-4c4f-9d43-2a4c1d1b1a10",
        method="POST",
        path="/sandbox/A20047/FHIR/STU3/Appointment",
        status_code=201,
        body="{}",
    )
    return practice


def test_an_admin_sees_every_practice_with_its_switches_editable_in_the_list(
    admin_client, practice
):
    response = admin_client.get("/admin/sandbox/practice/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "A20047" in html
    assert "North Riverside GP Federation" in html
    for switch in Practice.SWITCHES:
        assert f'name="form-0-{switch}"' in html


def test_an_admin_can_switch_a_practice_off_from_the_list(admin_client, practice):
    # The changelist formset: unticked boxes are simply absent, as a browser sends them.
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(practice.pk),
        "form-0-unavailable": "on",
        "form-0-latency_ms": "1500",
        "form-0-latency_jitter_ms": "0",
        "form-0-cancellation_cutoff_minutes": "0",
        "_save": "Save",
    }

    response = admin_client.post("/admin/sandbox/practice/", form)

    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.unavailable
    assert practice.latency_ms == 1500
    assert not practice.hangs


def test_an_admin_can_open_a_practice_with_its_switches_grouped(admin_client, practice):
    response = admin_client.get(f"/admin/sandbox/practice/{practice.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    faults = html.index("Faults: how the practice system answers")
    rules = html.index("Practice rules")
    for switch in Practice.FAULT_SWITCHES:
        assert faults < html.index(f'name="{switch}"') < rules, switch
    for switch in Practice.RULE_SWITCHES:
        assert rules < html.index(f'name="{switch}"'), switch
    assert "Riverside Medical Centre" in html  # its surgeries, inline


@pytest.mark.parametrize(
    "model",
    [
        "location",
        "practitioner",
        "schedule",
        "slot",
        "patient",
        "appointment",
        "idempotentrequest",
    ],
)
def test_an_admin_can_list_and_open_every_sandbox_model(admin_client, practice, model):
    listing = admin_client.get(f"/admin/sandbox/{model}/")
    model_class = {
        "location": Location,
        "practitioner": Practitioner,
        "schedule": Schedule,
        "slot": Slot,
        "patient": Patient,
        "appointment": Appointment,
        "idempotentrequest": IdempotentRequest,
    }[model]
    detail = admin_client.get(f"/admin/sandbox/{model}/{model_class.objects.get().pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200


def test_appointments_and_replays_cannot_be_made_or_changed_in_the_admin(admin_client, practice):
    assert admin_client.get("/admin/sandbox/appointment/add/").status_code == 403
    assert admin_client.get("/admin/sandbox/idempotentrequest/add/").status_code == 403
    replay = IdempotentRequest.objects.get()
    response = admin_client.post(
        f"/admin/sandbox/idempotentrequest/{replay.pk}/change/", {"status_code": "500"}
    )
    assert response.status_code == 403
    replay.refresh_from_db()
    assert replay.status_code == 201
    appointment = Appointment.objects.get()
    admin_client.post(
        f"/admin/sandbox/appointment/{appointment.pk}/change/",
        {"status": "cancelled", "patient_nhs_number": "9449305552"},
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.patient_nhs_number) == ("booked", "9000000009")


def test_someone_not_signed_in_is_sent_to_the_admin_sign_in(client, practice):
    response = client.get("/admin/sandbox/practice/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/sandbox/practice/")


def test_an_admin_sees_nhs_login_identities_with_their_level_but_cannot_change_them(
    admin_client, practice
):
    response = admin_client.get("/admin/sandbox/loginidentity/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace (P9)" in html
    assert "sam.okafor@example.com (P0)" in html
    assert "9000000009" in html
    assert admin_client.get("/admin/sandbox/loginidentity/add/").status_code == 403
    identity = LoginIdentity.objects.get(patient__nhs_number="9000000009")
    change = admin_client.post(
        f"/admin/sandbox/loginidentity/{identity.pk}/change/",
        {"identity_proofing_level": "P0", "email": "x@example.com"},
    )
    assert change.status_code == 403
    identity.refresh_from_db()
    assert identity.identity_proofing_level == "P9"


def test_the_admin_never_shows_nhs_login_tokens_or_codes(admin_client, practice):
    response = admin_client.get("/admin/")

    html = response.content.decode()
    assert "NHS login identities" in html
    assert "access token" not in html.lower()
    assert "authorisation code" not in html.lower()
