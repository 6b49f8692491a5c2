"""What every endpoint shares: tokens, headers, media types, methods, the practice in the URL,
response hygiene and the practice's latency and outage switches (CONFORMANCE §6, §7.1–7.4,
§7.18)."""

import time
import uuid

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.middleware import SessionMiddleware

from booking_site.asgi import application
from gp_sandbox import factories, search
from gp_sandbox.factories import uk
from gp_sandbox.tokens import issue_token
from tests.gp_sandbox.checks import assert_outcome

pytestmark = pytest.mark.usefixtures("clock")

SLOT_QUERY = "start=ge2027-03-23&end=le2027-03-24&status=free&_include=Slot:schedule"
APPOINTMENTS_QUERY = "start=ge2027-03-22&start=le2027-03-30"

ENDPOINTS = ["slot search", "book", "read", "cancel", "list"]


def call(api, endpoint: str, appointment_id: object = 1, body: object = None, **headers):
    """One request to ``endpoint``, with a body that passes for its shape."""
    body = body if body is not None else {"resourceType": "Appointment"}
    if endpoint == "slot search":
        return api.search(SLOT_QUERY, **headers)
    if endpoint == "book":
        return api.book(body, **headers)
    if endpoint == "read":
        return api.read(appointment_id, **headers)
    if endpoint == "cancel":
        return api.cancel(appointment_id, body, **headers)
    return api.appointments(factories.PATIENT_NHS_NUMBER, APPOINTMENTS_QUERY, **headers)


# --- Tokens (§7.1, D8) ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_request_without_a_bearer_token_is_unauthorised(api, endpoint):
    response = call(api, endpoint, Authorization=None)

    assert_outcome(response, 401, "ACCESS_DENIED", "Authorization: Bearer")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer" + " x" * 3],
)
def test_a_malformed_or_forged_token_is_unauthorised(api, authorization):
    response = call(api, "slot search", Authorization=authorization)

    assert_outcome(response, 401, "ACCESS_DENIED")


def test_an_expired_token_is_unauthorised(api):
    expired = issue_token(factories.PATIENT_NHS_NUMBER, ttl_seconds=-1)

    response = call(api, "read", Authorization=f"Bearer {expired}")

    assert_outcome(response, 401, "ACCESS_DENIED", "expired")


@pytest.mark.parametrize("endpoint", ["book", "read", "cancel", "list"])
def test_a_service_token_may_not_act_for_a_patient(service_api, endpoint):
    response = call(service_api, endpoint)

    assert_outcome(response, 403, "ACCESS_DENIED", "service token may only search for slots")


# --- X-Request-ID and X-Correlation-ID (§7.2) ----------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_missing_request_id_is_a_bad_request(api, endpoint):
    response = call(api, endpoint, **{"X-Request-ID": None})

    assert_outcome(response, 400, "BAD_REQUEST", "X-Request-ID header is required")


@pytest.mark.parametrize("request_id", ["12345", "not-a-uuid", str(uuid.uuid4())[:-1] + "g"])
def test_a_request_id_that_is_not_a_uuid_is_a_bad_request(api, request_id):
    response = call(api, "slot search", **{"X-Request-ID": request_id})

    assert_outcome(response, 400, "BAD_REQUEST", "is not a UUID")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_request_and_correlation_ids_are_echoed_on_success_and_failure(api, endpoint):
    request_id = str(uuid.uuid4())

    response = call(api, endpoint, **{"X-Request-ID": request_id, "X-Correlation-ID": "page-42"})

    assert response["X-Request-ID"] == request_id
    assert response["X-Correlation-ID"] == "page-42"


def test_the_correlation_id_is_optional(api):
    response = call(api, "slot search")

    assert response.status_code == 200
    assert "X-Correlation-ID" not in response


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_response_is_fhir_json_and_never_cached(api, endpoint):
    response = call(api, endpoint)

    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    assert response["Cache-Control"] == "no-store"


# --- Media types (§7.3) --------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["book", "cancel"])
@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/fhir+xml",
        "application/xml",
        "application/json;charset=latin-1",
    ],
    ids=["missing", "text", "fhir xml", "xml", "latin-1"],
)
def test_a_body_that_is_not_json_by_its_content_type_is_unsupported(api, endpoint, content_type):
    if endpoint == "book":
        response = api.book({"resourceType": "Appointment"}, content_type=content_type)
    else:
        response = api.cancel(1, {"resourceType": "Appointment"}, content_type=content_type)

    assert_outcome(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type")


@pytest.mark.parametrize(
    "content_type",
    ["application/fhir+json", "application/json", "application/fhir+json; charset=UTF-8"],
)
def test_json_content_types_with_or_without_a_charset_are_accepted(api, content_type):
    response = api.book({"resourceType": "Appointment"}, content_type=content_type)

    # Past the media type check: the body itself is then judged.
    assert_outcome(response, 422, "INVALID_RESOURCE")


@pytest.mark.parametrize("accept", ["application/fhir+xml", "text/html"])
def test_asking_for_a_format_other_than_json_is_unsupported(api, accept):
    response = call(api, "slot search", Accept=accept)

    assert_outcome(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Accept")


@pytest.mark.parametrize(
    "accept", ["application/fhir+json", "application/json", "*/*", "text/html, */*;q=0.1"]
)
def test_json_or_anything_is_an_acceptable_accept_header(api, accept):
    assert call(api, "slot search", Accept=accept).status_code == 200


def test_format_parameter_overrides_accept(api):
    xml = api.search(SLOT_QUERY + "&_format=xml")
    json_format = api.search(SLOT_QUERY + "&_format=json", Accept="application/fhir+xml")

    assert_outcome(xml, 415, "UNSUPPORTED_MEDIA_TYPE", "_format")
    assert json_format.status_code == 200


# --- Methods and the practice in the URL ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "Appointment/1", "GET, PUT"),
        ("PATCH", "Appointment/1", "GET, PUT"),
        ("POST", "Slot", "GET"),
        ("GET", "Appointment", "POST"),
        ("PUT", "Patient/9000000009/Appointment", "GET"),
    ],
)
def test_an_unsupported_method_is_not_allowed(api, client, method, path, allowed):
    response = client.generic(method, api.url(path), headers=api.headers())

    assert_outcome(response, 405, "BAD_REQUEST", "is not supported here")
    assert response["Allow"] == allowed


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_ods_code_is_an_unknown_organisation(api, endpoint):
    api.ods_code = "Z99999"

    response = call(api, endpoint)

    assert_outcome(response, 404, "ORGANISATION_NOT_FOUND", "Z99999")


