"""Booking: CONFORMANCE §3, §4 and §7.4, §7.9–7.14."""

import copy
import datetime
import json

import pytest

from gp_sandbox import factories
from gp_sandbox.factories import uk
from gp_sandbox.models import Appointment, Slot
from tests.gp_sandbox.checks import assert_outcome
from tests.gp_sandbox.sandbox_api import SandboxApi

pytestmark = pytest.mark.usefixtures("clock")

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
BOOKING_EXT = SD + "Extension-GPConnect-BookingOrganisation-1"
CHANNEL_EXT = SD + "Extension-GPConnect-DeliveryChannel-2"
ROLE_EXT = SD + "Extension-GPConnect-PractitionerRole-1"
REASON_EXT = SD + "Extension-GPConnect-AppointmentCancellationReason-1"
SEARCH = "start=ge2027-03-23&end=le2027-03-24&status=free&_include=Slot:schedule"


@pytest.fixture
def slots(schedule):
    return factories.make_slots(schedule, uk("2027-03-23 09:00"), 2)


# --- Success -------------------------------------------------------------------------------


def test_booking_adjacent_slots_creates_the_appointment_and_returns_it(api, practice, slots):
    body = factories.appointment_body(slots, comment="Please use the side door")

    response = api.book(body)

    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get()
    assert response["Location"] == (
        f"http://testserver/sandbox/A20047/FHIR/STU3/Appointment/{appointment.pk}/_history/1"
    )
    assert response["ETag"] == 'W/"1"'
    assert response["Last-Modified"] == "Mon, 22 Mar 2027 09:00:00 GMT"
    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    resource = response.json()
    schedule = slots[0].schedule
    assert resource["resourceType"] == "Appointment"
    assert resource["id"] == str(appointment.pk)
    assert resource["meta"] == {
        "versionId": "1",
        "lastUpdated": "2027-03-22T09:00:00+00:00",
        "profile": [SD + "GPConnect-Appointment-1"],
    }
    assert resource["contained"] == body["contained"]
    assert resource["extension"] == [
        {"url": BOOKING_EXT, "valueReference": {"reference": "#1"}},
        {
            "url": ROLE_EXT,
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                        "code": "R0260",
                        "display": "General Medical Practitioner",
                    }
                ]
            },
        },
        {"url": CHANNEL_EXT, "valueCode": "In-person"},
    ]
    assert resource["status"] == "booked"
    assert resource["serviceCategory"] == {"text": "Morning surgery"}
    assert resource["serviceType"] == [{"text": "General appointment"}]
    assert resource["description"] == "Routine review"
    assert resource["comment"] == "Please use the side door"
    assert resource["start"] == "2027-03-23T09:00:00+00:00"
    assert resource["end"] == "2027-03-23T09:20:00+00:00"
    assert resource["minutesDuration"] == 20
    assert resource["slot"] == [{"reference": f"Slot/{slot.pk}"} for slot in slots]
    assert resource["created"] == "2027-03-01T12:00:00+00:00"
    assert [p["actor"]["reference"] for p in resource["participant"]] == [
        "Patient/9000000009",
        f"Location/{schedule.location_id}",
        f"Practitioner/{schedule.practitioner_id}",
    ]
    assert "reason" not in resource
    assert "specialty" not in resource
    assert appointment.patient_nhs_number == "9000000009"
    assert appointment.practice == practice
    assert set(appointment.slots.all()) == set(slots)


def test_booked_slots_become_busy_and_leave_the_search(api, slots):
    api.book(factories.appointment_body(slots))

    assert set(Slot.objects.values_list("status", flat=True)) == {"busy"}
    assert "entry" not in api.search(SEARCH).json()


