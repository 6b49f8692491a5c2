import json
import re
from collections import Counter
from datetime import date, time, timedelta
from io import StringIO

import holidays
import nhs_number
import pytest
from django.core.management import call_command
from django.utils import timezone

from gp_sandbox import seed as sandbox_seed
from gp_sandbox.models import (
    Location,
    LoginIdentity,
    Patient,
    Practice,
    Practitioner,
    Schedule,
    Slot,
)
from gp_sandbox.nhs_login.identities import sub_for_email, sub_for_nhs_number
from gp_sandbox.seed import SDS_JOB_ROLES

pytestmark = pytest.mark.django_db

# A Tuesday whose eight weeks take in Christmas Day (Fri 25 Dec), Boxing Day observed
# (Mon 28 Dec) and New Year's Day (Fri 1 Jan 2027).
WINTER_TODAY = date(2026, 12, 1)
WINTER_BANK_HOLIDAYS = [date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)]
# The practice whose diary is labelled badly on purpose (for the staff preview's label checks).
BADLY_LABELLED = "B86147"


@pytest.fixture(scope="module")
def winter(django_db_setup, django_db_blocker):
    """The sandbox seeded once (seed 7, today pinned) for this module's read-only tests."""
    with django_db_blocker.unblock():
        summary = sandbox_seed.seed(7, WINTER_TODAY)
    yield summary
    with django_db_blocker.unblock():
        sandbox_seed.clear()


def snapshot() -> dict[str, list[tuple]]:
    """Everything the seed decides, without database ids."""
    return {
        "practices": sorted(
            Practice.objects.values_list(
                "ods_code", "name", "federation", "phone", *Practice.SWITCHES
            )
        ),
        "practitioners": sorted(
            Practitioner.objects.values_list(
                "practice__ods_code", "sds_user_id", "prefix", "given", "family", "gender"
            )
        ),
        "slots": sorted(
            (ods, category, sds_id or "", start, end, service_type, channel, status)
            for ods, category, sds_id, start, end, service_type, channel, status in (
                Slot.objects.values_list(
                    "schedule__practice__ods_code",
                    "schedule__service_category",
                    "schedule__practitioner__sds_user_id",
                    "start",
                    "end",
                    "service_type",
                    "delivery_channel",
                    "status",
                )
            )
        ),
        "identities": sorted(
            LoginIdentity.objects.values_list(
                "sub", "identity_proofing_level", "patient__nhs_number", "email", "phone_number"
            ),
            key=str,
        ),
    }


def local_slot_times() -> list[tuple]:
    return [
        (timezone.localtime(start), timezone.localtime(end))
        for start, end in Slot.objects.values_list("start", "end")
    ]


def test_the_same_seed_gives_the_same_data_and_another_seed_different_diaries(winter):
    seeded_with_7 = snapshot()

    sandbox_seed.seed(7, WINTER_TODAY)
    again = snapshot()
    sandbox_seed.seed(8, WINTER_TODAY)
    other = snapshot()

    assert again == seeded_with_7
    assert len(again["slots"]) > 10_000
    # The practice directory and the people (their NHS login subs too) stay put; diaries change.
    assert other["practices"] == seeded_with_7["practices"]
    assert other["identities"] == seeded_with_7["identities"]
    assert other["practitioners"] != seeded_with_7["practitioners"]
    assert other["slots"] != seeded_with_7["slots"]


def test_diaries_run_for_eight_weeks_starting_tomorrow(winter):
    starts = [start for start, _ in local_slot_times()]

    assert min(starts).date() == date(2026, 12, 2)
    assert max(starts).date() == WINTER_TODAY + timedelta(weeks=8)
    assert winter.first_slot_day == date(2026, 12, 2)


def test_diaries_follow_the_given_today_and_skip_easter():
    today = date(2027, 3, 15)  # a Monday; Good Friday is 26 March, Easter Monday 29 March

    sandbox_seed.seed(7, today)

    days = {start.date() for start, _ in local_slot_times()}
    assert min(days) == date(2027, 3, 16)
    assert max(days) <= today + timedelta(weeks=8)
    assert date(2027, 3, 26) not in days
    assert date(2027, 3, 29) not in days
    assert date(2027, 5, 3) not in days  # Early May bank holiday
    assert date(2027, 3, 25) in days


