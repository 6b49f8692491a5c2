"""Booking, listing, reading and cancelling: what is sent, and what comes back."""

import json
import re
import uuid
from datetime import date, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
from django.utils import timezone

from booking_site import gpconnect
from booking_site.gpconnect.parsing.appointment_replies import parse_appointment
from booking_site.gpconnect.parsing.slot_replies import parse_free_slots

from . import builders
from .conftest import (
    CORRELATION_ID,
    HILLSIDE,
    OTHER_PATIENT,
    PATIENT,
    RIVERSIDE,
    Recorder,
    fhir_response,
    run,
)

APPOINTMENT_PROFILE = builders.SD + "GPConnect-Appointment-1"


def _slots(*resources, schedule=None):
    support = [schedule or builders.schedule()]
    doc = builders.bundle(
        *resources,
        *support,
        builders.practitioner(),
        builders.location(),
        builders.organisation(),
    )
    return parse_free_slots(doc, RIVERSIDE)


def _book(slots, details=None, *, reply=None, request_id=None, practice=RIVERSIDE):
    reply = reply or fhir_response(201, builders.appointment(), {"ETag": 'W/"1"'})
    return run(
        lambda request: reply,
        lambda: gpconnect.book(
            practice,
            slots,
            PATIENT,
            details or gpconnect.BookingDetails("Sore knee", "Afternoon preferred"),
            request_id=request_id or str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
        ),
    )


# --- Booking -----------------------------------------------------------------------------------


def test_the_booking_body_follows_the_profile():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00", 10))
    _, recorder = _book(slot)

    [request] = recorder.requests
    assert request.method == "POST"
    assert request.url.path == "/A20047/FHIR/STU3/Appointment"
    body = json.loads(request.content)
    assert "id" not in body
    assert body["resourceType"] == "Appointment"
    assert body["meta"] == {"profile": [APPOINTMENT_PROFILE]}
    assert body["contained"] == [
        {
            "resourceType": "Organization",
            "id": "1",
            "meta": {"profile": [builders.SD + "CareConnect-GPC-Organization-1"]},
            "identifier": [{"system": builders.ODS, "value": "X26"}],
            "type": [
                {
                    "coding": [
                        {
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1",
                            "code": "gp-practice",
                        }
                    ]
                }
            ],
            "name": "Book a GP appointment",
            "telecom": [{"system": "phone", "value": "0300 311 2233"}],
        }
    ]
    assert body["extension"] == [
        {"url": builders.BOOKING_ORG, "valueReference": {"reference": "#1"}}
    ]
    assert body["status"] == "booked"
    assert body["start"] == "2027-03-01T09:00:00+00:00"
    assert body["end"] == "2027-03-01T09:10:00+00:00"
    assert body["slot"] == [{"reference": "Slot/1000"}]
    assert body["participant"] == [
        {"actor": {"reference": "Patient/9000000009"}, "status": "accepted"},
        {"actor": {"reference": "Location/1"}, "status": "accepted"},
        {"actor": {"reference": "Practitioner/1"}, "status": "accepted"},
    ]
    assert body["description"] == "Sore knee"
    assert body["comment"] == "Afternoon preferred"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", body["created"])
    assert {"reason", "specialty", "minutesDuration"}.isdisjoint(body)


def test_start_and_end_are_sent_exactly_as_the_provider_wrote_them():
    [slot] = _slots(
        builders.slot("1000", "2027-07-01T08:00:00Z", end="2027-07-01T09:10:00.000+01:00")
    )
    _, recorder = _book(slot)

    body = json.loads(recorder.requests[0].content)
    assert (body["start"], body["end"]) == ("2027-07-01T08:00:00Z", "2027-07-01T09:10:00.000+01:00")


def test_a_schedule_without_a_practitioner_books_without_one():
    [slot] = _slots(
        builders.slot("1000", "2027-03-01T09:00:00+00:00"),
        schedule=builders.schedule(practitioner=None),
    )
    _, recorder = _book(slot)

    actors = [
        p["actor"]["reference"] for p in json.loads(recorder.requests[0].content)["participant"]
    ]
    assert actors == ["Patient/9000000009", "Location/1"]


