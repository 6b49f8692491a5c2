"""Reading one appointment and retrieving a patient's appointments: CONFORMANCE §5.1, §5.2,
§7.15 and §7.16."""

import pytest

from gp_sandbox import factories
from gp_sandbox.factories import uk
from tests.gp_sandbox.checks import assert_outcome, entries
from tests.gp_sandbox.sandbox_api import SandboxApi

pytestmark = pytest.mark.usefixtures("clock")

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
REASON_EXT = SD + "Extension-GPConnect-AppointmentCancellationReason-1"
WEEK = "start=ge2027-03-22&start=le2027-03-28"


def book(api, schedule, start: str, minutes: int = 10) -> dict:
    slot = factories.make_slot(schedule, uk(start), minutes=minutes)
    response = api.book(factories.appointment_body([slot]))
    assert response.status_code == 201, response.content
    return response.json()


def cancel(api, resource: dict) -> dict:
    body = resource | {
        "status": "cancelled",
        "extension": [*resource["extension"], {"url": REASON_EXT, "valueString": "Feeling better"}],
    }
    response = api.cancel(resource["id"], body)
    assert response.status_code == 200, response.content
    return response.json()


# --- Read one appointment (§5.2) -----------------------------------------------------------


def test_reading_an_appointment_returns_what_was_booked_with_its_etag(api, schedule):
    created = book(api, schedule, "2027-03-23 09:00")

    response = api.read(created["id"])

    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert response["Cache-Control"] == "no-store"
    assert response.json() == created


def test_a_cancelled_appointment_can_still_be_read(api, schedule):
    created = book(api, schedule, "2027-03-23 09:00")
    cancel(api, created)

    response = api.read(created["id"])

    assert response.status_code == 200
    assert response["ETag"] == 'W/"2"'
    assert response.json()["status"] == "cancelled"
    assert response.json()["meta"]["versionId"] == "2"


@pytest.mark.parametrize("appointment_id", ["999999", "Invalid4321", "8888888888", "1.5", "-1"])
def test_reading_an_unknown_appointment_finds_no_record(api, appointment_id):
    response = api.read(appointment_id)

    assert_outcome(response, 404, "NO_RECORD_FOUND", f"Appointment/{appointment_id}")


def test_an_appointment_at_another_practice_is_not_found_here(client, api, practice):
    elsewhere = factories.make_practice()
    other_api = SandboxApi(client, elsewhere.ods_code, factories.PATIENT_NHS_NUMBER)
    created = book(other_api, factories.make_schedule(elsewhere), "2027-03-23 09:00")

    assert_outcome(api.read(created["id"]), 404, "NO_RECORD_FOUND")


def test_reading_another_patient_s_appointment_is_denied(client, api, practice, schedule):
    created = book(api, schedule, "2027-03-23 09:00")
    other = factories.make_patient(practice, factories.OTHER_NHS_NUMBER)
    other_api = SandboxApi(client, practice.ods_code, other.nhs_number)

    response = other_api.read(created["id"])

    assert_outcome(response, 403, "ACCESS_DENIED", "not the patient of the access token")


def test_registered_patients_only_hides_a_visitor_s_appointments(client, practice, schedule):
    visitor = factories.make_patient(factories.make_practice(), factories.OTHER_NHS_NUMBER)
    visitor_api = SandboxApi(client, practice.ods_code, visitor.nhs_number)
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    created = visitor_api.book(factories.appointment_body([slot], visitor.nhs_number)).json()
    practice.registered_patients_only = True
    practice.save()

    read = visitor_api.read(created["id"])
    listed = visitor_api.appointments(visitor.nhs_number, WEEK)

    assert_outcome(read, 403, "ACCESS_DENIED", "not registered at A20047")
    assert_outcome(listed, 403, "ACCESS_DENIED", "not registered at A20047")


# --- A patient's appointments (§5.1, §7.15) ------------------------------------------------


