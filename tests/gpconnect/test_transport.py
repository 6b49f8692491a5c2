"""Headers, retries, time limits, per-host bounds and log lines of the one HTTP chokepoint."""

import asyncio
import json
import logging
import uuid
from datetime import date

import httpx
import pytest

from booking_site import gpconnect
from booking_site.gpconnect.parsing.slot_replies import parse_free_slots

from . import builders
from .conftest import (
    CORRELATION_ID,
    HILLSIDE,
    PATIENT,
    RIVERSIDE,
    StaticCredentials,
    fhir_response,
    run,
)

MARCH = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 5))
EMPTY = builders.bundle(entry=False)


def _search(practices=(RIVERSIDE,), date_range=MARCH, patient=PATIENT):
    return lambda: gpconnect.search_free_slots(
        list(practices), date_range, patient, correlation_id=CORRELATION_ID
    )


def _slot():
    doc = builders.slot_bundle([builders.slot("1000", "2027-03-01T09:00:00+00:00")])
    return parse_free_slots(doc, RIVERSIDE)[0]


def _is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


def _answers(*responses):
    """Answer with each response (or raise each exception) in turn; repeat the last."""
    queue = list(responses)

    def respond(request):
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return respond


def test_a_search_sends_the_patient_token_and_tracing_headers():
    _, recorder = run(lambda request: fhir_response(200, EMPTY), _search())

    [request] = recorder.requests
    assert request.method == "GET"
    assert request.headers["Authorization"] == "Bearer patient-token"
    assert request.headers["Accept"] == "application/fhir+json"
    assert _is_uuid4(request.headers["X-Request-ID"])
    assert request.headers["X-Correlation-ID"] == CORRELATION_ID
    assert "Content-Type" not in request.headers


def test_a_staff_preview_searches_with_a_service_token():
    _, recorder = run(lambda request: fhir_response(200, EMPTY), _search(patient=None))

    assert recorder.requests[0].headers["Authorization"] == "Bearer service-token"


def test_each_window_is_its_own_logical_request_with_its_own_request_id():
    long_range = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 30))
    _, recorder = run(lambda request: fhir_response(200, EMPTY), _search(date_range=long_range))

    ids = {request.headers["X-Request-ID"] for request in recorder.requests}
    assert len(recorder.requests) == 3
    assert len(ids) == 3


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(503),
        httpx.Response(502),
        httpx.Response(504),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response"),
        httpx.ReadTimeout("slow"),
    ],
)
def test_a_transient_failure_is_retried_with_the_same_request_id(first):
    [result], recorder = run(_answers(first, fhir_response(200, EMPTY)), _search())

    assert result.status == gpconnect.ResultStatus.NONE
    first_id, second_id = (r.headers["X-Request-ID"] for r in recorder.requests)
    assert len(recorder.requests) == 2
    assert first_id == second_id


def test_retries_are_bounded_by_the_setting(settings):
    settings.GPCONNECT_RETRIES = 2
    [result], recorder = run(lambda request: httpx.Response(503), _search())

    assert len(recorder.requests) == 3
    assert isinstance(result.failure, gpconnect.Unavailable)
    assert len({r.headers["X-Request-ID"] for r in recorder.requests}) == 1


def test_no_retries_when_the_setting_is_zero(settings):
    settings.GPCONNECT_RETRIES = 0
    _, recorder = run(lambda request: httpx.Response(503), _search())

    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (403, "ACCESS_DENIED"),
        (404, "NO_RECORD_FOUND"),
        (409, "DUPLICATE_REJECTED"),
        (422, "INVALID_PARAMETER"),
        (500, "INTERNAL_SERVER_ERROR"),
    ],
)
def test_client_errors_and_provider_bugs_are_never_retried(status, code):
    _, recorder = run(lambda request: fhir_response(status, builders.outcome(code)), _search())

    assert len(recorder.requests) == 1


def test_a_refused_token_is_forgotten_and_not_retried():
    credentials = StaticCredentials()
    [result], recorder = run(
        lambda request: fhir_response(401, builders.outcome("ACCESS_DENIED")),
        _search(),
        credentials=credentials,
    )

    assert isinstance(result.failure, gpconnect.NotAuthorised)
    assert len(recorder.requests) == 1
    assert credentials.forgotten == [PATIENT]


def test_a_booking_is_retried_after_a_503_with_the_same_request_id_and_body():
    request_id = str(uuid.uuid4())
    booked = builders.appointment(slots=("1000",))
    respond = _answers(httpx.Response(503), fhir_response(201, booked, {"ETag": 'W/"1"'}))

    appointment, recorder = run(
        respond,
        lambda: gpconnect.book(
            RIVERSIDE,
            _slot(),
            PATIENT,
            gpconnect.BookingDetails("Sore knee"),
            request_id=request_id,
            correlation_id=CORRELATION_ID,
        ),
    )

    first, second = recorder.requests
    assert first.headers["X-Request-ID"] == second.headers["X-Request-ID"] == request_id
    assert first.content == second.content
    assert second.headers["Content-Type"] == "application/fhir+json;charset=utf-8"
    assert appointment.id == "501"


