"""Slot search: CONFORMANCE §1.2, §1.3, §2 and §7.5–7.8."""

import datetime

import pytest

from gp_sandbox import factories
from gp_sandbox.factories import uk
from gp_sandbox.models import Slot
from tests.gp_sandbox.checks import assert_outcome, entries
from tests.gp_sandbox.sandbox_api import SandboxApi

pytestmark = pytest.mark.usefixtures("clock")

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
ORG_TYPE = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1"
ALL_RECURSE = [
    "Schedule:actor:Practitioner",
    "Schedule:actor:Location",
    "Location:managingOrganization",
]


def query(
    start: str = "ge2027-03-23",
    end: str = "le2027-03-24",
    *,
    recurse: list[str] | None = None,
    filters: list[str] | None = None,
    **extra: str,
) -> dict:
    params = {
        "start": start,
        "end": end,
        "status": "free",
        "_include": "Slot:schedule",
        "_include:recurse": ALL_RECURSE if recurse is None else recurse,
    }
    if filters is not None:
        params["searchFilter"] = filters
    return params | extra


def slot_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {int(slot["id"]) for slot in entries(response.json(), "Slot")}


# --- Happy path and response shape ---------------------------------------------------------


def test_search_returns_slots_with_schedule_location_practitioner_and_organization(
    api, practice, schedule
):
    first, _second = factories.make_slots(schedule, uk("2027-03-23 09:00"), 2)

    response = api.search(query())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["meta"]["profile"] == [SD + "GPConnect-Searchset-Bundle-1"]
    assert all("fullUrl" not in entry for entry in bundle["entry"])
    types = sorted(r["resourceType"] for r in entries(bundle))
    assert types == ["Location", "Organization", "Practitioner", "Schedule", "Slot", "Slot"]
    for resource in entries(bundle):
        assert resource["id"]
        assert resource["meta"]["versionId"] == "1"
        assert resource["meta"]["profile"]

    slot = next(s for s in entries(bundle, "Slot") if s["id"] == str(first.pk))
    assert slot == {
        "resourceType": "Slot",
        "id": str(first.pk),
        "meta": {"versionId": "1", "profile": [SD + "GPConnect-Slot-1"]},
        "extension": [
            {"url": SD + "Extension-GPConnect-DeliveryChannel-2", "valueCode": "In-person"}
        ],
        "serviceType": [{"text": "General appointment"}],
        "schedule": {"reference": f"Schedule/{schedule.pk}"},
        "status": "free",
        "start": "2027-03-23T09:00:00+00:00",
        "end": "2027-03-23T09:10:00+00:00",
    }
    [schedule_resource] = entries(bundle, "Schedule")
    assert schedule_resource["meta"]["profile"] == [SD + "GPConnect-Schedule-1"]
    assert schedule_resource["extension"] == [
        {
            "url": SD + "Extension-GPConnect-PractitionerRole-1",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                        "code": "R0260",
                        "display": "General Medical Practitioner",
                    }
                ]
            },
        }
    ]
    assert schedule_resource["serviceCategory"] == {"text": "Morning surgery"}
    assert schedule_resource["actor"] == [
        {"reference": f"Location/{schedule.location_id}"},
        {"reference": f"Practitioner/{schedule.practitioner_id}"},
    ]
    [location] = entries(bundle, "Location")
    assert location["id"] == str(schedule.location_id)
    assert location["managingOrganization"] == {"reference": f"Organization/{practice.pk}"}
    assert location["address"]["postalCode"] == "RS1 1AA"
    [practitioner] = entries(bundle, "Practitioner")
    assert practitioner["name"][0] == {
        "use": "usual",
        "family": "Jones",
        "given": ["Ann"],
        "prefix": ["Dr"],
    }
    assert practitioner["identifier"][0]["system"] == "https://fhir.nhs.uk/Id/sds-user-id"
    [organization] = entries(bundle, "Organization")
    assert organization["identifier"] == [{"system": ODS, "value": "A20047"}]
    assert organization["name"] == practice.name


def test_search_returns_only_the_included_resources_but_always_the_organization(api, schedule):
    factories.make_slot(schedule, uk("2027-03-23 09:00"))

    response = api.search(query(recurse=[]))

    types = sorted(r["resourceType"] for r in entries(response.json()))
    assert types == ["Organization", "Schedule", "Slot"]