def test_booking_a_single_slot_with_the_optional_extras_succeeds(api, slots):
    body = factories.appointment_body(
        slots[:1],
        minutesDuration=10,
        identifier=[{"system": "https://example.org/booking", "value": "abc-1"}],
        serviceCategory={"text": "ignored"},
        serviceType=[{"text": "ignored"}],
    )
    body["extension"] += [
        {"url": CHANNEL_EXT, "valueCode": "In-person"},
        {
            "url": ROLE_EXT,
            "valueCodeableConcept": {"coding": [{"code": "R0260"}]},
        },
    ]

    response = api.book(body)

    assert response.status_code == 201, response.content
    resource = response.json()
    assert resource["minutesDuration"] == 10
    assert resource["identifier"] == body["identifier"]
    assert resource["serviceType"] == [{"text": "General appointment"}]


def test_the_practitioner_participant_is_added_when_the_consumer_leaves_it_out(api, slots):
    body = factories.appointment_body(slots)
    body["participant"] = body["participant"][:2]

    response = api.book(body)

    assert response.status_code == 201, response.content
    practitioner = f"Practitioner/{slots[0].schedule.practitioner_id}"
    assert practitioner in [p["actor"]["reference"] for p in response.json()["participant"]]


def test_booking_a_slot_without_a_practitioner_or_channel_omits_their_extensions(api, practice):
    schedule = factories.make_schedule(practice, with_practitioner=False)
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"), delivery_channel="")

    response = api.book(factories.appointment_body([slot]))

    assert response.status_code == 201, response.content
    assert response.json()["extension"] == [
        {"url": BOOKING_EXT, "valueReference": {"reference": "#1"}}
    ]


def test_a_description_of_100_and_a_comment_of_500_characters_are_stored_verbatim(api, slots):
    description = "é" * 100
    comment = "Line one\nline two " + "x" * 482

    response = api.book(factories.appointment_body(slots, description=description, comment=comment))

    assert response.status_code == 201, response.content
    assert response.json()["description"] == description
    assert response.json()["comment"] == comment
    assert len(comment) == 500