def test_a_booking_that_timed_out_is_sent_again_with_the_same_request_id(settings):
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 0.2
    settings.GPCONNECT_DEADLINE_SECONDS = 1.0
    request_id = str(uuid.uuid4())
    calls = []

    async def respond(request):
        calls.append(request.headers["X-Request-ID"])
        if len(calls) == 1:
            await asyncio.sleep(5)
        return fhir_response(201, builders.appointment())

    appointment, _ = run(
        respond,
        lambda: gpconnect.book(
            RIVERSIDE,
            _slot(),
            PATIENT,
            gpconnect.BookingDetails("Sore knee"),
            request_id=request_id,
            correlation_id=CORRELATION_ID,
        ),
    )

    assert calls == [request_id, request_id]
    assert appointment.status == "booked"


def test_a_booking_request_id_must_be_a_uuid4():
    with pytest.raises(ValueError, match="UUID4"):
        run(
            lambda request: fhir_response(201, builders.appointment()),
            lambda: gpconnect.book(
                RIVERSIDE,
                _slot(),
                PATIENT,
                gpconnect.BookingDetails("Sore knee"),
                request_id="booking-1",
                correlation_id=CORRELATION_ID,
            ),
        )


def test_retrying_stops_at_the_deadline(settings, monkeypatch):
    from booking_site.gpconnect import transport

    settings.GPCONNECT_RETRIES = 5
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 0.3
    monkeypatch.setattr(transport, "BACKOFF_SECONDS", 0.2)
    [result], recorder = run(lambda request: httpx.Response(503), _search())

    # 0.2–0.4 s, then 0.4–0.8 s: the second wait would pass the 0.3 s practice limit.
    assert len(recorder.requests) <= 2
    assert isinstance(result.failure, gpconnect.Unavailable)


def test_requests_in_flight_to_one_host_are_bounded(settings):
    settings.GPCONNECT_MAX_CONNECTIONS_PER_HOST = 2
    in_flight = {"now": 0, "most": 0}

    async def respond(request):
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.03)
        in_flight["now"] -= 1
        return fhir_response(200, EMPTY)

    six_weeks = gpconnect.DateRange(date(2027, 3, 1), date(2027, 4, 11))
    results, recorder = run(respond, _search(practices=[RIVERSIDE], date_range=six_weeks))

    assert len(recorder.requests) == 3
    assert in_flight["most"] == 2
    assert results[0].status == gpconnect.ResultStatus.NONE


def test_one_hosts_bound_does_not_hold_up_another_host(settings):
    settings.GPCONNECT_MAX_CONNECTIONS_PER_HOST = 1
    started = []

    async def respond(request):
        started.append(request.url.host)
        await asyncio.sleep(0.05)
        return fhir_response(200, EMPTY)

    two_weeks = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 28))
    run(respond, _search(practices=[RIVERSIDE, HILLSIDE], date_range=two_weeks))

    # Both hosts were asked before either host's second window.
    assert set(started[:2]) == {"provider-a.test", "provider-b.test"}


def test_one_log_line_per_round_trip_without_patient_data(caplog):
    caplog.set_level(logging.INFO, logger="booking_site.gpconnect")
    respond = _answers(
        fhir_response(503, builders.outcome("INTERNAL_SERVER_ERROR")),
        fhir_response(200, builders.bundle(builders.appointment(), entry=True)),
    )
    run(
        respond,
        lambda: gpconnect.patient_appointments(
            RIVERSIDE,
            PATIENT,
            gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 31)),
            correlation_id=CORRELATION_ID,
        ),
    )

    lines = [r for r in caplog.records if r.getMessage().startswith("provider call")]
    assert len(lines) == 2
    first, second = (r.gpconnect for r in lines)
    assert first["ods"] == "A20047"
    assert first["operation"] == "patient_appointments"
    assert first["outcome"] == "503"
    assert first["code"] == "INTERNAL_SERVER_ERROR"
    assert first["attempt"] == 1
    assert second["outcome"] == "200"
    assert second["attempt"] == 2
    assert first["request_id"] == second["request_id"]
    assert first["correlation_id"] == CORRELATION_ID
    assert isinstance(first["elapsed_ms"], int)
    # The URL path holds the NHS number and the OperationOutcome's diagnostics mention it.
    assert "9000000009" not in caplog.text
    assert "/Patient/" not in caplog.text
    assert "Sore knee" not in caplog.text


def test_a_connection_error_is_logged_as_such(caplog):
    caplog.set_level(logging.INFO, logger="booking_site.gpconnect")
    run(_answers(httpx.ConnectError("refused")), _search())

    outcomes = [r.gpconnect["outcome"] for r in caplog.records if hasattr(r, "gpconnect")]
    assert outcomes == ["network_error"] * 3


def test_the_query_is_percent_encoded():
    _, recorder = run(lambda request: fhir_response(200, EMPTY), _search())

    query = recorder.requests[0].url.query.decode()
    assert "|" not in query
    assert "searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CX26" in query
    assert (
        "searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FSTU3%2FCodeSystem%2F"
        "GPConnect-OrganisationType-1%7Cgp-practice"
    ) in query
    assert "_include=Slot%3Aschedule" in query


def test_the_body_of_a_booking_is_fhir_json():
    booked = builders.appointment()
    _, recorder = run(
        lambda request: fhir_response(201, booked),
        lambda: gpconnect.book(
            RIVERSIDE,
            _slot(),
            PATIENT,
            gpconnect.BookingDetails("Sore knee"),
            request_id=str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
        ),
    )

    body = json.loads(recorder.requests[0].content)
    assert body["resourceType"] == "Appointment"