def test_search_honours_each_recurse_include_on_its_own(api, schedule):
    factories.make_slot(schedule, uk("2027-03-23 09:00"))

    only_location = api.search(query(recurse=["Schedule:actor:Location"])).json()
    only_practitioner = api.search(query(recurse=["Schedule:actor:Practitioner"])).json()

    assert entries(only_location, "Location")
    assert not entries(only_location, "Practitioner")
    assert entries(only_practitioner, "Practitioner")
    assert not entries(only_practitioner, "Location")


def test_search_finding_nothing_returns_an_empty_searchset_without_entries(api, schedule):
    factories.make_slot(schedule, uk("2027-04-20 09:00"))

    response = api.search(query())

    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset"
    assert "entry" not in bundle


def test_slot_without_delivery_channel_and_schedule_without_practitioner_omit_them(api, practice):
    schedule = factories.make_schedule(practice, with_practitioner=False, service_category="")
    factories.make_slot(schedule, uk("2027-03-23 09:00"), delivery_channel="", service_type="")

    bundle = api.search(query()).json()

    [slot] = entries(bundle, "Slot")
    assert "extension" not in slot
    assert "serviceType" not in slot
    [schedule_resource] = entries(bundle, "Schedule")
    assert "extension" not in schedule_resource
    assert "serviceCategory" not in schedule_resource
    assert schedule_resource["actor"] == [{"reference": f"Location/{schedule.location_id}"}]
    assert not entries(bundle, "Practitioner")


def test_practitioner_without_a_role_gives_the_schedule_no_role_extension(api, practice):
    practitioner = factories.make_practitioner(practice, role_code="", role_display="")
    schedule = factories.make_schedule(practice, practitioner=practitioner)
    factories.make_slot(schedule, uk("2027-03-23 09:00"))

    [schedule_resource] = entries(api.search(query()).json(), "Schedule")

    assert "extension" not in schedule_resource


# --- Which slots ---------------------------------------------------------------------------


def test_search_never_returns_busy_visit_or_past_slots(api, schedule, clock):
    clock.set(uk("2027-03-23 09:30"))
    past = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    started = factories.make_slot(schedule, uk("2027-03-23 09:25"))
    busy = factories.make_slot(schedule, uk("2027-03-23 10:00"), status=Slot.Status.BUSY)
    visit = factories.make_slot(
        schedule, uk("2027-03-23 10:10"), delivery_channel=Slot.DeliveryChannel.VISIT
    )
    free = factories.make_slot(schedule, uk("2027-03-23 10:20"))

    found = slot_ids(api.search(query(start="ge2027-03-23")))

    assert found == {free.pk}
    assert not found & {past.pk, started.pk, busy.pk, visit.pk}


def test_searching_from_the_past_is_allowed_and_finds_future_slots(api, schedule):
    future = factories.make_slot(schedule, uk("2027-03-23 09:00"))

    found = slot_ids(api.search(query(start="ge2027-03-15", end="le2027-03-24")))

    assert found == {future.pk}


def test_slots_must_lie_fully_inside_the_window(api, schedule):
    before = factories.make_slot(schedule, uk("2027-03-23 08:55"))
    inside = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    straddling_end = factories.make_slot(schedule, uk("2027-03-23 11:55"))

    found = slot_ids(
        api.search(query(start="ge2027-03-23T09:00:00+00:00", end="le2027-03-23T12:00:00+00:00"))
    )

    assert found == {inside.pk}
    assert before.pk not in found
    assert straddling_end.pk not in found


def test_an_end_date_includes_the_whole_of_that_day(api, schedule):
    late = factories.make_slot(schedule, uk("2027-03-24 23:50"))
    next_day = factories.make_slot(schedule, uk("2027-03-25 00:00"))

    found = slot_ids(api.search(query(start="ge2027-03-23", end="le2027-03-24")))

    assert found == {late.pk}
    assert next_day.pk not in found


