"""Cancelling: CONFORMANCE §5.3 and §7.17, with the practice's cancellation switches."""

import datetime
import json

import pytest

from gp_sandbox import factories
from gp_sandbox.factories import uk
from gp_sandbox.models import Appointment, Slot
from tests.gp_sandbox.checks import assert_outcome, entries
from tests.gp_sandbox.sandbox_api import SandboxApi

pytestmark = pytest.mark.usefixtures("clock")

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
REASON_EXT = SD + "Extension-GPConnect-AppointmentCancellationReason-1"
SEARCH = "start=ge2027-03-23&end=le2027-03-24&status=free&_include=Slot:schedule"


@pytest.fixture
def slots(schedule):
    return factories.make_slots(schedule, uk("2027-03-23 09:00"), 2)


@pytest.fixture
def booked(api, slots):
    """The appointment as the consumer last read it."""
    assert api.book(factories.appointment_body(slots, comment="Side door")).status_code == 201
    read = api.read(Appointment.objects.get().pk)
    return read.json()


def cancellation(resource: dict, why: object = "Feeling better", **changes: object) -> dict:
    """The read copy with only the status and the reason changed, as §5.3 asks."""
    body = json.loads(json.dumps(resource))
    body["status"] = "cancelled"
    body["extension"].append({"url": REASON_EXT, "valueString": why})
    return body | changes


# --- Success -------------------------------------------------------------------------------


def test_cancelling_returns_the_cancelled_appointment_with_a_new_version(api, booked, slots):
    response = api.cancel(booked["id"], cancellation(booked), **{"If-Match": 'W/"1"'})

    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    resource = response.json()
    assert resource["status"] == "cancelled"
    assert resource["meta"]["versionId"] == "2"
    assert resource["extension"][-1] == {"url": REASON_EXT, "valueString": "Feeling better"}
    unchanged = {k: v for k, v in resource.items() if k not in {"status", "extension", "meta"}}
    assert unchanged == {
        k: v for k, v in booked.items() if k not in {"status", "extension", "meta"}
    }
    appointment = Appointment.objects.get()
    assert appointment.status == "cancelled"
    assert appointment.version_id == 2
    assert appointment.cancellation_reason == "Feeling better"


def test_cancelling_frees_the_slots_for_booking_again(api, booked, slots):
    api.cancel(booked["id"], cancellation(booked))

    assert set(Slot.objects.values_list("status", flat=True)) == {"free"}
    found = {s["id"] for s in entries(api.search(SEARCH).json(), "Slot")}
    assert found == {str(slot.pk) for slot in slots}
    assert api.book(factories.appointment_body(slots)).status_code == 201


def test_cancelling_without_if_match_is_allowed(api, booked):
    assert api.cancel(booked["id"], cancellation(booked)).status_code == 200


def test_a_long_cancellation_reason_is_kept_whole(api, booked):
    reason = "Not needed any more. " * 50

    response = api.cancel(booked["id"], cancellation(booked, reason))

    assert response.json()["extension"][-1]["valueString"] == reason


def test_a_retried_cancellation_returns_the_first_outcome(api, booked):
    request_id = "77777777-8888-4999-8aaa-bbbbbbbbbbbb"
    first = api.cancel(booked["id"], cancellation(booked), request_id=request_id)

    retry = api.cancel(booked["id"], cancellation(booked), request_id=request_id)

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry["ETag"] == 'W/"2"'
    assert Appointment.objects.get().version_id == 2


def test_a_cancellation_with_a_fresh_request_id_after_success_finds_it_already_cancelled(
    api, booked
):
    api.cancel(booked["id"], cancellation(booked))

    response = api.cancel(booked["id"], cancellation(booked))

    assert_outcome(response, 422, "INVALID_RESOURCE", "already cancelled")


# --- Refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['W/"2"', '"7"', "W/1x", ""])
def test_a_stale_if_match_is_a_constraint_violation(api, booked, if_match):
    response = api.cancel(booked["id"], cancellation(booked), **{"If-Match": if_match})

    assert_outcome(response, 409, "FHIR_CONSTRAINT_VIOLATION", 'current version is W/"1"')
    assert Appointment.objects.get().status == "booked"


@pytest.mark.parametrize("if_match", ['"1"', "*"])
def test_the_current_version_without_the_weak_prefix_or_any_version_is_accepted(
    api, booked, if_match
):
    response = api.cancel(booked["id"], cancellation(booked), **{"If-Match": if_match})

    assert response.status_code == 200


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_empty_cancellation_reason_is_an_invalid_parameter(api, booked, reason):
    response = api.cancel(booked["id"], cancellation(booked, reason))

    assert_outcome(response, 422, "INVALID_PARAMETER", "must not be empty")


def test_a_missing_cancellation_reason_is_an_invalid_parameter(api, booked):
    body = booked | {"status": "cancelled"}

    response = api.cancel(booked["id"], body)

    assert_outcome(response, 422, "INVALID_PARAMETER", "cancellation reason is required")


def test_a_cancellation_reason_that_is_not_text_is_an_invalid_resource(api, booked):
    response = api.cancel(booked["id"], cancellation(booked, 42))

    assert_outcome(response, 422, "INVALID_RESOURCE", "valueString must be a string")


def test_a_body_for_another_appointment_is_an_invalid_resource(api, booked):
    response = api.cancel(booked["id"], cancellation(booked, id="999"))

    assert_outcome(response, 422, "INVALID_RESOURCE", "does not match the URL")