# --- The practice's latency and outage switches --------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_latency_delays_every_endpoint(api, practice, endpoint):
    practice.latency_ms = 60
    practice.latency_jitter_ms = 20
    practice.save()

    started = time.monotonic()
    response = call(api, endpoint)
    elapsed = time.monotonic() - started

    assert elapsed >= 0.06
    assert elapsed < 2
    assert response.status_code < 500


class SteppedClock:
    """``time.monotonic`` and ``time.sleep`` for the sandbox, on a clock only the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.mark.parametrize(("work_seconds", "slept"), [(0.15, [0.05]), (0.0, [0.2]), (0.3, [])])
def test_latency_is_the_time_to_answer_with_the_practices_own_work_in_it(
    api, practice, monkeypatch, work_seconds, slept
):
    practice.latency_ms = 200
    practice.save()
    stepped = SteppedClock()
    monkeypatch.setattr("gp_sandbox.api.time", stepped)
    build_reply = search.slot_search_body

    def slow_to_build(*args, **kwargs):
        stepped.now += work_seconds
        return build_reply(*args, **kwargs)

    monkeypatch.setattr(search, "slot_search_body", slow_to_build)

    response = call(api, "slot search")

    assert response.status_code == 200
    assert stepped.slept == slept


@pytest.mark.django_db(transaction=True)  # the site's ASGI handler closes the connection
def test_under_asgi_the_latency_counts_from_when_the_request_reached_the_server(
    api, practice, monkeypatch
):
    practice.latency_ms = 200
    practice.save()
    stepped = SteppedClock()
    monkeypatch.setattr("gp_sandbox.api.time", stepped)
    monkeypatch.setattr("gp_sandbox.arrival.time", stepped)
    inner = SessionMiddleware.process_request

    def queued(self, request):  # the request waits its turn inside the server
        stepped.now += 0.15
        return inner(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", queued)

    async def search_through_the_sites_asgi_application():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        ) as client:
            return await client.get(f"{api.url('Slot')}?{SLOT_QUERY}", headers=api.headers())

    response = async_to_sync(search_through_the_sites_asgi_application)()

    assert response.status_code == 200
    assert stepped.slept == [0.05]


def test_an_unavailable_practice_still_answers_after_its_latency(api, practice, monkeypatch):
    practice.latency_ms = 120
    practice.unavailable = True
    practice.save()
    stepped = SteppedClock()
    monkeypatch.setattr("gp_sandbox.api.time", stepped)

    response = call(api, "read")

    assert response.status_code == 503
    assert stepped.slept == [0.12]


def test_switches_are_read_fresh_for_every_request(api, practice):
    assert call(api, "slot search").status_code == 200
    practice.unavailable = True
    practice.save()

    assert call(api, "slot search").status_code == 503


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unavailable_practice_answers_every_endpoint_with_503(api, practice, endpoint):
    practice.unavailable = True
    practice.save()

    response = call(api, endpoint)

    issue = assert_outcome(response, 503, "INTERNAL_SERVER_ERROR", "Practice system unavailable")
    assert issue["code"] == "transient"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_hanging_practice_holds_the_request_then_times_out(api, practice, settings, endpoint):
    settings.SANDBOX_HANG_SECONDS = 0.05
    practice.hangs = True
    practice.save()

    started = time.monotonic()
    response = call(api, endpoint)

    assert time.monotonic() - started >= 0.05
    issue = assert_outcome(response, 504, "INTERNAL_SERVER_ERROR", "did not respond")
    assert issue["code"] == "timeout"


def test_an_outage_is_reported_before_the_token_is_even_looked_at(api, practice):
    practice.unavailable = True
    practice.save()

    assert_outcome(call(api, "read", Authorization=None), 503, "INTERNAL_SERVER_ERROR")


def test_a_successful_read_carries_its_etag(api, practice, schedule):
    slot = factories.make_slot(schedule, uk("2027-03-23 09:00"))
    created = api.book(factories.appointment_body([slot])).json()

    response = call(api, "read", appointment_id=created["id"])

    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