def test_search_only_returns_the_practice_s_own_slots(api, schedule):
    other_schedule = factories.make_schedule(factories.make_practice())
    factories.make_slot(other_schedule, uk("2027-03-23 09:00"))
    own = factories.make_slot(schedule, uk("2027-03-23 09:00"))

    assert slot_ids(api.search(query())) == {own.pk}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], {"open"}),
        ([f"{ORG_TYPE}|gp-practice"], {"open", "gp type"}),
        ([f"{ODS}|X26"], {"open", "X26"}),
        ([f"{ODS}|X26", f"{ORG_TYPE}|gp-practice"], {"open", "gp type", "X26", "X26 gp type"}),
        ([f"{ORG_TYPE}|urgent-care"], {"open", "urgent type"}),
        (["https://example.org/unknown-system|anything"], {"open"}),
        ([f"{ORG_TYPE}|oncology"], {"open"}),
        ([f"{ODS}|Y12345"], {"open", "Y12345"}),
    ],
    ids=[
        "no filter",
        "type only",
        "ods only",
        "type and ods",
        "other type",
        "unknown system ignored",
        "unknown type ignored",
        "other ods",
    ],
)
def test_search_filters_follow_the_restriction_matrix(api, schedule, filters, expected):
    restrictions = {
        "open": {},
        "gp type": {"restricted_org_type": "gp-practice"},
        "urgent type": {"restricted_org_type": "urgent-care"},
        "X26": {"restricted_ods_code": "X26"},
        "Y12345": {"restricted_ods_code": "Y12345"},
        "X26 gp type": {"restricted_ods_code": "X26", "restricted_org_type": "gp-practice"},
    }
    start = uk("2027-03-23 09:00")
    slots = {}
    for i, (name, fields) in enumerate(restrictions.items()):
        slots[name] = factories.make_slot(
            schedule, start + datetime.timedelta(minutes=10 * i), **fields
        )

    found = slot_ids(api.search(query(filters=filters)))

    assert found == {slots[name].pk for name in expected}


# --- Parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["start", "end", "status", "_include"])
def test_a_missing_mandatory_parameter_is_a_bad_request(api, missing):
    params = query()
    del params[missing]

    assert_outcome(api.search(params), 400, "BAD_REQUEST", missing)


def test_include_without_slot_schedule_is_a_bad_request(api):
    response = api.search(query(_include="Schedule:actor:Location"))

    assert_outcome(response, 400, "BAD_REQUEST", "_include=Slot:schedule")


def test_a_second_include_value_is_an_invalid_parameter(api):
    response = api.search(query(_include=["Slot:schedule", "Slot:practitioner"]))

    assert_outcome(response, 422, "INVALID_PARAMETER", "Slot:practitioner")


def test_status_other_than_free_is_an_invalid_parameter(api):
    assert_outcome(api.search(query(status="busy")), 422, "INVALID_PARAMETER", "'free'")


def test_an_unknown_recurse_include_is_an_invalid_parameter(api):
    response = api.search(query(recurse=["Schedule:actor:HealthcareService"]))

    assert_outcome(response, 422, "INVALID_PARAMETER", "Schedule:actor:HealthcareService")


def test_unknown_search_parameters_are_ignored(api, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))

    assert slot_ids(api.search(query(_sort="start", _count="3"))) == {slot.pk}


@pytest.mark.parametrize(
    ("start", "end", "diagnostics"),
    [
        ("2027-03-23", "le2027-03-24", "prefix 'ge'"),
        ("gt2027-03-23", "le2027-03-24", "prefix 'ge'"),
        ("ge2027-03-23", "lt2027-03-24", "prefix 'le'"),
        ("le2027-03-23", "ge2027-03-24", "prefix 'ge'"),
        ("", "le2027-03-24", "prefix 'ge'"),
        ("ge", "le2027-03-24", "full date"),
        ("ge2027", "le2027-03-24", "partial dates"),
        ("ge2027-03", "le2027-03-24", "partial dates"),
        ("ge2027-03-23T00:00:00Z", "le2027-03-24", "not Z"),
        ("ge2027-03-23T00:00:00", "le2027-03-24", "partial dates"),
        ("ge2027-03-23T00:00+00:00", "le2027-03-24", "partial dates"),
        ("ge2027-03-23T00:00:00.000+00:00", "le2027-03-24", "partial dates"),
        ("ge2027-02-30", "le2027-03-24", "not a real date"),
        ("ge2027-03-23T25:00:00+00:00", "le2027-03-24", "not a real date and time"),
        ("ge2027-03-23T00:00:00+02:00", "le2027-03-24", "UK time then is +00:00"),
        ("ge2027-03-23T00:00:00-01:00", "le2027-03-24", "UK time then is +00:00"),
        ("ge2027-03-24", "le2027-03-23", "end is before its start"),
    ],
)
def test_bad_search_dates_are_invalid_parameters(api, start, end, diagnostics):
    assert_outcome(api.search(query(start, end)), 422, "INVALID_PARAMETER", diagnostics)


