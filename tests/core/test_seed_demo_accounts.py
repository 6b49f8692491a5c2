import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

User = get_user_model()


def run() -> str:
    out = StringIO()
    call_command("seed_demo_accounts", stdout=out)
    return out.getvalue()


def test_creates_an_admin_superuser_and_prints_how_to_sign_in():
    output = run()

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("Demo-admin-2026")
    assert "admin" in output
    assert "Demo-admin-2026" in output
    assert "/admin/" in output


def test_the_admin_can_open_the_sandbox_switches_after_signing_in(client):
    run()

    response = client.post(
        "/admin/login/?next=/admin/sandbox/practice/",
        {"username": "admin", "password": "Demo-admin-2026"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/sandbox/practice/"
    assert client.get("/admin/sandbox/practice/").status_code == 200


def test_running_again_keeps_one_admin_and_restores_the_published_password():
    run()
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-a-tester")
    admin.is_superuser = False
    admin.save()

    output = run()

    assert User.objects.filter(username="admin").count() == 1
    admin.refresh_from_db()
    assert admin.check_password("Demo-admin-2026")
    assert admin.is_superuser
    assert "Reset" in output


def test_refuses_to_run_in_production(settings):
    settings.DJANGO_ENV = "production"

    with pytest.raises(CommandError, match="only runs when DJANGO_ENV is local or test"):
        run()

    assert not User.objects.filter(username="admin").exists()


def test_with_a_seed_document_it_lists_the_demo_patients_and_makes_no_accounts(tmp_path):
    """Patients' accounts come only from NHS login: the command tells testers whom to pick at
    the stand-in, and makes nothing."""
    document = {
        "patients": [
            {
                "nhs_number": "9000000009",
                "given": "Amelia",
                "family": "Clarke",
                "birth_date": "1984-03-15",
                "registered_practice_ods": "A20047",
                "identity_proofing_level": "P9",
                "email": "amelia.clarke@example.com",
            }
        ],
        "nhs_login_users": [
            {"sub": "x", "identity_proofing_level": "P0", "email": "sam.okafor@example.com"}
        ],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    out = StringIO()

    call_command("seed_demo_accounts", "--patients", str(path), stdout=out)

    assert not User.objects.exclude(username="admin").exists()
    assert "Amelia Clarke  P9  NHS number 9000000009  A20047" in out.getvalue()
    assert "sam.okafor@example.com  P0  no NHS number  no practice" in out.getvalue()


def test_creates_a_practice_staff_sign_in_at_a_north_riverside_practice(client):
    from booking_site.practices.models import Federation, Practice

    riverside = Federation.objects.create(name="North Riverside GP Federation")
    hillcrest = Federation.objects.create(name="Hillcrest Primary Care Network")
    for ods, federation in [("B86019", riverside), ("A20047", riverside), ("B82617", hillcrest)]:
        Practice.objects.create(
            ods_code=ods, name=f"Surgery {ods}", federation=federation, base_url="http://x/"
        )

    output = run()
    run()

    staff = User.objects.get(username="staff@example.com")
    assert staff.check_password("Demo-staff-2026")
    assert staff.groups.filter(name="Practice staff").exists()
    assert staff.has_perm("availability.view_preview")
    assert list(staff.staff_practices.values_list("ods_code", flat=True)) == ["A20047"]
    assert not staff.is_patient
    assert not staff.is_staff
    assert "staff@example.com  password Demo-staff-2026" in output
    assert "/staff/availability/" in output
    # They sign in with their staff account and can open the preview
    response = client.post(
        "/account/staff/sign-in/?next=/staff/availability/",
        {"email": "staff@example.com", "password": "Demo-staff-2026"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/availability/"
    assert client.get("/staff/availability/").status_code == 200


def test_without_a_north_riverside_practice_no_staff_sign_in_is_made():
    output = run()

    assert not User.objects.filter(username="staff@example.com").exists()
    assert "No staff sign-in" in output