def test_retrieve_lists_the_patient_s_appointments_in_order_including_cancelled_ones(
    client, api, practice, schedule
):
    later = book(api, schedule, "2027-03-25 11:00")
    earlier = book(api, schedule, "2027-03-23 09:00")
    cancelled = cancel(api, book(api, schedule, "2027-03-24 10:00"))
    other = factories.make_patient(practice, factories.OTHER_NHS_NUMBER)
    other_api = SandboxApi(client, practice.ods_code, other.nhs_number)
    slot = factories.make_slot(schedule, uk("2027-03-23 12:00"))
    assert other_api.book(factories.appointment_body([slot], other.nhs_number)).status_code == 201

    response = api.appointments(factories.PATIENT_NHS_NUMBER, WEEK)

    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset"
    assert bundle["meta"]["profile"] == [SD + "GPConnect-Searchset-Bundle-1"]
    assert all("fullUrl" not in entry for entry in bundle["entry"])
    found = entries(bundle, "Appointment")
    assert [a["id"] for a in found] == [earlier["id"], cancelled["id"], later["id"]]
    assert [a["status"] for a in found] == ["booked", "cancelled", "booked"]
    assert [a["meta"]["versionId"] for a in found] == ["1", "2", "1"]
    assert found[0]["serviceType"] == [{"text": "General appointment"}]
    assert found[0]["serviceCategory"] == {"text": "Morning surgery"}


def test_retrieve_covers_the_whole_of_the_last_day_and_nothing_after(api, schedule):
    last_minute = book(api, schedule, "2027-03-24 23:50")
    book(api, schedule, "2027-03-25 00:00")

    response = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-23&start=le2027-03-24"
    )

    assert [a["id"] for a in entries(response.json())] == [last_minute["id"]]


def test_retrieve_from_today_includes_an_appointment_that_has_already_started(api, schedule, clock):
    started = book(api, schedule, "2027-03-22 09:30")
    clock.set(uk("2027-03-22 09:35"))

    response = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-22&start=le2027-03-22"
    )

    assert [a["id"] for a in entries(response.json())] == [started["id"]]


def test_retrieve_only_lists_this_practice_s_appointments(client, api, schedule):
    elsewhere = factories.make_practice()
    other_api = SandboxApi(client, elsewhere.ods_code, factories.PATIENT_NHS_NUMBER)
    book(other_api, factories.make_schedule(elsewhere), "2027-03-23 09:00")
    here = book(api, schedule, "2027-03-23 10:00")

    response = api.appointments(factories.PATIENT_NHS_NUMBER, WEEK)

    assert [a["id"] for a in entries(response.json())] == [here["id"]]


def test_retrieve_includes_practitioners_and_locations_when_asked(api, schedule):
    book(api, schedule, "2027-03-23 09:00")
    book(api, schedule, "2027-03-23 10:00")
    params = (
        WEEK
        + "&_include:recurse=Appointment:actor:Practitioner"
        + "&_include:recurse=Appointment:actor:Location"
    )

    bundle = api.appointments(factories.PATIENT_NHS_NUMBER, params).json()

    assert [p["id"] for p in entries(bundle, "Practitioner")] == [str(schedule.practitioner_id)]
    assert [loc["id"] for loc in entries(bundle, "Location")] == [str(schedule.location_id)]
    assert len(entries(bundle, "Appointment")) == 2


def test_retrieve_without_includes_lists_appointments_only(api, schedule):
    book(api, schedule, "2027-03-23 09:00")

    bundle = api.appointments(factories.PATIENT_NHS_NUMBER, WEEK).json()

    assert {r["resourceType"] for r in entries(bundle)} == {"Appointment"}


def test_retrieve_with_no_appointments_is_an_empty_searchset(api):
    response = api.appointments(factories.PATIENT_NHS_NUMBER, WEEK + "&_sort=start")

    assert response.status_code == 200
    assert response.json()["type"] == "searchset"
    assert "entry" not in response.json()


def test_retrieve_renders_summer_time_appointments_with_bst_offsets(api, schedule):
    book(api, schedule, "2027-03-29 09:00")

    response = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-22&start=le2027-04-01"
    )

    [appointment] = entries(response.json())
    assert appointment["start"] == "2027-03-29T09:00:00+01:00"
    assert appointment["created"] == "2027-03-01T12:00:00+00:00"
    assert appointment["meta"]["lastUpdated"] == "2027-03-22T09:00:00+00:00"