def test_start_sent_twice_is_an_invalid_parameter(api):
    response = api.search(query(start=["ge2027-03-23", "ge2027-03-24"]))

    assert_outcome(response, 422, "INVALID_PARAMETER", "exactly once")


def test_an_unencoded_plus_in_the_offset_is_explained(api):
    response = api.search(
        "start=ge2027-03-23T00:00:00+00:00&end=le2027-03-24&status=free&_include=Slot:schedule"
    )

    assert_outcome(response, 422, "INVALID_PARAMETER", "percent-encode + as %2B")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("ge2027-03-23", "le2027-03-23"),
        ("ge2027-03-23", "le2027-04-06"),
        ("ge2027-03-23T00:00:00+00:00", "le2027-04-06T00:00:00+01:00"),
        ("ge2027-03-23", "le2027-04-06T00:00:00+01:00"),
        ("ge2027-03-23T10:00:00+00:00", "le2027-03-23"),
        ("ge2027-03-23T10:00:00+00:00", "le2027-03-23T10:00:00+00:00"),
    ],
    ids=[
        "0 days",
        "14 days",
        "14 days of dateTimes across the clock change",
        "date and dateTime mixed",
        "end date later in the same day",
        "empty instant",
    ],
)
def test_windows_of_zero_to_fourteen_days_are_accepted(api, start, end):
    assert api.search(query(start, end)).status_code == 200


@pytest.mark.parametrize(
    ("start", "end", "diagnostics"),
    [
        ("ge2027-03-23", "le2027-04-07", "15 days"),
        ("ge2027-03-23T00:00:00+00:00", "le2027-04-06T01:00:00+01:00", "14 days and more"),
        ("ge2027-03-23", "le2027-04-23", "31 days"),
        ("ge2027-03-23T10:00:00+00:00", "le2027-03-23T09:00:00+00:00", "before its start"),
        ("ge2027-03-23", "le2027-03-22", "before its start"),
    ],
)
def test_windows_over_fourteen_days_or_backwards_are_invalid_parameters(
    api, start, end, diagnostics
):
    assert_outcome(api.search(query(start, end)), 422, "INVALID_PARAMETER", diagnostics)


# --- UK clock changes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "ge2027-03-27T00:00:00+00:00",
        "ge2027-03-28T00:00:00+00:00",
        "ge2027-03-28T00:59:59+00:00",
        "ge2027-03-28T02:00:00+01:00",
        "ge2027-03-29T00:00:00+01:00",
    ],
)
def test_the_right_offset_either_side_of_the_spring_change_is_accepted(api, start):
    assert api.search(query(start, "le2027-04-01")).status_code == 200


@pytest.mark.parametrize(
    ("start", "wanted"),
    [
        ("ge2027-03-29T00:00:00+00:00", "+01:00"),
        ("ge2027-03-28T03:00:00+00:00", "+01:00"),
        ("ge2027-03-27T00:00:00+01:00", "+00:00"),
        ("ge2027-03-28T00:00:00+01:00", "+00:00"),
    ],
    ids=[
        "GMT offset on a BST date",
        "GMT offset after the change",
        "BST offset on a GMT date",
        "BST offset at midnight before the change",
    ],
)
def test_the_wrong_offset_either_side_of_the_spring_change_is_rejected(api, start, wanted):
    response = api.search(query(start, "le2027-04-01"))

    assert_outcome(response, 422, "INVALID_PARAMETER", f"UK time then is {wanted}")


@pytest.mark.parametrize(
    ("start", "accepted"),
    [
        ("ge2027-10-30T00:00:00+01:00", True),
        ("ge2027-10-31T00:00:00+01:00", True),
        ("ge2027-10-31T01:30:00+01:00", True),
        ("ge2027-10-31T01:30:00+00:00", True),
        ("ge2027-11-01T00:00:00+00:00", True),
        ("ge2027-10-30T00:00:00+00:00", False),
        ("ge2027-10-31T00:00:00+00:00", False),
        ("ge2027-11-01T00:00:00+01:00", False),
    ],
)
def test_offsets_either_side_of_the_autumn_change(api, clock, start, accepted):
    clock.set(uk("2027-10-25 09:00"))

    response = api.search(query(start, "le2027-11-05"))

    if accepted:
        assert response.status_code == 200, response.content
    else:
        assert_outcome(response, 422, "INVALID_PARAMETER", "has offset")


