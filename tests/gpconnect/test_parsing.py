"""Untrusted provider JSON → typed objects: deviations tolerated, bad resources isolated,
unusable replies refused, every time in Europe/London."""

import logging
from datetime import date, timedelta

import pytest
from fhir.resources.STU3.slot import Slot as FhirSlot

from booking_site import gpconnect
from booking_site.gpconnect.parsing import slot_replies, stu3
from booking_site.gpconnect.parsing.appointment_replies import parse_appointment
from booking_site.gpconnect.parsing.slot_replies import parse_free_slots, parse_slot_reply
from booking_site.gpconnect.values import LONDON, instant

from . import builders
from .conftest import CORRELATION_ID, PATIENT, RIVERSIDE, fhir_response, run

NINE = "2027-03-01T09:00:00+00:00"


def _parse(doc):
    """The slots of a reply, which its body and its decoded JSON must agree on (the body may
    take the typed way in or the careful one: either must give the same slots)."""
    decoded = parse_free_slots(doc, RIVERSIDE)
    assert parse_slot_reply(builders.dumps(doc), RIVERSIDE) == decoded
    return decoded


def _only_the_typed_way(monkeypatch):
    def careful(*args):
        raise AssertionError("the reply went the careful way")

    monkeypatch.setattr(slot_replies, "parse_free_slots", careful)


def _search_replying(body: bytes):
    """The one practice's result when it answers a slot search with ``body``."""
    [result], _ = run(
        lambda request: fhir_response(200, body),
        lambda: gpconnect.search_free_slots(
            [RIVERSIDE],
            gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 5)),
            PATIENT,
            correlation_id=CORRELATION_ID,
        ),
    )
    return result


def _in_given_order(*slots):
    by_id = {s.slot_id: s for s in _parse(builders.slot_bundle(list(slots)))}
    return [by_id[s["id"]] for s in slots]


def test_a_slot_carries_everything_the_page_shows():
    [slot] = _parse(builders.slot_bundle([builders.slot("1000", NINE, 15)]))

    assert slot.slot_ids == ("1000",)
    assert slot.practice_ods == "A20047"
    assert slot.practice_name == "Riverside Medical Practice"
    assert slot.start.isoformat() == "2027-03-01T09:00:00+00:00"
    assert slot.start.tzinfo is LONDON
    assert slot.start_raw == NINE
    assert slot.end_raw == "2027-03-01T09:15:00+00:00"
    assert slot.duration == timedelta(minutes=15)
    assert slot.slot_type == "General appointment"
    assert slot.schedule_type == "Morning surgery"
    assert slot.delivery_channel == "In-person"
    assert slot.schedule_id == "1"
    assert slot.practitioner.name == "Dr Amara Okafor"
    assert slot.practitioner.gender == "female"
    assert slot.role == gpconnect.JobRole("R0260", "General Medical Practitioner")
    assert slot.location.name == "Riverside Medical Centre"
    assert slot.location.address == ("14 Canal Wharf", "Leeds", "LS11 5PS")
    assert slot.location.phone == "0113 496 0147"
    assert slot.schedule.organisation == gpconnect.Organisation(
        "A20047", "Riverside Medical Practice"
    )


def test_a_slot_without_a_delivery_channel_or_practitioner_is_still_offered():
    doc = builders.bundle(
        builders.slot("1000", NINE, channel=None, service_type=None),
        builders.schedule(practitioner=None, role=("R0620", "Staff Nurse"), category=None),
        builders.location(),
        builders.organisation(),
    )
    [slot] = _parse(doc)

    assert slot.delivery_channel is None
    assert slot.slot_type is None
    assert slot.schedule_type is None
    assert slot.practitioner is None
    assert slot.role.code == "R0620"


# --- Known provider deviations (CONFORMANCE D7) ------------------------------------------------


def test_a_location_telecom_given_as_one_object_is_read():
    doc = builders.bundle(
        builders.slot("1000", NINE),
        builders.schedule(),
        builders.practitioner(),
        builders.location(telecom_as_object=True),
        builders.organisation(),
    )
    [slot] = _parse(doc)

    assert slot.location.phone == "0113 496 0147"


def test_an_organization_address_and_telecom_given_as_objects_are_read():
    doc = builders.bundle(
        builders.slot("1000", NINE),
        builders.schedule(),
        builders.practitioner(),
        builders.location(),
        builders.organisation(single_objects=True),
    )
    [slot] = _parse(doc)

    assert slot.schedule.organisation.ods_code == "A20047"


@pytest.mark.parametrize("entry", [False, True])
def test_an_empty_bundle_with_or_without_entry_means_no_slots(entry):
    doc = builders.bundle(entry=entry)
    if entry:
        assert doc["entry"] == []

    assert _parse(doc) == ()