@pytest.mark.parametrize(
    ("params", "diagnostics"),
    [
        ("", "exactly two start parameters"),
        ("start=ge2027-03-22", "exactly two start parameters"),
        ("start=ge2027-03-22&start=le2027-03-23&start=le2027-03-24", "(got 3)"),
        ("start=ge2027-03-22&start=ge2027-03-23", "two ge values"),
        ("start=le2027-03-22&start=le2027-03-23", "two le values"),
        ("start=ge2027-03-22&start=lt2027-03-23", "prefix ge or le"),
        ("start=gt2027-03-22&start=le2027-03-23", "prefix ge or le"),
        ("start=ge2027-03-22&start=eq2027-03-23", "prefix ge or le"),
        ("start=eqs2027-03-22&start=le2027-03-23", "prefix ge or le"),
        ("start=random123&start=le2027-03-23", "prefix ge or le"),
        ("start=ge2027-03-22T10:00:00%2B00:00&start=le2027-03-23", "without a time"),
        ("start=ge2027-03-22T10:00:00Z&start=le2027-03-23", "without a time"),
        ("start=ge2027&start=le2027-03-23", "without a time"),
        ("start=ge2027-03&start=le2027-03-23", "without a time"),
        ("start=ge2027-02-30&start=le2027-03-23", "not a real date"),
        ("start=ge2027-03-21&start=le2027-03-23", "is in the past"),
        ("start=ge2027-03-24&start=le2027-03-23", "le is before start=ge"),
        (WEEK + "&_include:recurse=Appointment:actor:Device", "Appointment:actor:Device"),
    ],
)
def test_bad_retrieve_parameters_are_invalid_parameters(api, params, diagnostics):
    response = api.appointments(factories.PATIENT_NHS_NUMBER, params)

    assert_outcome(response, 422, "INVALID_PARAMETER", diagnostics)


def test_retrieve_accepts_today_as_the_first_day(api):
    assert (
        api.appointments(
            factories.PATIENT_NHS_NUMBER, "start=ge2027-03-22&start=le2027-03-22"
        ).status_code
        == 200
    )


def test_retrieve_for_an_nhs_number_with_a_bad_check_digit_is_invalid(api):
    response = api.appointments(factories.BAD_CHECKSUM_NHS_NUMBER, WEEK)

    assert_outcome(response, 400, "INVALID_NHS_NUMBER", factories.BAD_CHECKSUM_NHS_NUMBER)


@pytest.mark.parametrize("patient_id", ["dd", "null", "123"])
def test_retrieve_for_a_patient_id_that_is_not_an_nhs_number_finds_no_patient(api, patient_id):
    response = api.appointments(patient_id, WEEK)

    assert_outcome(response, 404, "PATIENT_NOT_FOUND", f"Patient/{patient_id}")


def test_retrieve_for_another_patient_is_denied(api, practice):
    factories.make_patient(practice, factories.OTHER_NHS_NUMBER)

    response = api.appointments(factories.OTHER_NHS_NUMBER, WEEK)

    assert_outcome(response, 403, "ACCESS_DENIED", "not the patient of the access token")


def test_retrieve_for_a_patient_the_practice_system_does_not_know_finds_no_patient(
    client, practice
):
    stranger = SandboxApi(client, practice.ods_code, factories.THIRD_NHS_NUMBER)

    response = stranger.appointments(factories.THIRD_NHS_NUMBER, WEEK)

    assert_outcome(response, 404, "PATIENT_NOT_FOUND", factories.THIRD_NHS_NUMBER)


def test_past_appt_limit_adds_the_latest_past_appointments(api, schedule, clock):
    oldest = book(api, schedule, "2027-03-23 09:00")
    older = book(api, schedule, "2027-03-24 09:00")
    latest = book(api, schedule, "2027-03-25 09:00")
    upcoming = book(api, schedule, "2027-03-29 09:00")
    clock.set(uk("2027-03-26 08:00"))

    response = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-26&start=le2027-04-02&past-appt-limit=2"
    )
    without = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-26&start=le2027-04-02"
    )

    assert [a["id"] for a in entries(response.json())] == [
        older["id"],
        latest["id"],
        upcoming["id"],
    ]
    assert [a["id"] for a in entries(without.json())] == [upcoming["id"]]
    assert oldest["id"] not in {a["id"] for a in entries(response.json())}


@pytest.mark.parametrize("limit", ["0", "-1", "two", "1001", "2&past-appt-limit=3"])
def test_a_bad_past_appt_limit_is_an_invalid_parameter(api, limit):
    response = api.appointments(
        factories.PATIENT_NHS_NUMBER,
        f"start=ge2027-03-22&start=le2027-03-28&past-appt-limit={limit}",
    )

    assert response.status_code == 422
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "INVALID_PARAMETER"