def test_adjacent_slots_are_booked_as_one_appointment():
    a, b = _slots(
        builders.slot("1000", "2027-03-01T09:00:00+00:00"),
        builders.slot("1001", "2027-03-01T09:10:00+00:00"),
    )
    _, recorder = _book([a, b])

    body = json.loads(recorder.requests[0].content)
    assert body["slot"] == [{"reference": "Slot/1000"}, {"reference": "Slot/1001"}]
    assert (body["start"], body["end"]) == (a.start_raw, b.end_raw)


def test_slots_that_are_not_adjacent_are_refused_before_asking_the_practice():
    a, later = _slots(
        builders.slot("1000", "2027-03-01T09:00:00+00:00"),
        builders.slot("1002", "2027-03-01T09:20:00+00:00"),
    )

    with pytest.raises(ValueError, match="adjacent"):
        _book([a, later])


def _in_given_order(*resources):
    """The parsed slots (of two schedules) in the order the resources are given."""
    parsed = parse_free_slots(builders.slot_bundle(list(resources), schedules=2), RIVERSIDE)
    by_id = {slot.slot_id: slot for slot in parsed}
    return tuple(by_id[resource["id"]] for resource in resources)


def test_only_slots_following_on_in_one_schedule_channel_and_type_are_booked_together():
    a, b, gap, other_schedule, phone, review = _in_given_order(
        builders.slot("a", "2027-03-01T09:00:00+00:00"),
        builders.slot("b", "2027-03-01T09:10:00+00:00"),
        builders.slot("gap", "2027-03-01T09:30:00+00:00"),
        builders.slot("s2", "2027-03-01T09:10:00+00:00", schedule="2"),
        builders.slot("tel", "2027-03-01T09:10:00+00:00", channel="Telephone"),
        builders.slot("rev", "2027-03-01T09:10:00+00:00", service_type="Review"),
    )

    for not_next in ([b, a], [b, gap], [a, other_schedule], [a, phone], [a, review]):
        with pytest.raises(ValueError, match="adjacent"):
            _book(not_next)
    _, recorder = _book([a, b])
    assert len(recorder.requests) == 1


def test_slots_across_the_autumn_clock_change_follow_on_in_real_time():
    bst, gmt_same_wall_time, gmt_next = _in_given_order(
        builders.slot("1", "2027-10-31T01:20:00+01:00", 10),  # ends 01:30 BST
        builders.slot("2", "2027-10-31T01:30:00+00:00", 10),  # an hour later
        builders.slot("3", "2027-10-31T00:30:00+00:00", 10),  # 01:30 BST is 00:30 UTC
    )

    with pytest.raises(ValueError, match="adjacent"):
        _book([bst, gmt_same_wall_time])
    _, recorder = _book([bst, gmt_next])
    body = json.loads(recorder.requests[0].content)
    assert body["slot"] == [{"reference": "Slot/1"}, {"reference": "Slot/3"}]


def test_a_slot_of_another_practice_is_refused():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))

    with pytest.raises(ValueError, match="practice"):
        _book(slot, practice=HILLSIDE)


@pytest.mark.parametrize(
    ("description", "comment"), [("", ""), ("x" * 101, ""), ("Knee", "y" * 501)]
)
def test_booking_details_keep_to_the_profile_limits(description, comment):
    with pytest.raises(ValueError, match=r"description|comment"):
        gpconnect.BookingDetails(description, comment)


def test_the_booked_appointment_is_built_from_the_practices_reply():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))
    stored = builders.appointment(description="Sore knee (stored)", comment=None, version="3")
    appointment, _ = _book(slot, reply=fhir_response(201, stored, {"ETag": 'W/"3"'}))

    assert appointment.description == "Sore knee (stored)"
    assert appointment.comment is None
    assert appointment.version_id == "3"
    assert appointment.status == "booked"
    assert appointment.practice == RIVERSIDE
    # Names the practice gave in its slot search reply fill in the references.
    assert appointment.location.name == "Riverside Medical Centre"
    assert appointment.practitioner.name == "Dr Amara Okafor"


def test_a_reply_for_another_patient_is_not_believed():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))
    someone_else = builders.appointment(nhs_number=OTHER_PATIENT.nhs_number)

    with pytest.raises(gpconnect.InvalidReply):
        _book(slot, reply=fhir_response(201, someone_else))


def test_a_taken_slot_is_not_retried():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))

    with pytest.raises(gpconnect.SlotTaken):
        _book(slot, reply=fhir_response(409, builders.outcome("DUPLICATE_REJECTED")))