@pytest.mark.parametrize("status", ["booked", "noshow", None])
def test_a_status_other_than_cancelled_is_an_invalid_resource(api, booked, status):
    response = api.cancel(booked["id"], cancellation(booked, status=status))

    assert_outcome(response, 422, "INVALID_RESOURCE", "status must be 'cancelled'")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"description": "Routine review updated"}, "description"),
        ({"comment": "Front door"}, "comment"),
        ({"start": "2027-03-23T09:10:00+00:00"}, "start"),
        ({"minutesDuration": 10}, "minutesDuration"),
        ({"serviceType": [{"text": "Something else"}]}, "serviceType"),
        ({"reason": [{"text": "Cough"}]}, "reason"),
        ({"participant": []}, "participant"),
        ({"slot": [{"reference": "Slot/1"}]}, "slot"),
        ({"contained": []}, "contained"),
        ({"meta": {"profile": []}}, "meta"),
    ],
)
def test_any_other_change_is_an_invalid_resource(api, booked, changes, named):
    response = api.cancel(booked["id"], cancellation(booked, **changes))

    assert_outcome(
        response, 422, "INVALID_RESOURCE", f"differ from the booked appointment: {named}"
    )
    assert Appointment.objects.get().status == "booked"


def test_leaving_out_an_element_is_a_change_too(api, booked):
    body = cancellation(booked)
    del body["comment"]

    assert_outcome(api.cancel(booked["id"], body), 422, "INVALID_RESOURCE", "comment")


def test_dropping_the_booking_organisation_extension_is_a_change(api, booked):
    body = cancellation(booked)
    body["extension"] = body["extension"][1:]

    assert_outcome(api.cancel(booked["id"], body), 422, "INVALID_RESOURCE", "extension")


@pytest.mark.parametrize("url", ["https://example.org/ext", "", None])
def test_an_unknown_extension_is_an_invalid_resource(api, booked, url):
    body = cancellation(booked)
    body["extension"].append({"url": url, "valueString": "x"})

    assert_outcome(api.cancel(booked["id"], body), 422, "INVALID_RESOURCE", "is not allowed")


def test_a_body_that_is_not_json_is_an_invalid_resource(api, booked):
    assert_outcome(api.cancel(booked["id"], "{oops"), 422, "INVALID_RESOURCE", "not valid JSON")


def test_a_past_appointment_cannot_be_cancelled(api, booked, clock):
    clock.set(uk("2027-03-23 09:00"))

    response = api.cancel(booked["id"], cancellation(booked))

    assert_outcome(response, 422, "INVALID_RESOURCE", "past appointments cannot be cancelled")


def test_cancelling_an_unknown_appointment_finds_no_record(api, booked):
    response = api.cancel("424242", cancellation(booked, id="424242"))

    assert_outcome(response, 404, "NO_RECORD_FOUND", "Appointment/424242")


def test_cancelling_another_patient_s_appointment_is_denied(client, practice, booked):
    other = factories.make_patient(practice, factories.OTHER_NHS_NUMBER)
    other_api = SandboxApi(client, practice.ods_code, other.nhs_number)

    response = other_api.cancel(booked["id"], cancellation(booked))

    assert_outcome(response, 403, "ACCESS_DENIED", "not the patient of the access token")
    assert Appointment.objects.get().status == "booked"


# --- The practice's cancellation switches --------------------------------------------------


def test_a_practice_that_disabled_cancellation_refuses_with_403(api, practice, booked):
    practice.cancellation_disabled = True
    practice.save()

    response = api.cancel(booked["id"], cancellation(booked))

    assert_outcome(response, 403, "ACCESS_DENIED", "Practice has disabled cancellation")
    assert Appointment.objects.get().status == "booked"


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (uk("2027-03-23 08:00"), 461),
        (uk("2027-03-23 07:59"), 200),
        (uk("2027-03-23 08:30"), 461),
    ],
    ids=["exactly at the cut-off", "a minute before the cut-off", "inside the cut-off"],
)
def test_inside_the_cancellation_cut_off_it_is_too_late(api, practice, booked, clock, now, status):
    practice.cancellation_cutoff_minutes = 60
    practice.save()
    clock.set(now)

    response = api.cancel(booked["id"], cancellation(booked))

    if status == 461:
        assert_outcome(response, 461, "ACCESS_DENIED", "Too late to cancel appointment")
        assert response.reason_phrase == "Too Late To Cancel"
    else:
        assert response.status_code == 200


def test_a_practice_that_refuses_cancellation_answers_409(api, practice, booked):
    practice.cancellation_refused = True
    practice.save()

    response = api.cancel(booked["id"], cancellation(booked))

    assert_outcome(response, 409, "ACCESS_DENIED", "Cannot cancel appointment")


def test_cancellation_switches_are_read_fresh_for_every_request(api, practice, booked):
    practice.cancellation_disabled = True
    practice.save()
    assert api.cancel(booked["id"], cancellation(booked)).status_code == 403
    practice.cancellation_disabled = False
    practice.save()

    assert api.cancel(booked["id"], cancellation(booked)).status_code == 200


def test_a_cancelled_appointment_keeps_its_slot_times(api, booked):
    api.cancel(booked["id"], cancellation(booked))

    appointment = Appointment.objects.get()
    assert appointment.start == uk("2027-03-23 09:00")
    assert appointment.end - appointment.start == datetime.timedelta(minutes=20)
