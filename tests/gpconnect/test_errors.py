"""Every provider refusal becomes the right typed error with a plain-English message."""

import pickle
import uuid
from datetime import date

import httpx
import pytest

from booking_site import gpconnect
from booking_site.gpconnect import errors

from . import builders
from .conftest import CORRELATION_ID, PATIENT, RIVERSIDE, fhir_response, run

DEMO_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
APIM_SYSTEM = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"


def _free_slot():
    doc = builders.slot_bundle([builders.slot("1000", "2027-03-01T09:00:00+00:00")])
    from booking_site.gpconnect.parsing.slot_replies import parse_free_slots

    return parse_free_slots(doc, RIVERSIDE)[0]


def _book_against(response: httpx.Response):
    slot = _free_slot()
    details = gpconnect.BookingDetails("Sore knee")

    def call():
        return gpconnect.book(
            RIVERSIDE,
            slot,
            PATIENT,
            details,
            request_id=str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
        )

    with pytest.raises(gpconnect.ProviderError) as raised:
        run(lambda request: response, call)
    return raised.value


def _cancel_against(response: httpx.Response):
    appointment = gpconnect.BookedAppointment(
        practice=RIVERSIDE,
        id="501",
        version_id="1",
        status="booked",
        start=None,
        end=None,
        slot_ids=("1000",),
        description="Sore knee",
        comment=None,
        created=None,
        location=None,
        practitioner=None,
        delivery_channel=None,
        slot_type=None,
        schedule_type=None,
        cancellation_reason=None,
        source_json=builders.dumps(builders.appointment()).decode(),
    )

    def call():
        return gpconnect.cancel(
            RIVERSIDE, PATIENT, appointment, "Feeling better", request_id=str(uuid.uuid4())
        )

    with pytest.raises(gpconnect.ProviderError) as raised:
        run(lambda request: response, call)
    return raised.value


def _read_against(response: httpx.Response):
    with pytest.raises(gpconnect.ProviderError) as raised:
        run(
            lambda request: response,
            lambda: gpconnect.read_appointment(RIVERSIDE, PATIENT, "501"),
        )
    return raised.value


@pytest.mark.parametrize(
    ("status", "code", "system", "expected", "message"),
    [
        (409, "DUPLICATE_REJECTED", None, gpconnect.SlotTaken, "just been booked"),
        # The demonstrator's coding system and issue type differ: the code alone decides (D6).
        (409, "DUPLICATE_REJECTED", DEMO_SYSTEM, gpconnect.SlotTaken, "just been booked"),
        (422, "INVALID_RESOURCE", None, gpconnect.InvalidRequest, "could not accept"),
        (422, "INVALID RESOURCE", None, gpconnect.InvalidRequest, "could not accept"),
        (422, "INVALID_PARAMETER", None, gpconnect.InvalidRequest, "could not accept"),
        (422, "REFERENCE_NOT_FOUND", None, gpconnect.InvalidRequest, "could not accept"),
        (400, "BAD_REQUEST", None, gpconnect.InvalidRequest, "could not accept"),
        (400, "INVALID_NHS_NUMBER", None, gpconnect.InvalidRequest, "your NHS number"),
        (403, "ACCESS_DENIED", None, gpconnect.Forbidden, "not available at this practice"),
        (403, "NO_ORGANISATION_CONSENT", None, gpconnect.Forbidden, "not available"),
        (400, "NO_ORGANISATION_CONSENT", None, gpconnect.Forbidden, "not available"),
        (401, "ACCESS_DENIED", APIM_SYSTEM, gpconnect.NotAuthorised, "Sign in again"),
        (404, "PATIENT_NOT_FOUND", None, gpconnect.NotFound, "find your record"),
        (404, "ORGANISATION_NOT_FOUND", None, gpconnect.NotFound, "find your record"),
        (500, "INTERNAL_SERVER_ERROR", None, gpconnect.Unavailable, "not responding"),
    ],
)
def test_booking_refusals_become_typed_errors(status, code, system, expected, message):
    error = _book_against(fhir_response(status, builders.outcome(code, system=system)))

    assert type(error) is expected
    assert message in error.message
    assert error.code == code.replace(" ", "_")
    assert error.diagnostics == "error for Patient/9000000009"