@pytest.mark.parametrize("full_urls", [False, True])
def test_references_resolve_by_type_and_id_with_or_without_full_urls(full_urls):
    doc = builders.slot_bundle([builders.slot("1000", NINE)], full_urls=full_urls)

    [slot] = _parse(doc)
    assert slot.location.name == "Riverside Medical Centre"


def test_absolute_and_versioned_references_resolve_too():
    slot = builders.slot("1000", NINE)
    slot["schedule"]["reference"] = "https://provider.example/fhir/Schedule/1/_history/3"
    [parsed] = _parse(builders.slot_bundle([slot]))

    assert parsed.schedule_id == "1"


def test_whole_resources_inside_appointment_participants_are_used():
    resource = builders.appointment()
    resource["participant"][1]["resource"] = builders.location(name="Holbeck Branch Surgery")
    resource["participant"][2]["resource"] = builders.practitioner(family="Shah", given="Ravi")

    appointment = parse_appointment(resource, RIVERSIDE, PATIENT)

    assert appointment.location.name == "Holbeck Branch Surgery"
    assert appointment.practitioner.name == "Dr Ravi Shah"
    # What cancel sends back is the resource exactly as read, deviation and all.
    assert '"resource"' in appointment.source_json


# --- One bad resource never hides the rest ------------------------------------------------------


def _broken(change):
    bad = builders.slot("bad", "2027-03-01T10:00:00+00:00")
    change(bad)
    return bad


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.pop("start"),
        lambda s: s.update(start="2027-03-01"),
        lambda s: s.update(start="2027-03-01T10:00:00"),
        lambda s: s.update(start="2027-13-01T10:00:00+00:00"),
        lambda s: s.update(end="2027-03-01T09:50:00+00:00"),
        lambda s: s.update(status="busy"),
        lambda s: s.update(id="no spaces allowed"),
        lambda s: s.update(schedule={"reference": "Schedule/999"}),
        lambda s: s.update(schedule="Schedule/1"),
        lambda s: s.update(serviceType={"text": "Not a list"}),
        lambda s: s.update(extension=[{"url": builders.DELIVERY_CHANNEL, "valueCode": 7}]),
        lambda s: s.update(extension="In-person"),
    ],
)
def test_a_bad_slot_is_skipped_and_the_others_survive(change, caplog):
    caplog.set_level(logging.WARNING, logger="booking_site.gpconnect")
    doc = builders.slot_bundle(
        [
            builders.slot("1000", NINE),
            _broken(change),
            builders.slot("1002", "2027-03-01T11:00:00+00:00"),
        ]
    )

    slots = _parse(doc)

    assert [s.slot_id for s in slots] == ["1000", "1002"]
    assert "skipped resource ods=A20047 type=Slot" in caplog.text


def test_skipped_resources_are_logged_without_their_values(caplog):
    caplog.set_level(logging.WARNING, logger="booking_site.gpconnect")
    bad = builders.slot("1001", "2027-03-01T10:00:00+00:00")
    bad["serviceType"] = [{"text": ["Mrs Jones asked for this"]}]
    _parse(builders.slot_bundle([bad]))

    assert "id=1001" in caplog.text
    assert "Jones" not in caplog.text


def test_a_bad_schedule_hides_only_its_own_slots():
    doc = builders.bundle(
        builders.slot("1000", NINE, schedule="1"),
        builders.slot("1001", NINE, schedule="2"),
        builders.schedule("1"),
        {**builders.schedule("2"), "actor": [{"reference": "Practitioner/1"}]},  # no Location
        builders.practitioner(),
        builders.location(),
        builders.organisation(),
    )

    assert [s.slot_id for s in _parse(doc)] == ["1000"]


def test_a_bad_location_or_practitioner_only_loses_its_display_details():
    doc = builders.bundle(
        builders.slot("1000", NINE),
        builders.schedule(),
        {**builders.practitioner(), "name": "Dr Okafor"},
        {**builders.location(), "name": ["not", "a", "string"]},
        builders.organisation(),
    )

    [slot] = _parse(doc)
    assert slot.location == gpconnect.Surgery("1")
    assert slot.practitioner.id == "1"
    assert slot.practitioner.name is None
    assert slot.role.code == "R0260"


def test_a_slot_with_an_unexpected_field_is_offered_and_the_drift_logged(caplog):
    caplog.set_level(logging.WARNING, logger="booking_site.gpconnect")
    odd = builders.slot("1000", NINE)
    odd["colour"] = "purple"
    odd["Mrs Jones, 12 High St"] = True

    [slot] = _parse(builders.slot_bundle([odd]))

    assert slot.slot_id == "1000"
    assert "does not conform to STU3 ods=A20047 type=Slot id=1000" in caplog.text
    assert "invalid ?,colour" in caplog.text
    assert "purple" not in caplog.text
    assert "Jones" not in caplog.text


