import json

import pytest
from django.core.management import CommandError, call_command

from booking_site.practices.models import Federation, Practice

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "practices": [
        {
            "ods_code": "A20047",
            "name": "Riverside Medical Centre",
            "federation": "North Riverside GP Federation",
            "phone": "01632 960100",
            "address": "1 River Road, Riverside, RS1 1AA",
            "base_url": "http://127.0.0.1:8000/sandbox/A20047/FHIR/STU3/",
        },
        {
            "ods_code": "B82617",
            "name": "Hill Street Surgery",
            "federation": "North Riverside GP Federation",
            "phone": "01632 960200",
            "address": "2 Hill Street, Riverside, RS2 2BB",
            "base_url": "http://127.0.0.1:8000/sandbox/B82617/FHIR/STU3/",
        },
    ],
    "patients": [
        {
            "nhs_number": "9000000009",
            "given": "Jane",
            "family": "Smith",
            "birth_date": "1985-04-12",
            "registered_practice_ods": "A20047",
            "email": "Jane.Smith@example.com",
            "password": "Demo-password-2026",
        }
    ],
}


def test_loading_the_directory_creates_federations_and_practices(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(DOCUMENT))

    call_command("load_practice_directory", str(path))

    federation = Federation.objects.get()
    assert federation.name == "North Riverside GP Federation"
    assert sorted(federation.practices.values_list("ods_code", flat=True)) == ["A20047", "B82617"]
    assert Practice.objects.get(ods_code="B82617").base_url.endswith("/B82617/FHIR/STU3/")


def test_loading_the_same_directory_twice_changes_nothing(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(DOCUMENT))

    call_command("load_practice_directory", str(path))
    call_command("load_practice_directory", str(path))

    assert Practice.objects.count() == 2
    assert Federation.objects.count() == 1


def test_an_unreadable_directory_is_a_clear_command_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")

    with pytest.raises(CommandError, match="Could not read the practice directory"):
        call_command("load_practice_directory", str(path))