def _stored_request(slot, created):
    """A booking request built, then stored as plain JSON (a database column) and restored."""
    built = gpconnect.booking_request(
        RIVERSIDE,
        slot,
        PATIENT,
        gpconnect.BookingDetails("Sore knee", "Café at 9 — fine"),
        created=created,
    )
    return built, gpconnect.BookingRequest.from_dict(json.loads(json.dumps(built.as_dict())))


def test_a_stored_booking_request_is_sent_again_byte_for_byte_and_its_reply_read():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))
    built, restored = _stored_request(slot, timezone.now() - timedelta(hours=3))
    request_id = str(uuid.uuid4())
    reply = fhir_response(201, builders.appointment(), {"ETag": 'W/"1"'})

    async def send_twice():
        for _ in range(2):
            appointment = await gpconnect.send_booking(
                RIVERSIDE, PATIENT, restored, request_id=request_id, correlation_id=CORRELATION_ID
            )
        return appointment

    appointment, recorder = run(lambda request: reply, send_twice)

    assert restored == built
    first, again = recorder.requests
    assert first.content == again.content == built.body
    assert first.headers["X-Request-ID"] == again.headers["X-Request-ID"] == request_id
    # The schedule's names, kept with the request, fill in the reply's references.
    assert appointment.location.name == "Riverside Medical Centre"
    assert appointment.practitioner.name == "Dr Amara Okafor"


def test_book_sends_what_booking_request_builds():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))
    created = timezone.now()
    built, _ = _stored_request(slot, created)

    _, recorder = run(
        lambda request: fhir_response(201, builders.appointment()),
        lambda: gpconnect.book(
            RIVERSIDE,
            slot,
            PATIENT,
            gpconnect.BookingDetails("Sore knee", "Café at 9 — fine"),
            request_id=str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
            created=created,
        ),
    )

    assert recorder.requests[0].content == built.body


def test_a_stored_request_is_never_sent_to_another_practice_and_junk_is_not_one():
    [slot] = _slots(builders.slot("1000", "2027-03-01T09:00:00+00:00"))
    _, restored = _stored_request(slot, timezone.now())

    with pytest.raises(ValueError, match="another practice"):
        run(
            lambda request: fhir_response(201, builders.appointment()),
            lambda: gpconnect.send_booking(
                HILLSIDE, PATIENT, restored, request_id=str(uuid.uuid4()), correlation_id="x"
            ),
        )
    for junk in ({}, {"body": "{}"}, {"practice_ods": "A20047", "body": 1, "location": None}):
        with pytest.raises(ValueError, match="Not a stored booking request"):
            gpconnect.BookingRequest.from_dict(junk)


# --- Listing and reading -----------------------------------------------------------------------


def test_a_patients_appointments_are_listed_earliest_first():
    later = builders.appointment(
        "2", start="2027-03-09T09:00:00+00:00", end="2027-03-09T09:10:00+00:00"
    )
    cancelled = builders.appointment("1", status="cancelled", cancellation_reason="Better")
    broken = {**builders.appointment("3"), "start": "yesterday"}
    theirs = builders.appointment("4", nhs_number=OTHER_PATIENT.nhs_number)
    reply = builders.bundle(
        later, cancelled, broken, theirs, builders.location(name="Holbeck Branch Surgery")
    )
    appointments, recorder = run(
        lambda request: fhir_response(200, reply),
        lambda: gpconnect.patient_appointments(
            RIVERSIDE, PATIENT, gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 31))
        ),
    )

    [request] = recorder.requests
    assert request.url.path == "/A20047/FHIR/STU3/Patient/9000000009/Appointment"
    assert parse_qsl(request.url.query.decode()) == [
        ("start", "ge2027-03-01"),
        ("start", "le2027-03-31"),
        ("_include:recurse", "Appointment:actor:Practitioner"),
        ("_include:recurse", "Appointment:actor:Location"),
    ]
    assert [a.id for a in appointments] == ["1", "2"]
    assert appointments[0].is_cancelled
    assert appointments[1].location.name == "Holbeck Branch Surgery"