def test_a_bare_not_found_means_the_practice_has_no_service():
    error = _book_against(httpx.Response(404, text="Not Found"))

    assert isinstance(error, gpconnect.NotFound)
    assert error.message == "This practice does not offer online appointments yet."
    assert error.code is None


def test_an_unsupported_media_type_is_an_invalid_request():
    error = _book_against(httpx.Response(415))

    assert isinstance(error, gpconnect.InvalidRequest)


def test_an_unexpected_status_is_an_invalid_reply():
    error = _book_against(httpx.Response(302, headers={"Location": "http://elsewhere"}))

    assert isinstance(error, gpconnect.InvalidReply)


@pytest.mark.parametrize(
    ("status", "code", "expected", "message"),
    [
        (403, "ACCESS_DENIED", gpconnect.CancellationDisabled, "cancel appointments online"),
        (461, "ACCESS_DENIED", gpconnect.TooLateToCancel, "too late to cancel"),
        (409, "ACCESS_DENIED", gpconnect.CancellationRefused, "could not cancel"),
        (409, "FHIR_CONSTRAINT_VIOLATION", gpconnect.VersionConflict, "has changed"),
        (422, "INVALID_PARAMETER", gpconnect.InvalidRequest, "could not accept"),
        (422, "INVALID_RESOURCE", gpconnect.InvalidRequest, "could not accept"),
        (404, "NO_RECORD_FOUND", gpconnect.NotFound, "find this appointment"),
    ],
)
def test_cancellation_refusals_become_typed_errors(status, code, expected, message):
    error = _cancel_against(fhir_response(status, builders.outcome(code)))

    assert type(error) is expected
    assert message in error.message
    assert error.code == code


def test_too_late_to_cancel_and_cancellation_disabled_are_kinds_of_forbidden():
    assert issubclass(gpconnect.TooLateToCancel, gpconnect.Forbidden)
    assert issubclass(gpconnect.CancellationDisabled, gpconnect.Forbidden)


@pytest.mark.parametrize("code", ["NO_RECORD_FOUND", "REFERENCE_NOT_FOUND"])
def test_reading_an_unknown_appointment_is_not_found_whatever_the_code(code):
    error = _read_against(fhir_response(404, builders.outcome(code)))

    assert isinstance(error, gpconnect.NotFound)
    assert error.message == "We could not find this appointment at the practice."


def test_a_failed_search_names_the_error_in_its_result():
    [result], _ = run(
        lambda request: fhir_response(422, builders.outcome("INVALID_PARAMETER")),
        lambda: gpconnect.search_free_slots(
            [RIVERSIDE],
            gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 5)),
            PATIENT,
            correlation_id=CORRELATION_ID,
        ),
    )

    assert result.status == gpconnect.ResultStatus.FAILED
    assert isinstance(result.failure, gpconnect.InvalidRequest)
    assert result.reason == "The practice's system could not accept this request."
    assert result.slots == ()


def test_errors_survive_pickling_with_their_details():
    error = errors.Unavailable(code="X", diagnostics="d", timed_out=True)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert (copy.message, copy.code, copy.diagnostics, copy.timed_out) == (
        error.message,
        "X",
        "d",
        True,
    )
    taken = pickle.loads(  # noqa: S301 - our own bytes
        pickle.dumps(errors.SlotTaken(code="DUPLICATE_REJECTED"))
    )
    assert isinstance(taken, errors.SlotTaken)
    assert taken.code == "DUPLICATE_REJECTED"


def test_operation_outcome_codes_are_read_whatever_their_spelling():
    parse = errors.normalise_code
    assert parse("invalid resource") == "INVALID_RESOURCE"
    assert parse(" ACCESS DENIED ") == "ACCESS_DENIED"
    assert parse("") is None
    assert parse(42) is None