# --- The typed way in and the careful one ------------------------------------------------------


def test_a_conforming_reply_is_decoded_the_typed_way(monkeypatch):
    _only_the_typed_way(monkeypatch)
    nine_thirty = "2027-03-01T09:30:00+00:00"
    body = builders.dumps(
        builders.slot_bundle(
            [
                builders.slot("1001", nine_thirty, schedule="2", channel="Video"),
                builders.slot("1000", NINE, service_type=None, channel=None),
                {**builders.slot("1002", NINE), "status": "busy"},  # well-typed, but not free
            ],
            schedules=2,
        )
    )

    first, second = parse_slot_reply(body, RIVERSIDE)

    assert (first.slot_id, first.slot_type, first.delivery_channel) == ("1000", None, None)
    assert (second.slot_id, second.delivery_channel, second.schedule_id) == ("1001", "Video", "2")
    assert second.practitioner.name == "Dr Amara Okafor"
    assert second.location.name == "Riverside Medical Centre"


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(colour="purple"),  # not an STU3 Slot field
        lambda s: s.update(extension="In-person"),  # a used field of the wrong type
        lambda s: s.update(resourceType="Basic"),  # a resource a slot search never returns
    ],
)
def test_a_reply_the_typed_way_cannot_take_goes_the_careful_way(monkeypatch, change):
    careful = []
    monkeypatch.setattr(
        slot_replies,
        "parse_free_slots",
        lambda doc, practice: careful.append(doc) or parse_free_slots(doc, practice),
    )
    odd = builders.slot("1001", NINE)
    change(odd)
    doc = builders.slot_bundle([builders.slot("1000", NINE), odd])

    slots = parse_slot_reply(builders.dumps(doc), RIVERSIDE)

    assert careful == [doc]
    assert "1000" in [s.slot_id for s in slots]


def test_the_first_slot_of_a_reply_the_typed_way_is_still_checked_in_full(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="booking_site.gpconnect")
    _only_the_typed_way(monkeypatch)
    drifted = {**builders.slot("1000", NINE), "meta": {"profile": "not a list"}}

    [slot] = parse_slot_reply(builders.dumps(builders.slot_bundle([drifted])), RIVERSIDE)

    assert slot.slot_id == "1000"
    assert "does not conform to STU3 ods=A20047 type=Slot id=1000 problem=invalid meta" in (
        caplog.text
    )


def test_the_canary_checks_the_same_json_once_and_reports_drift_every_time(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="booking_site.gpconnect")
    monkeypatch.setattr(stu3, "_CONFORMING", {})
    validated = []
    validate = FhirSlot.model_validate
    monkeypatch.setattr(
        FhirSlot,
        "model_validate",
        lambda resource: validated.append(resource["id"]) or validate(resource),
    )
    same = builders.dumps(builders.slot_bundle([builders.slot("1000", NINE)]))
    changed = builders.dumps(builders.slot_bundle([builders.slot("1000", NINE, 15)]))
    drifted = {**builders.slot("1001", NINE), "meta": {"profile": "not a list"}}
    drifting = builders.dumps(builders.slot_bundle([drifted]))

    for body in (same, same, changed, drifting, drifting):
        parse_slot_reply(body, RIVERSIDE)

    assert validated == ["1000", "1000", "1001", "1001"]
    assert caplog.text.count("does not conform to STU3 ods=A20047 type=Slot id=1001") == 2


# --- Replies that cannot be used at all → "could not be checked" -------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"<html><body>Service Unavailable</body></html>",
        b"",
        b'{"hello": "world"}',
        b"[]",
        builders.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}),
        builders.dumps({"resourceType": "Bundle", "type": "searchset", "entry": {}}),
        builders.dumps(builders.outcome("INTERNAL_SERVER_ERROR")),
        builders.dumps(builders.slot("1000", NINE)),
        # Not JSON by RFC 8259, though Python's own json module would read them.
        b'{"resourceType": "Bundle", "type": "searchset", "total": NaN, "entry": []}',
        b'{"resourceType": "Bundle", "type": "searchset", "id": "\\ud800", "entry": []}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_reply_that_is_not_a_searchset_bundle_means_the_practice_could_not_be_checked(body):
    result = _search_replying(body)

    assert result.status == gpconnect.ResultStatus.FAILED
    assert isinstance(result.failure, gpconnect.InvalidReply)
    assert result.reason == "The practice's system sent a reply we could not read."


# --- Time zones on both sides of the 2027 clock changes ----------------------------------------