def test_slots_either_side_of_the_spring_change_render_with_their_own_offsets(api, schedule):
    saturday = factories.make_slot(schedule, uk("2027-03-27 09:00"))
    before_change = factories.make_slot(schedule, uk("2027-03-28 00:30"), minutes=20)
    after_change = factories.make_slot(schedule, uk("2027-03-28 03:00"))
    monday = factories.make_slot(schedule, uk("2027-03-29 09:00"))

    bundle = api.search(query("ge2027-03-27", "le2027-03-29")).json()

    rendered = {int(s["id"]): (s["start"], s["end"]) for s in entries(bundle, "Slot")}
    assert rendered == {
        saturday.pk: ("2027-03-27T09:00:00+00:00", "2027-03-27T09:10:00+00:00"),
        before_change.pk: ("2027-03-28T00:30:00+00:00", "2027-03-28T00:50:00+00:00"),
        after_change.pk: ("2027-03-28T03:00:00+01:00", "2027-03-28T03:10:00+01:00"),
        monday.pk: ("2027-03-29T09:00:00+01:00", "2027-03-29T09:10:00+01:00"),
    }


def test_a_slot_straddling_the_autumn_change_renders_each_end_in_its_own_offset(
    api, schedule, clock
):
    clock.set(uk("2027-10-25 09:00"))
    # 00:50 UTC is 01:50 BST; an hour later the clocks have gone back to 01:50 GMT.
    start = datetime.datetime(2027, 10, 31, 0, 50, tzinfo=datetime.UTC)
    straddling = factories.make_slot(schedule, start, minutes=20)

    bundle = api.search(query("ge2027-10-31", "le2027-10-31")).json()

    [slot] = entries(bundle, "Slot")
    assert slot["id"] == str(straddling.pk)
    assert (slot["start"], slot["end"]) == (
        "2027-10-31T01:50:00+01:00",
        "2027-10-31T01:10:00+00:00",
    )


def test_a_slot_changed_between_two_searches_is_answered_as_it_is_now(api, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"), delivery_channel="In-person")
    api.search(query())
    slot.delivery_channel = "Telephone"
    slot.start, slot.end = uk("2027-03-23 09:30"), uk("2027-03-23 09:40")
    slot.save()

    [rendered] = entries(api.search(query()).json(), "Slot")

    assert rendered["extension"][0]["valueCode"] == "Telephone"
    assert (rendered["start"], rendered["end"]) == (
        "2027-03-23T09:30:00+00:00",
        "2027-03-23T09:40:00+00:00",
    )


# --- Who may search, and the practice's fault switches -------------------------------------


def test_a_service_token_may_search_for_slots(service_api, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))

    assert slot_ids(service_api.search(query())) == {slot.pk}


def test_registered_patients_only_does_not_stop_anyone_searching(client, practice, schedule):
    practice.registered_patients_only = True
    practice.save()
    elsewhere = factories.make_practice()
    visitor = factories.make_patient(elsewhere, factories.OTHER_NHS_NUMBER)
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    visitor_api = SandboxApi(client, practice.ods_code, visitor.nhs_number)

    assert slot_ids(visitor_api.search(query())) == {slot.pk}


def test_an_always_empty_practice_finds_no_slots(api, practice, schedule):
    factories.make_slot(schedule, uk("2027-03-23 09:00"))
    practice.always_empty = True
    practice.save()

    response = api.search(query())

    assert response.status_code == 200
    assert response.json()["type"] == "searchset"
    assert "entry" not in response.json()


def test_a_malformed_json_practice_replies_with_a_body_that_is_not_json(api, practice, schedule):
    factories.make_slot(schedule, uk("2027-03-23 09:00"))
    practice.malformed_json = True
    practice.save()

    response = api.search(query())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    with pytest.raises(ValueError, match="Expecting"):
        response.json()


def test_an_invalid_fhir_practice_replies_with_json_that_is_not_a_bundle_of_entries(
    api, practice, schedule
):
    factories.make_slot(schedule, uk("2027-03-23 09:00"))
    practice.invalid_fhir = True
    practice.save()

    response = api.search(query())

    assert response.status_code == 200
    assert response.json() == {"resourceType": "Bundle", "type": "searchset", "entry": "oops"}


def test_fault_switches_still_reject_invalid_parameters(api, practice):
    practice.malformed_json = True
    practice.save()

    assert_outcome(api.search(query(status="busy")), 422, "INVALID_PARAMETER")
