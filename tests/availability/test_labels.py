"""Slot label checks: the rules one by one, then the seeded practice that labels its diary badly
on purpose, searched through the sandbox like any other."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from booking_site import gpconnect
from booking_site.availability import presenters, services
from booking_site.availability.models import StaffSearch
from booking_site.gpconnect.values import LONDON
from booking_site.practices.directory import load_directory
from booking_site.practices.models import Practice
from gp_sandbox import seed as sandbox_seed
from tests.availability.conftest import make_user

GP = gpconnect.JobRole("R0260", "General Medical Practitioner")
DR_JONES = gpconnect.Clinician("7", "Dr Ann Jones", "female", GP)
_NOT_GIVEN = object()


def free_slot(
    slot_type: str | None = "General GP appointment",
    *,
    channel: str | None = "In-person",
    clinician: gpconnect.Clinician | object | None = _NOT_GIVEN,
    schedule_type: str | None = "Morning surgery",
) -> gpconnect.FreeSlot:
    clinician = DR_JONES if clinician is _NOT_GIVEN else clinician
    start = datetime.datetime(2027, 3, 22, 9, tzinfo=LONDON)
    schedule = gpconnect.ScheduleInfo(
        id="1",
        schedule_type=schedule_type,
        role=clinician.role if clinician else None,
        practitioner=clinician,
        location=gpconnect.Surgery("2", "Main Surgery", ("1 High Street", "Leeds"), "0113"),
        organisation=None,
    )
    return gpconnect.FreeSlot(
        "A20047",
        "Riverside",
        ("99",),
        start,
        start + datetime.timedelta(minutes=10),
        start.isoformat(),
        start.isoformat(),
        slot_type,
        channel,
        schedule,
    )


def codes(slot: gpconnect.FreeSlot) -> set[str]:
    return {problem.code for problem in services.label_problems(slot)}


@pytest.mark.parametrize(
    "slot_type",
    [
        "General GP appointment",
        "Blood test",
        "Test results",
        "Covid test",
        "ECG",
        "COPD review",
        "Administration of injections",
        "Slotted review",
        "Reservedly",
    ],
)
def test_clear_slot_types_are_not_flagged(slot_type):
    assert codes(free_slot(slot_type)) == set()


@pytest.mark.parametrize(
    ("slot_type", "word"),
    [
        ("Default slot", "Default"),
        ("Slot 1", "Slot 1"),
        ("slot2", "slot2"),
        ("Reserved for 111", "Reserved"),
        ("Do not book", "Do not book"),
        ("DNB - duty", "DNB"),
        ("Admin", "Admin"),
        ("GP (embargoed)", "embargoed"),
        ("Test", "Test"),
        ("Test appointment", "Test"),
        ("test slot 3", "slot 3"),
        ("Review TBC", "TBC"),
        ("N/A", "N/A"),
    ],
)
def test_internal_wording_is_flagged_as_a_whole_word_in_any_case(slot_type, word):
    problems = services.label_problems(free_slot(slot_type))

    assert [problem.code for problem in problems] == ["jargon"]
    assert problems[0].message == f"Uses internal wording (“{word}”)"


def test_capitals_are_flagged_but_short_abbreviations_are_not():
    assert codes(free_slot("EMBARGO")) == {"jargon", "capitals"}
    assert codes(free_slot("BLOOD PRESSURE CHECK")) == {"capitals"}
    assert codes(free_slot("ECG")) == set()
    assert codes(free_slot("COPD")) == set()


@pytest.mark.parametrize("slot_type", [None, "", "   "])
def test_a_slot_without_a_slot_type_is_flagged(slot_type):
    assert codes(free_slot(slot_type)) == {"no-type"}


def test_a_slot_without_a_delivery_channel_is_flagged():
    assert codes(free_slot(channel=None)) == {"no-channel"}


def test_a_clinician_without_a_role_or_gender_is_flagged():
    unlabelled = gpconnect.Clinician("8", "Dr Sam Lee", None, None)

    assert codes(free_slot(clinician=unlabelled)) == {"no-role", "no-gender"}


def test_no_clinician_is_fine_only_when_the_slot_type_says_what_it_is():
    assert codes(free_slot("Blood test", clinician=None)) == set()
    assert codes(free_slot("", clinician=None)) == {"no-type", "unclear-without-clinician"}
    assert codes(free_slot("Slot 1", clinician=None)) == {"jargon", "unclear-without-clinician"}


def test_schedule_types_with_internal_wording_or_capitals_are_flagged():
    assert codes(free_slot(schedule_type="DEFAULT SESSION")) == {
        "schedule-jargon",
        "schedule-capitals",
    }
    assert codes(free_slot(schedule_type=None)) == set()


def test_the_report_counts_flagged_slots_and_lists_slot_types_with_their_reasons():
    slots = [
        free_slot("Slot 1"),
        free_slot("Slot 1", channel=None),
        free_slot("General GP appointment"),
        free_slot(""),
    ]

    report = services.check_labels(slots)

    assert report.flagged_slots == 3
    assert [(f.slot_type, f.flagged_slots) for f in report.slot_types] == [("Slot 1", 2), ("", 1)]
    assert dict(report.slot_types[0].reasons) == {
        "Uses internal wording (“Slot 1”)": 2,
        "No delivery channel, so patients cannot tell if it is in person, by phone or by video": 1,
    }


# --- The seeded practice with bad labels -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_seeded_badly_labelled_practice_is_flagged_and_a_well_run_one_is_not(settings):
    # Given the seeded sandbox and the site's directory loaded from it, as `make run` does
    summary = sandbox_seed.seed(1, timezone.localdate())
    load_directory(summary.as_document())
    staff = make_user("staff@example.com", practices=[Practice.objects.get(ods_code="A20047")])
    practices = services.require_practices(staff, ["B86147", "A20047"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    dates = gpconnect.DateRange(tomorrow, tomorrow + datetime.timedelta(days=13))

    # When a member of North Riverside staff previews Beeston Hill and Riverside
    _, [beeston, riverside] = async_to_sync(services.preview)(
        staff, practices, dates, kind=StaffSearch.Kind.PREVIEW
    )

    # Then Beeston Hill's bad labels are found, slot type by slot type, with the reasons
    assert beeston.result.status == gpconnect.ResultStatus.SLOTS
    findings = {f.slot_type: dict(f.reasons) for f in beeston.labels.slot_types}
    assert {"EMBARGO", "Default slot", "Slot 1", "Slot 2", "BLOOD PRESSURE CHECK", ""} <= set(
        findings
    )
    assert "Uses internal wording (“EMBARGO”)" in findings["EMBARGO"]
    assert "Written in capital letters" in findings["EMBARGO"]
    assert "Written in capital letters" in findings["BLOOD PRESSURE CHECK"]
    assert "Uses internal wording (“Default”)" in findings["Default slot"]
    assert any(reason.startswith("No delivery channel") for reason in findings["Slot 1"])
    assert "No slot type, so patients are not told what it is for" in findings[""]
    # The GP whose record has no role or gender makes their slots hard to choose between
    reasons = {reason for found in findings.values() for reason in found}
    assert "The clinician has no job role" in reasons
    assert "The clinician's gender is not given" in reasons
    # And the phlebotomy rota, with no clinician, has unnamed slots that say nothing at all
    assert (
        "No clinician is named and the slot type does not say what the appointment is"
        in findings[""]
    )
    # And the count is of free slots with any problem, some but not all of them
    assert 0 < beeston.labels.flagged_slots < len(beeston.slots)
    assert beeston.labels.flagged_slots == sum(f.flagged_slots for f in beeston.labels.slot_types)
    # A properly labelled "Blood test" by a named nurse is not flagged
    nurse_blood_tests = [
        slot
        for slot in beeston.slots
        if slot.slot_type == "Blood test" and slot.practitioner is not None
    ]
    assert nurse_blood_tests
    assert not any(beeston.labels.problems(slot) for slot in nurse_blood_tests)
    # And Riverside, labelled as patients need, has nothing flagged
    assert riverside.result.status == gpconnect.ResultStatus.SLOTS
    assert riverside.labels.flagged_slots == 0
    # The page's findings table reads the same
    view = presenters.PracticeView.of(beeston, dates)
    assert view.flagged == beeston.labels.flagged_slots
    assert "(no slot type)" in {row.name for row in view.slot_types}