def test_times_on_both_sides_of_the_spring_clock_change():
    before = builders.slot("1", "2027-03-28T00:30:00+00:00", 30)
    after = builders.slot("2", "2027-03-28T02:30:00+01:00", 30)
    across = builders.slot("3", "2027-03-28T00:40:00+00:00", end="2027-03-28T02:10:00+01:00")
    first, second, third = _in_given_order(before, after, across)

    assert first.start.utcoffset() == timedelta(0)
    assert (first.start.hour, first.start.minute) == (0, 30)
    assert second.start.utcoffset() == timedelta(hours=1)
    assert (second.start.hour, second.start.minute) == (2, 30)
    assert third.duration == timedelta(minutes=30)
    assert all(s.start.tzinfo is LONDON for s in (first, second, third))


def test_the_repeated_hour_of_the_autumn_clock_change_stays_two_different_times():
    bst = builders.slot("1", "2027-10-31T01:30:00+01:00", 10)
    gmt = builders.slot("2", "2027-10-31T01:30:00+00:00", 10)
    first, second = _in_given_order(bst, gmt)

    assert first.start.utcoffset() == timedelta(hours=1)
    assert second.start.utcoffset() == timedelta(0)
    assert instant(second.start) - instant(first.start) == timedelta(hours=1)
    assert first.duration == second.duration == timedelta(minutes=10)
    assert first.start.strftime("%H:%M") == second.start.strftime("%H:%M") == "01:30"


def test_a_utc_z_time_is_read_as_uk_time():
    [slot] = _parse(builders.slot_bundle([builders.slot("1", "2027-07-01T09:00:00Z", 10)]))

    assert slot.start.isoformat() == "2027-07-01T10:00:00+01:00"
    assert slot.start_raw == "2027-07-01T09:00:00Z"


# --- Appointments ------------------------------------------------------------------------------


def test_an_appointment_is_read_from_the_reply():
    resource = builders.appointment(cancellation_reason="Feeling better", status="cancelled")
    appointment = parse_appointment(resource, RIVERSIDE, PATIENT, etag='W/"7"')

    assert appointment.id == "501"
    assert appointment.version_id == "7"
    assert appointment.is_cancelled
    assert appointment.cancellation_reason == "Feeling better"
    assert appointment.start.isoformat() == "2027-03-01T09:00:00+00:00"
    assert appointment.duration == timedelta(minutes=10)
    assert appointment.slot_ids == ("1000",)
    assert appointment.description == "Sore knee"
    assert appointment.comment == "Afternoon preferred"
    assert appointment.delivery_channel == "In-person"
    assert appointment.slot_type == "General appointment"
    assert appointment.schedule_type == "Morning surgery"
    assert appointment.location == gpconnect.Surgery("1")
    assert appointment.created.tzinfo is LONDON


def test_without_an_etag_the_version_comes_from_meta():
    appointment = parse_appointment(builders.appointment(version="4"), RIVERSIDE, PATIENT)

    assert appointment.version_id == "4"


def test_an_invalid_appointment_is_an_invalid_reply():
    resource = builders.appointment()
    resource["status"] = 12

    with pytest.raises(gpconnect.InvalidReply):
        parse_appointment(resource, RIVERSIDE, PATIENT)


def test_slots_come_earliest_first_whatever_order_the_practice_sends_them_in():
    later = builders.slot("9", "2027-03-01T10:00:00+00:00", 10)
    longer = builders.slot("5", NINE, 20)
    westfield = builders.slot("0", NINE, 10, schedule="2")
    riverside_b = builders.slot("2", NINE, 10)
    riverside_a = builders.slot("1", NINE, 10)
    doc = builders.bundle(
        later,
        longer,
        westfield,
        riverside_b,
        riverside_a,
        builders.schedule("1"),
        builders.schedule("2", location="2"),
        builders.practitioner(),
        builders.location(),
        builders.location("2", name="Westfield Surgery"),
        builders.organisation(),
    )

    slots = _parse(doc)

    # Start, then end (shorter first), then surgery name, then slot id.
    assert [s.slot_id for s in slots] == ["1", "2", "0", "5", "9"]


def test_a_slot_id_sent_twice_in_one_reply_does_not_break_the_ordering():
    twice = builders.slot("1", NINE, 10)

    slots = _parse(builders.slot_bundle([twice, dict(twice)]))

    assert [s.slot_id for s in slots] == ["1", "1"]


def test_a_reply_starting_with_a_byte_order_mark_is_read():
    body = b"\xef\xbb\xbf" + builders.dumps(builders.slot_bundle([builders.slot("1000", NINE)]))
    result = _search_replying(body)

    assert [s.slot_id for s in result.slots] == ["1000"]
