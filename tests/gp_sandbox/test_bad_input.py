"""Input no practice system could hold is refused with a 4xx OperationOutcome, never a 500."""

import pytest

from gp_sandbox import factories
from tests.fuzz.postgres_like import nul_refused
from tests.gp_sandbox.checks import assert_outcome
from tests.gp_sandbox.test_slot_search import ODS, query, slot_ids

pytestmark = pytest.mark.usefixtures("clock")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("ge9999-12-30", "le9999-12-31"),
        ("ge9999-12-31", "le9999-12-31"),
        ("ge0001-01-01T00:00:00+00:00", "le0001-01-02"),
    ],
)
def test_a_slot_search_at_the_ends_of_the_calendar_is_an_invalid_parameter(api, start, end):
    response = api.search(query(start, end))

    assert_outcome(response, 422, "INVALID_PARAMETER", "outside the dates")


def test_retrieving_appointments_up_to_the_last_day_of_the_calendar_is_an_invalid_parameter(api):
    response = api.appointments(
        factories.PATIENT_NHS_NUMBER, "start=ge2027-03-22&start=le9999-12-31"
    )

    assert_outcome(response, 422, "INVALID_PARAMETER", "outside the dates")


def test_a_nul_byte_in_a_search_filter_s_ods_code_is_ignored(api, schedule):
    slot = factories.make_slot(schedule, factories.uk("2027-03-23 09:00"))

    with nul_refused():
        response = api.search(query(filters=[f"{ODS}|A2\x000047"]))

    assert slot_ids(response) == {slot.pk}


def test_a_nul_byte_in_the_practice_code_is_an_unknown_practice(api):
    with nul_refused():
        response = api.client.get(
            api.url("Slot", ods_code="A2%0047"), query(), headers=api.headers()
        )

    assert_outcome(response, 404, "ORGANISATION_NOT_FOUND")