def test_slots_are_only_on_weekdays_and_never_on_a_bank_holiday(winter):
    days = {start.date() for start, _ in local_slot_times()}
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027])

    assert {day.weekday() for day in days} == {0, 1, 2, 3, 4}
    for holiday in WINTER_BANK_HOLIDAYS:
        assert holiday in bank_holidays
        assert holiday not in days
    assert not days & set(bank_holidays)
    # The working days around them do have slots.
    assert {date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 31)} <= days


def test_sessions_keep_to_surgery_hours_with_evening_extended_access_at_a_few_practices(winter):
    times = local_slot_times()

    assert min(start.time() for start, _ in times) >= time(8, 30)
    assert max(end.time() for _, end in times) == time(20)
    evening = Practice.objects.filter(
        schedules__service_category="Extended access", schedules__slots__isnull=False
    ).distinct()
    assert 1 <= evening.count() <= 4


def test_there_are_several_federations_of_mostly_healthy_practices(winter):
    federations = winter.federations

    assert len(federations) >= 2
    assert sum(len(codes) for codes in federations.values()) == len(winter.practices) >= 8
    assert {"A20047", "B82617"} <= {practice.ods_code for practice in winter.practices}
    for practice in winter.practices:
        assert re.fullmatch(r"[A-Z]\d{5}", practice.ods_code)
        assert re.fullmatch(r"0\d{3} \d{3} \d{4}", practice.phone)
        assert re.search(r", [A-Z]{1,2}\d{1,2} \d[A-Z]{2}$", practice.address)
    healthy = [practice for practice in winter.practices if practice.healthy]
    assert len(healthy) > len(winter.practices) / 2
    for name in federations:
        assert len([practice for practice in healthy if practice.federation == name]) >= 3, name
    # "Healthy" is worked out from the practice's switches.
    assert [practice.healthy for practice in winter.practices] == [
        Practice.objects.get(ods_code=practice.ods_code).is_healthy for practice in winter.practices
    ]


def test_every_behaviour_switch_is_met_at_some_practice(winter):
    practices = Practice.objects.all()

    slow = practices.get(latency_ms__gte=1000)
    assert slow.latency_jitter_ms > 0
    assert practices.get(cancellation_cutoff_minutes__gt=0).cancellation_cutoff_minutes == 24 * 60
    # Each switch is set at exactly one practice; a refused cancellation (409) is met in tests.
    for switch in Practice.SWITCHES:
        if switch != "cancellation_refused":
            assert practices.exclude(**{switch: 0}).count() == 1, switch
    assert not practices.filter(cancellation_refused=True).exists()
    # The demonstrator practices behave.
    by_code = {practice.ods_code: practice for practice in winter.practices}
    assert by_code["A20047"].behaviour == by_code["B82617"].behaviour == "healthy"


def test_each_practice_has_one_or_two_surgeries_a_mixed_team_and_a_clinic_without_a_clinician(
    winter,
):
    surgeries = Counter(Location.objects.values_list("practice__ods_code", flat=True))
    assert set(surgeries.values()) == {1, 2}
    assert len(surgeries) == Practice.objects.count()

    # One GP's record has no job role or gender, on purpose, at the badly labelled practice.
    unlabelled = Practitioner.objects.filter(role_code="")
    assert list(unlabelled.values_list("practice__ods_code", "role_display", "gender")) == [
        (BADLY_LABELLED, "", "")
    ]
    roles = set(Practitioner.objects.exclude(role_code="").values_list("role_code", "role_display"))
    assert roles == set(SDS_JOB_ROLES.items())
    assert SDS_JOB_ROLES["R0260"] == "General Medical Practitioner"
    assert SDS_JOB_ROLES["R6200"] == "GP Registrar"
    # (The GP without a role is a doctor too.)
    doctors = Practitioner.objects.filter(role_code__in=["R0260", "R0270", "R6200", "R6300", ""])
    assert set(doctors.values_list("prefix", flat=True)) == {"Dr"}
    assert "Dr" not in set(
        Practitioner.objects.exclude(pk__in=doctors).values_list("prefix", flat=True)
    )
    assert set(
        Practitioner.objects.exclude(pk__in=unlabelled).values_list("gender", flat=True)
    ) == {
        "female",
        "male",
    }

    for practice in Practice.objects.all():
        assert practice.practitioners.count() >= 4
        assert practice.schedules.filter(practitioner__isnull=True).exists(), practice.ods_code