def test_days_before_today_are_not_asked_for():
    today = timezone.localdate()
    _, recorder = run(
        lambda request: fhir_response(200, builders.bundle(entry=False)),
        lambda: gpconnect.patient_appointments(
            RIVERSIDE, PATIENT, gpconnect.DateRange(today - timedelta(days=30), today)
        ),
    )
    assert parse_qsl(recorder.requests[0].url.query.decode())[0] == ("start", f"ge{today}")

    nothing, recorder = run(
        lambda request: fhir_response(200, builders.bundle(entry=False)),
        lambda: gpconnect.patient_appointments(
            RIVERSIDE,
            PATIENT,
            gpconnect.DateRange(today - timedelta(days=30), today - timedelta(days=1)),
        ),
    )
    assert nothing == ()
    assert recorder.requests == []


def test_reading_an_appointment_keeps_its_version_and_the_resource_as_read():
    resource = builders.appointment(version="2")
    appointment, recorder = run(
        lambda request: fhir_response(200, resource, {"ETag": 'W/"3"'}),
        lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
    )

    assert recorder.requests[0].url.path == "/A20047/FHIR/STU3/Appointment/501"
    assert appointment.version_id == "3"
    assert json.loads(appointment.source_json) == resource


def test_another_patients_appointment_cannot_be_read():
    with pytest.raises(gpconnect.NotFound):
        run(
            lambda request: fhir_response(
                200, builders.appointment(nhs_number=OTHER_PATIENT.nhs_number)
            ),
            lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
        )


def test_an_impossible_appointment_id_is_not_found_without_asking():
    recorder = Recorder(lambda request: httpx.Response(500))
    with pytest.raises(gpconnect.NotFound):
        run(
            recorder,
            lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "../Patient/9000000009"),
        )
    assert recorder.requests == []


def test_an_invalid_nhs_number_never_reaches_a_url():
    with pytest.raises(ValueError, match="NHS number"):
        gpconnect.Patient("9000000001")
    with pytest.raises(ValueError, match="NHS number"):
        gpconnect.Patient("../../../x")
    assert "9000000009" not in repr(PATIENT)


# --- Cancelling --------------------------------------------------------------------------------


def _read_copy(**changes):
    return parse_appointment(builders.appointment(**changes), RIVERSIDE, PATIENT, etag='W/"3"')


def test_a_cancellation_sends_the_read_copy_with_only_status_and_reason_changed():
    original = _read_copy()
    cancelled_reply = builders.appointment(
        status="cancelled", version="4", cancellation_reason="Feeling better"
    )
    result, recorder = run(
        lambda request: fhir_response(200, cancelled_reply, {"ETag": 'W/"4"'}),
        lambda: gpconnect.cancel(
            RIVERSIDE, PATIENT, original, "  Feeling better ", request_id=str(uuid.uuid4())
        ),
    )

    [request] = recorder.requests
    assert request.method == "PUT"
    assert request.url.path == "/A20047/FHIR/STU3/Appointment/501"
    assert request.headers["If-Match"] == 'W/"3"'
    assert request.headers["Content-Type"] == "application/fhir+json;charset=utf-8"
    sent = json.loads(request.content)
    read = json.loads(original.source_json)
    assert sent["status"] == "cancelled"
    assert sent["extension"] == [
        *read["extension"],
        {"url": builders.CANCELLATION_REASON, "valueString": "Feeling better"},
    ]
    unchanged = {k: v for k, v in sent.items() if k not in {"status", "extension"}}
    assert unchanged == {k: v for k, v in read.items() if k not in {"status", "extension"}}
    assert result.is_cancelled
    assert result.version_id == "4"
    assert result.cancellation_reason == "Feeling better"


def test_a_cancellation_retried_after_a_503_repeats_its_request_id_and_version():
    replies = [httpx.Response(503), fhir_response(200, builders.appointment(status="cancelled"))]
    request_id = str(uuid.uuid4())
    _, recorder = run(
        lambda request: replies.pop(0),
        lambda: gpconnect.cancel(
            RIVERSIDE, PATIENT, _read_copy(), "Feeling better", request_id=request_id
        ),
    )

    first, second = recorder.requests
    assert first.headers["X-Request-ID"] == second.headers["X-Request-ID"] == request_id
    assert first.headers["If-Match"] == second.headers["If-Match"] == 'W/"3"'