def test_booking_in_summer_time_renders_bst_offsets(api, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-29 09:00"))

    response = api.book(factories.appointment_body([slot]))

    assert response.status_code == 201, response.content
    assert response.json()["start"] == "2027-03-29T09:00:00+01:00"
    assert response.json()["end"] == "2027-03-29T09:10:00+01:00"


def test_created_is_stored_in_uk_local_time(api, slots):
    response = api.book(factories.appointment_body(slots, created="2027-03-22T08:59:30.123Z"))

    assert response.json()["created"] == "2027-03-22T08:59:30+00:00"


def test_a_slot_restricted_to_the_booking_organisation_can_be_booked_by_it(api, schedule):
    slot = factories.make_slot(
        schedule,
        uk("2027-03-23 09:00"),
        restricted_ods_code="X26",
        restricted_org_type="gp-practice",
    )

    assert api.book(factories.appointment_body([slot])).status_code == 201


# --- Body rules: 422 INVALID_RESOURCE (§3.1, §7.9, §7.12) ----------------------------------


def _without(name):
    def change(body, slots):
        del body[name]

    return change


def _set(name, value):
    def change(body, slots):
        body[name] = value

    return change


def _participant(index, value):
    def change(body, slots):
        body["participant"][index] = value

    return change


def _drop_participant(index):
    def change(body, slots):
        del body["participant"][index]

    return change


def _org(name, value):
    def change(body, slots):
        if value is None:
            del body["contained"][0][name]
        else:
            body["contained"][0][name] = value

    return change


def _extension(extension):
    def change(body, slots):
        body["extension"].append(extension)

    return change


BODY_RULES = [
    ("wrong resource type", _set("resourceType", "Patient"), "resourceType must be 'Appointment'"),
    ("unknown property", _set("colour", "blue"), "unknown property 'colour'"),
    ("reason", _set("reason", [{"text": "Cough"}]), "Appointment.reason must not be sent"),
    ("specialty", _set("specialty", [{"text": "GP"}]), "Appointment.specialty must not be sent"),
    ("appointmentType", _set("appointmentType", {"text": "x"}), "appointmentType must not"),
    ("requestedPeriod", _set("requestedPeriod", []), "requestedPeriod must not be sent"),
    ("an id", _set("id", "1"), "must not have an id"),
    ("no meta", _without("meta"), "meta.profile"),
    ("wrong profile", _set("meta", {"profile": ["https://example.org/x"]}), "meta.profile[0]"),
    ("unknown meta", _set("meta", {"profile": [], "colour": 1}), "meta has an unknown"),
    ("status proposed", _set("status", "proposed"), "status must be 'booked'"),
    ("no status", _without("status"), "status must be 'booked'"),
    ("no description", _without("description"), "description is required"),
    ("empty description", _set("description", "  "), "description must be a non-empty"),
    ("description too long", _set("description", "x" * 101), "description is 101 characters"),
    ("comment too long", _set("comment", "x" * 501), "comment is 501 characters"),
    ("comment not text", _set("comment", 5), "comment must be a non-empty string"),
    ("no start", _without("start"), "Appointment.start is required"),
    ("no end", _without("end"), "Appointment.end is required"),
    ("start in Z", _set("start", "2027-03-23T09:00:00Z"), "must be yyyy-mm-ddThh:mm:ss+hh:mm"),
    (
        "start same instant other form",
        _set("start", "2027-03-23T10:00:00+01:00"),
        "must be '2027-03-23T09:00:00+00:00'",
    ),
    ("end not the last slot's", _set("end", "2027-03-23T09:10:00+00:00"), "the end of Slot/"),
    ("wrong duration", _set("minutesDuration", 30), "slots last 20 minutes"),
    ("duration not a number", _set("minutesDuration", "20"), "positive whole number"),
    ("no created", _without("created"), "created is required"),
    ("created without zone", _set("created", "2027-03-01T12:00:00"), "with a time zone"),
    ("no slot", _without("slot"), "Appointment.slot is required"),
    ("empty slot list", _set("slot", []), "Appointment.slot must not be empty"),
    ("slot not a list", _set("slot", {"reference": "Slot/1"}), "must be a list of objects"),
    ("slot hello", _set("slot", [{"reference": "Slot/hello"}]), "relative reference Slot/<id>"),
    ("slot 45555g55555", _set("slot", [{"reference": "Slot/45555g55555"}]), "Slot/<id>"),
    (
        "absolute slot reference",
        _set("slot", [{"reference": "https://example.org/FHIR/STU3/Slot/1"}]),
        "relative reference",
    ),
    ("unknown slot", _set("slot", [{"reference": "Slot/999999"}]), "Slot/999999 does not exist"),
    ("no participants", _without("participant"), "participant is required"),
    (
        "no patient",
        _participant(0, {"actor": {"reference": "Location/1"}, "status": "accepted"}),
        "exactly one Patient (got 0)",
    ),
    ("no location", _drop_participant(1), "exactly one Location (got 0)"),
    (
        "two patients",
        _participant(1, {"actor": {"reference": "Patient/9000000009"}, "status": "accepted"}),
        "exactly one Patient (got 2)",
    ),
    (
        "two practitioners",
        _participant(1, {"actor": {"reference": "Practitioner/1"}, "status": "accepted"}),
        "exactly one Location (got 0)",
    ),
    (
        "participant without status",
        _participant(0, {"actor": {"reference": "Patient/9000000009"}}),
        "participant[0].status is required",
    ),
    (
        "participant null status",
        _participant(0, {"actor": {"reference": "Patient/9000000009"}, "status": None}),
        "participant[0].status is required",
    ),
    (
        "participant odd status",
        _participant(0, {"actor": {"reference": "Patient/9000000009"}, "status": "maybe"}),
        "not a participation status",
    ),
    (
        "absolute patient reference",
        _participant(
            0, {"actor": {"reference": "https://x.org/Patient/9000000009"}, "status": "accepted"}
        ),
        "must be a relative reference",
    ),
    (
        "device participant",
        _participant(0, {"actor": {"reference": "Device/1"}, "status": "accepted"}),
        "must be a relative reference",
    ),
    (
        "participant unknown property",
        _participant(
            0,
            {"actor": {"reference": "Patient/9000000009"}, "status": "accepted", "colour": 1},
        ),
        "unknown properties: colour",
    ),
    (
        "patient not an NHS number",
        _participant(0, {"actor": {"reference": "Patient/abc"}, "status": "accepted"}),
        "must be Patient/<NHS number>",
    ),
    ("no contained", _without("contained"), "contained is required"),
    ("two contained", _set("contained", [{}, {}]), "exactly one resource"),
    ("organisation without name", _org("name", None), "needs a name"),
    ("organisation without telecom", _org("telecom", None), "telecom with system 'phone'"),
    (
        "organisation with email only",
        _org("telecom", [{"system": "email", "value": "a@b.c"}]),
        "telecom with system 'phone'",
    ),
    ("organisation without ODS code", _org("identifier", None), "ods-organization-code"),
    ("organisation without profile", _org("meta", None), "CareConnect-GPC-Organization-1"),
    ("organisation unknown property", _org("colour", 1), "unknown property 'colour'"),
    (
        "organisation wrong type system",
        _org("type", [{"coding": [{"system": "x", "code": "y"}]}]),
        "type must use system",
    ),
    ("no booking organisation extension", _set("extension", []), "is required"),
    (
        "booking reference not local",
        _set(
            "extension", [{"url": BOOKING_EXT, "valueReference": {"reference": "Organization/1"}}]
        ),
        "must point at the contained Organization",
    ),
    (
        "booking reference to another id",
        _set("extension", [{"url": BOOKING_EXT, "valueReference": {"reference": "#2"}}]),
        "contained Organization's id is '1'",
    ),
    (
        "unknown extension",
        _extension({"url": "https://example.org/ext", "valueString": "x"}),
        "Extension 'https://example.org/ext' is not allowed",
    ),
    (
        "cancellation reason when booking",
        _extension({"url": REASON_EXT, "valueString": "x"}),
        "cancellation reason must not be sent when booking",
    ),
    (
        "channel mismatch",
        _extension({"url": CHANNEL_EXT, "valueCode": "Video"}),
        "delivery channel 'Video' is not the slot's",
    ),
    (
        "role mismatch",
        _extension({"url": ROLE_EXT, "valueCodeableConcept": {"coding": [{"code": "R0620"}]}}),
        "practitioner role 'R0620'",
    ),
    (
        "role display mismatch",
        _extension(
            {
                "url": ROLE_EXT,
                "valueCodeableConcept": {"coding": [{"code": "R0260", "display": "Nurse"}]},
            }
        ),
        "practitioner role 'R0260'",
    ),
    (
        "identifier without value",
        _set("identifier", [{"system": "x"}]),
        "identifier[0] has no value",
    ),
]


@pytest.mark.parametrize(
    ("change", "diagnostics"),
    [rule[1:] for rule in BODY_RULES],
    ids=[rule[0] for rule in BODY_RULES],
)
def test_a_body_breaking_a_rule_is_an_invalid_resource(api, slots, change, diagnostics):
    body = factories.appointment_body(slots)
    change(body, slots)

    response = api.book(body)

    assert_outcome(response, 422, "INVALID_RESOURCE", diagnostics)
    assert not Appointment.objects.exists()
    assert set(Slot.objects.values_list("status", flat=True)) == {"free"}


@pytest.mark.parametrize(
    ("body", "diagnostics"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("null", "must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_an_invalid_resource(api, body, diagnostics):
    assert_outcome(api.book(body), 422, "INVALID_RESOURCE", diagnostics)


def test_slots_must_be_adjacent(api, schedule):
    first = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    later = factories.make_slot(schedule, uk("2027-03-23 09:20"))
    body = factories.appointment_body([first, later])

    assert_outcome(api.book(body), 422, "INVALID_RESOURCE", "are not adjacent")


def test_slots_must_share_a_schedule(api, practice, schedule):
    first = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    other_schedule = factories.make_schedule(
        practice, location=schedule.location, practitioner=schedule.practitioner
    )
    second = factories.make_slot(other_schedule, uk("2027-03-23 09:10"))

    response = api.book(factories.appointment_body([first, second]))

    assert_outcome(response, 422, "INVALID_RESOURCE", "belong to different schedules")


def test_slots_must_share_delivery_channel_and_service_type(api, schedule):
    first = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    phone = factories.make_slot(schedule, uk("2027-03-23 09:10"), delivery_channel="Telephone")

    response = api.book(factories.appointment_body([first, phone]))

    assert_outcome(response, 422, "INVALID_RESOURCE", "differ in delivery channel")


def test_slots_may_be_listed_in_any_order(api, slots):
    body = factories.appointment_body(slots)
    body["slot"].reverse()

    assert api.book(body).status_code == 201


def test_the_location_must_be_the_slot_s(api, practice, slots):
    branch = factories.make_location(practice, "Branch Surgery")
    body = factories.appointment_body(slots)
    body["participant"][1]["actor"]["reference"] = f"Location/{branch.pk}"

    response = api.book(body)

    assert_outcome(response, 422, "INVALID_RESOURCE", f"Location/{branch.pk} is not the slot's")


def test_the_practitioner_must_be_the_schedule_s(api, practice, slots):
    other = factories.make_practitioner(practice)
    body = factories.appointment_body(slots)
    body["participant"][2]["actor"]["reference"] = f"Practitioner/{other.pk}"

    response = api.book(body)

    assert_outcome(response, 422, "INVALID_RESOURCE", f"Practitioner/{other.pk} is not the slot's")


def test_a_practitioner_cannot_be_named_for_a_schedule_without_one(api, practice):
    schedule = factories.make_schedule(practice, with_practitioner=False)
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    body = factories.appointment_body([slot])
    body["participant"].append({"actor": {"reference": "Practitioner/1"}, "status": "accepted"})

    assert_outcome(api.book(body), 422, "INVALID_RESOURCE", "practitioner (none)")


def test_a_slot_at_another_practice_does_not_exist_here(api):
    elsewhere = factories.make_schedule(factories.make_practice())
    slot = factories.make_slot(elsewhere, uk("2027-03-23 09:00"))

    response = api.book(factories.appointment_body([slot]))

    assert_outcome(response, 422, "INVALID_RESOURCE", f"Slot/{slot.pk} does not exist")


def test_a_past_slot_cannot_be_booked(api, schedule, clock):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    clock.set(uk("2027-03-23 09:00"))

    response = api.book(factories.appointment_body([slot]))

    assert_outcome(response, 422, "INVALID_RESOURCE", "is not in the future")


def test_a_home_visit_slot_cannot_be_booked(api, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"), delivery_channel="Visit")

    response = api.book(factories.appointment_body([slot]))

    assert_outcome(response, 422, "INVALID_RESOURCE", "home visit")


@pytest.mark.parametrize(
    ("restriction", "org_type", "diagnostics"),
    [
        ({"restricted_ods_code": "Y12345"}, "gp-practice", "not available to booking organisation"),
        ({"restricted_org_type": "urgent-care"}, "gp-practice", "only available to organisations"),
        ({"restricted_org_type": "gp-practice"}, None, "only available to organisations"),
    ],
)
def test_a_slot_restricted_to_someone_else_cannot_be_booked(
    api, schedule, restriction, org_type, diagnostics
):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"), **restriction)
    body = factories.appointment_body([slot])
    body["contained"] = [factories.booking_organisation(org_type)]

    assert_outcome(api.book(body), 422, "INVALID_RESOURCE", diagnostics)


# --- Slot taken: 409 DUPLICATE_REJECTED (§7.10) --------------------------------------------


def test_a_slot_already_booked_is_a_duplicate(api, slots):
    assert api.book(factories.appointment_body(slots)).status_code == 201

    response = api.book(factories.appointment_body(slots))

    assert_outcome(response, 409, "DUPLICATE_REJECTED", f"Slot/{slots[0].pk} is no longer free")
    assert Appointment.objects.count() == 1


def test_when_one_of_several_slots_is_taken_none_are_booked(api, schedule):
    first, second, third = factories.make_slots(schedule, uk("2027-03-23 09:00"), 3)
    assert api.book(factories.appointment_body([third])).status_code == 201

    response = api.book(factories.appointment_body([first, second, third]))

    assert_outcome(response, 409, "DUPLICATE_REJECTED", f"Slot/{third.pk}")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("free", "free")
    assert first.version_id == 1
    assert Appointment.objects.count() == 1


# --- Whose booking (§7.4, D8) --------------------------------------------------------------


def test_booking_for_another_patient_is_denied(api, practice, slots):
    factories.make_patient(practice, factories.OTHER_NHS_NUMBER)

    response = api.book(factories.appointment_body(slots, factories.OTHER_NHS_NUMBER))

    assert_outcome(response, 403, "ACCESS_DENIED", "not the patient of the access token")
    assert not Appointment.objects.exists()


def test_an_nhs_number_with_a_bad_check_digit_is_invalid(api, slots):
    response = api.book(factories.appointment_body(slots, factories.BAD_CHECKSUM_NHS_NUMBER))

    assert_outcome(response, 400, "INVALID_NHS_NUMBER", "9000000008")


def test_a_patient_the_practice_system_does_not_know_is_not_found(client, practice, slots):
    stranger = SandboxApi(client, practice.ods_code, factories.THIRD_NHS_NUMBER)

    response = stranger.book(factories.appointment_body(slots, factories.THIRD_NHS_NUMBER))

    assert_outcome(response, 404, "PATIENT_NOT_FOUND", factories.THIRD_NHS_NUMBER)


def test_registered_patients_only_refuses_a_patient_registered_elsewhere(client, practice, slots):
    practice.registered_patients_only = True
    practice.save()
    visitor = factories.make_patient(factories.make_practice(), factories.OTHER_NHS_NUMBER)
    visitor_api = SandboxApi(client, practice.ods_code, visitor.nhs_number)

    response = visitor_api.book(factories.appointment_body(slots, visitor.nhs_number))

    assert_outcome(response, 403, "ACCESS_DENIED", "not registered at A20047")


def test_registered_patients_only_lets_the_practice_s_own_patients_book(api, practice, slots):
    practice.registered_patients_only = True
    practice.save()

    assert api.book(factories.appointment_body(slots)).status_code == 201


def test_without_registered_patients_only_a_visitor_may_book(client, practice, slots):
    visitor = factories.make_patient(factories.make_practice(), factories.OTHER_NHS_NUMBER)
    visitor_api = SandboxApi(client, practice.ods_code, visitor.nhs_number)

    assert (
        visitor_api.book(factories.appointment_body(slots, visitor.nhs_number)).status_code == 201
    )


# --- Idempotency (D9, §7.2) ----------------------------------------------------------------


def test_a_retried_booking_returns_the_first_outcome_and_books_once(api, slots):
    body = factories.appointment_body(slots)
    first = api.book(body, request_id="6f1c0b6e-1d5e-4c4b-9d1e-1a2b3c4d5e6f")

    retry = api.book(body, request_id="6f1c0b6e-1d5e-4c4b-9d1e-1a2b3c4d5e6f")

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    for header in ("Content-Type", "ETag", "Location", "Last-Modified"):
        assert retry[header] == first[header]
    assert retry["X-Request-ID"] == "6f1c0b6e-1d5e-4c4b-9d1e-1a2b3c4d5e6f"
    assert Appointment.objects.count() == 1


def test_a_retry_whose_json_is_laid_out_differently_is_the_same_request(api, slots):
    body = factories.appointment_body(slots)
    request_id = "0e5b3f8a-4d2c-4f4e-8a7b-9c0d1e2f3a4b"
    first = api.book(json.dumps(body), request_id=request_id)

    retry = api.book(json.dumps(body, indent=2, sort_keys=True), request_id=request_id)

    assert retry.status_code == 201
    assert retry.content == first.content


def test_a_retry_after_the_appointment_changed_still_returns_the_original_outcome(api, slots):
    body = factories.appointment_body(slots)
    request_id = "11111111-2222-4333-8444-555555555555"
    first = api.book(body, request_id=request_id)
    Appointment.objects.update(version_id=5)

    retry = api.book(body, request_id=request_id)

    assert retry.content == first.content
    assert retry["ETag"] == 'W/"1"'


def test_a_reused_request_id_with_a_different_body_is_refused_and_changes_nothing(api, schedule):
    first_slot, second_slot = factories.make_slots(schedule, uk("2027-03-23 09:00"), 2)
    request_id = "22222222-3333-4444-8555-666666666666"
    api.book(factories.appointment_body([first_slot]), request_id=request_id)

    response = api.book(factories.appointment_body([second_slot]), request_id=request_id)

    assert_outcome(response, 422, "INVALID_RESOURCE", "already used for a different request")
    second_slot.refresh_from_db()
    assert second_slot.status == "free"
    assert Appointment.objects.count() == 1


def test_another_patient_reusing_a_request_id_gets_nothing_of_the_first(client, practice, slots):
    request_id = "33333333-4444-4555-8666-777777777777"
    first_api = SandboxApi(client, practice.ods_code, factories.PATIENT_NHS_NUMBER)
    factories.make_patient(practice, factories.PATIENT_NHS_NUMBER)
    first_api.book(factories.appointment_body(slots[:1]), request_id=request_id)
    other = factories.make_patient(practice, factories.OTHER_NHS_NUMBER)
    other_api = SandboxApi(client, practice.ods_code, other.nhs_number)

    response = other_api.book(
        factories.appointment_body(slots[:1], other.nhs_number), request_id=request_id
    )

    assert_outcome(response, 422, "INVALID_RESOURCE", "already used for a different request")
    assert "9000000009" not in response.content.decode()


def test_the_same_request_id_at_another_practice_is_a_separate_request(client, api, slots):
    other_practice = factories.make_practice()
    other_slot = factories.make_slot(
        factories.make_schedule(other_practice), uk("2027-03-23 09:00")
    )
    other_api = SandboxApi(client, other_practice.ods_code, factories.PATIENT_NHS_NUMBER)
    request_id = "44444444-5555-4666-8777-888888888888"

    here = api.book(factories.appointment_body(slots), request_id=request_id)
    there = other_api.book(factories.appointment_body([other_slot]), request_id=request_id)

    assert (here.status_code, there.status_code) == (201, 201)
    assert Appointment.objects.count() == 2


def test_a_refusal_is_replayed_too(api, slots):
    request_id = "55555555-6666-4777-8888-999999999999"
    body = factories.appointment_body(slots, description="x" * 101)
    first = api.book(body, request_id=request_id)

    retry = api.book(body, request_id=request_id)

    assert first.status_code == retry.status_code == 422
    assert retry.content == first.content


def test_an_outage_is_not_remembered_so_the_retry_books(api, practice, slots):
    request_id = "66666666-7777-4888-8999-aaaaaaaaaaaa"
    body = factories.appointment_body(slots)
    practice.unavailable = True
    practice.save()
    assert api.book(body, request_id=request_id).status_code == 503
    practice.unavailable = False
    practice.save()

    assert api.book(body, request_id=request_id).status_code == 201


def test_booking_bodies_are_not_modified_by_validation(api, slots):
    body = factories.appointment_body(slots)
    original = copy.deepcopy(body)

    api.book(body)

    assert body == original


def test_a_booking_for_tomorrow_is_stored_with_its_slot_times(api, slots):
    api.book(factories.appointment_body(slots))

    appointment = Appointment.objects.get()
    assert appointment.start == uk("2027-03-23 09:00")
    assert appointment.end - appointment.start == datetime.timedelta(minutes=20)