def test_slots_are_10_or_15_minutes_with_realistic_names_on_all_three_channels(winter):
    durations = {int((end - start).total_seconds() // 60) for start, end in local_slot_times()}
    service_types = set(Slot.objects.values_list("service_type", flat=True))
    categories = set(Schedule.objects.values_list("service_category", flat=True))
    channels = set(
        Slot.objects.exclude(schedule__practice__ods_code=BADLY_LABELLED).values_list(
            "delivery_channel", flat=True
        )
    )

    assert durations == {10, 15}
    assert channels == {"In-person", "Telephone", "Video"}
    assert {
        "General GP appointment",
        "Nurse appointment",
        "Blood test",
        "Medication review",
        "Asthma review",
        "Telephone consultation",
    } <= service_types
    assert {"Morning surgery", "Afternoon surgery", "Duty doctor", "Phlebotomy clinic"} <= (
        categories
    )


def test_one_practice_labels_its_diary_badly_on_purpose_and_no_other_does(winter):
    practice = next(p for p in winter.practices if p.ods_code == BADLY_LABELLED)
    free = Slot.objects.filter(status=Slot.Status.FREE)
    bad = free.filter(schedule__practice__ods_code=BADLY_LABELLED)
    elsewhere = free.exclude(schedule__practice__ods_code=BADLY_LABELLED)
    bad_names = {"EMBARGO", "Default slot", "Slot 1", "Slot 2", "BLOOD PRESSURE CHECK", ""}

    # It is an ordinary, healthy practice in a federation, with well labelled slots too.
    assert practice.federation == "North Riverside GP Federation"
    assert practice.healthy
    assert {"General GP appointment", "Blood test"} <= set(
        bad.values_list("service_type", flat=True)
    )
    # Free slots with every kind of bad label are there to find...
    assert bad_names <= set(bad.values_list("service_type", flat=True))
    assert bad.filter(delivery_channel="").exists()
    assert bad.filter(
        schedule__practitioner__role_code="", schedule__practitioner__gender=""
    ).exists()
    assert bad.filter(schedule__practitioner__isnull=True, service_type="").exists()
    # ...and only there.
    assert not elsewhere.filter(service_type__in=bad_names).exists()
    assert not elsewhere.filter(delivery_channel="").exists()


def test_about_a_third_of_slots_are_already_booked(winter):
    total = Slot.objects.count()
    busy = Slot.objects.filter(status=Slot.Status.BUSY).count()

    assert 0.25 <= busy / total <= 0.40
    assert (winter.slots, winter.busy_slots) == (total, busy)
    for practice in Practice.objects.all():
        assert Slot.objects.filter(schedule__practice=practice, status=Slot.Status.FREE).exists()


def test_demo_patients_have_valid_nhs_numbers_and_nhs_login_identities(winter):
    patients = winter.patients
    numbers = [patient.nhs_number for patient in patients]

    assert {"9000000009", "9449305552"} <= set(numbers)
    assert len(set(numbers)) == len(numbers) >= 4
    for patient in patients:
        assert nhs_number.is_valid(patient.nhs_number), patient.nhs_number
        assert patient.email == f"{patient.given}.{patient.family}@example.com".lower()
        assert patient.sub == str(sub_for_nhs_number(patient.nhs_number))
        assert re.fullmatch(r"\+447700900\d{3}", patient.phone_number)
        stored = Patient.objects.get(nhs_number=patient.nhs_number)
        assert stored.login_identity.identity_proofing_level == patient.identity_proofing_level
        assert stored.registered_practice.ods_code == patient.registered_practice_ods
        assert stored.birth_date == patient.birth_date
    # Patients registered where a practice rule bites, so testers meet it signed in.
    registered_at = {patient.registered_practice_ods for patient in patients}
    assert Practice.objects.get(registered_patients_only=True).ods_code in registered_at
    assert Practice.objects.get(cancellation_disabled=True).ods_code in registered_at
    levels = Counter(patient.identity_proofing_level for patient in patients)
    assert levels == {"P9": len(patients) - 1, "P5": 1}
    assert len({patient.phone_number for patient in patients}) == len(patients)


def test_one_nhs_login_user_has_no_nhs_number(winter):
    [user] = winter.nhs_login_users

    assert user.identity_proofing_level == "P0"
    assert user.sub == str(sub_for_email(user.email))
    stored = LoginIdentity.objects.get(sub=user.sub)
    assert stored.patient is None
    assert stored.nhs_number is None


def test_json_output_is_only_the_documented_document(settings):
    settings.SANDBOX_BASE_URL = "http://sandbox.test/sandbox"
    out = StringIO()

    call_command("seed_sandbox", "--seed", "3", "--json", stdout=out)

    document = json.loads(out.getvalue())
    assert set(document) == {"federations", "practices", "patients", "nhs_login_users"}
    practices = document["practices"]
    assert len(practices) == Practice.objects.count() >= 8
    for practice in practices:
        assert set(practice) == {
            "ods_code",
            "name",
            "federation",
            "phone",
            "address",
            "base_url",
            "online_booking",
        }
        assert practice["base_url"] == (
            f"http://sandbox.test/sandbox/{practice['ods_code']}/FHIR/STU3/"
        )
    for federation in document["federations"]:
        assert set(federation) == {"name", "practices"}
        assert {p["federation"] for p in practices if p["ods_code"] in federation["practices"]} == {
            federation["name"]
        }
    assert sorted(code for f in document["federations"] for code in f["practices"]) == sorted(
        p["ods_code"] for p in practices
    )
    amelia = next(p for p in document["patients"] if p["nhs_number"] == "9000000009")
    assert amelia == {
        "nhs_number": "9000000009",
        "given": "Amelia",
        "family": "Clarke",
        "birth_date": "1985-03-14",
        "registered_practice_ods": "A20047",
        "email": "amelia.clarke@example.com",
        "phone_number": "+447700900101",
        "sub": str(sub_for_nhs_number("9000000009")),
        "identity_proofing_level": "P9",
    }
    sophie = next(p for p in document["patients"] if p["identity_proofing_level"] == "P5")
    assert nhs_number.is_valid(sophie["nhs_number"])
    assert document["nhs_login_users"] == [
        {
            "sub": str(sub_for_email("sam.okafor@example.com")),
            "identity_proofing_level": "P0",
            "email": "sam.okafor@example.com",
            "phone_number": "+447700900110",
        }
    ]


def test_if_empty_leaves_a_seeded_sandbox_alone(winter):
    Practice.objects.filter(ods_code="A20047").update(unavailable=True)
    slots = Slot.objects.count()
    out = StringIO()

    call_command("seed_sandbox", "--if-empty", "--seed", "99", stdout=out)

    assert "already has 17 practices" in out.getvalue()
    assert Practice.objects.get(ods_code="A20047").unavailable
    assert Slot.objects.count() == slots


def test_if_empty_with_json_describes_the_existing_sandbox(winter):
    out = StringIO()

    call_command("seed_sandbox", "--if-empty", "--json", stdout=out)

    document = json.loads(out.getvalue())
    assert [p["ods_code"] for p in document["practices"]] == [p.ods_code for p in winter.practices]
    assert len(document["patients"]) == len(winter.patients)


def test_if_empty_seeds_an_empty_sandbox_and_prints_a_summary():
    sandbox_seed.clear()
    out = StringIO()

    call_command("seed_sandbox", "--if-empty", stdout=out)

    output = out.getvalue()
    assert Practice.objects.count() >= 8
    assert Slot.objects.count() > 10_000
    assert "Seeded the provider sandbox (seed 1)" in output
    assert "North Riverside GP Federation" in output
    assert "A20047" in output
    assert "9000000009" in output
    assert "amelia.clarke@example.com" in output
    assert "sam.okafor@example.com" in output
    # The command's today is the real local date: slots start tomorrow.
    first = Slot.objects.order_by("start").first()
    assert timezone.localtime(first.start).date() > timezone.localdate()