def test_an_earlier_cancellation_reason_is_replaced_not_repeated():
    original = _read_copy(cancellation_reason="Old reason")
    _, recorder = run(
        lambda request: fhir_response(200, builders.appointment(status="cancelled")),
        lambda: gpconnect.cancel(
            RIVERSIDE, PATIENT, original, "New reason", request_id=str(uuid.uuid4())
        ),
    )

    reasons = [
        e["valueString"]
        for e in json.loads(recorder.requests[0].content)["extension"]
        if e["url"] == builders.CANCELLATION_REASON
    ]
    assert reasons == ["New reason"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_cancellation_needs_a_reason(reason):
    with pytest.raises(ValueError, match="reason"):
        run(
            lambda request: httpx.Response(500),
            lambda: gpconnect.cancel(
                RIVERSIDE, PATIENT, _read_copy(), reason, request_id=str(uuid.uuid4())
            ),
        )


# --- The NHS patient-facing API's own example (CONFORMANCE D7) ---------------------------------


def _nhs_example():
    """The Appointment of the NHS patient-facing API's example (``single_appointment.yaml``):
    the Practitioner and a Location as whole resources in ``participant[]``, with neither
    ``actor`` nor ``status``, and the Location's telecom a single object."""
    resource = builders.appointment(practitioner_id=None)
    resource["participant"] += [
        {
            "resource": {
                **builders.practitioner("2", family="Black", given="Sarah"),
                "name": [{"family": "Black", "given": ["Sarah"], "prefix": ["Mrs"]}],
            }
        },
        {
            "resource": {
                **builders.location("17", name="The Trevelyan Practice", telecom_as_object=True),
                "managingOrganization": {"reference": "Organization/23"},
            }
        },
    ]
    resource["serviceCategory"] = {"text": "General GP Appointments"}
    return resource


def test_the_nhs_examples_appointment_is_read_with_its_clinician_and_surgery():
    appointment, _ = run(
        lambda request: fhir_response(200, _nhs_example(), {"ETag": 'W/"3"'}),
        lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
    )

    assert appointment.practitioner.name == "Mrs Sarah Black"
    assert appointment.location.name == "The Trevelyan Practice"
    assert appointment.location.phone == "0113 496 0147"
    assert appointment.schedule_type == "General GP Appointments"


def test_the_nhs_examples_appointment_is_cancelled_sending_it_back_as_read():
    original = parse_appointment(_nhs_example(), RIVERSIDE, PATIENT, etag='W/"3"')
    reply = {**_nhs_example(), "status": "cancelled"}
    reply["extension"] = [
        *reply["extension"],
        {"url": builders.CANCELLATION_REASON, "valueString": "Feeling better"},
    ]
    result, recorder = run(
        lambda request: fhir_response(200, reply, {"ETag": 'W/"4"'}),
        lambda: gpconnect.cancel(
            RIVERSIDE, PATIENT, original, "Feeling better", request_id=str(uuid.uuid4())
        ),
    )

    sent = json.loads(recorder.requests[0].content)
    assert sent["participant"] == _nhs_example()["participant"]
    assert result.is_cancelled
    assert result.practitioner.name == "Mrs Sarah Black"


def test_the_nhs_examples_appointment_is_listed(caplog):
    reply = builders.bundle(_nhs_example())
    appointments, _ = run(
        lambda request: fhir_response(200, reply),
        lambda: gpconnect.patient_appointments(
            RIVERSIDE, PATIENT, gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 31))
        ),
    )

    [appointment] = appointments
    assert appointment.location.name == "The Trevelyan Practice"
    assert "type=Appointment" not in caplog.text


@pytest.mark.parametrize(
    ("call", "reply", "problem"),
    [
        (
            lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
            {**builders.appointment(), "start": "yesterday"},
            "start",
        ),
        (
            lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
            b"<html>Service unavailable</html>",
            "not JSON",
        ),
        (
            lambda: gpconnect.patient_appointments(
                RIVERSIDE, PATIENT, gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 2))
            ),
            {"resourceType": "Bundle", "type": "collection"},
            "searchset",
        ),
    ],
)
def test_an_unusable_reply_is_logged_with_its_reason_and_no_patient_data(
    caplog, call, reply, problem
):
    caplog.set_level("INFO", logger="booking_site.gpconnect")
    with pytest.raises(gpconnect.InvalidReply):
        run(lambda request: fhir_response(200, reply), call)

    [line] = [r.getMessage() for r in caplog.records if "unusable" in r.getMessage()]
    assert "ods=A20047" in line
    assert problem in line
    assert PATIENT.nhs_number not in caplog.text
