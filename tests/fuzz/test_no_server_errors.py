"""Whatever anyone sends, no page answers with a server error (issue 15, "Bad input").

Hypothesis generates values for every form field and GET parameter of every page and fragment
(booking_site/*/urls.py), as anonymous, a patient and practice staff: huge and negative
numbers, NUL and other control characters, long and non-Latin strings, repeated and missing
parameters, and the wrong methods. The sandbox's FHIR endpoints (gp_sandbox/urls.py) get the
same treatment and must answer 2xx or a 4xx OperationOutcome. Every query refuses a NUL byte as
PostgreSQL does, although the suite runs on SQLite.

Bounded: a few hundred requests in all, each test well under half a minute on a small machine.
"""

import datetime
import json
import uuid
from urllib.parse import quote

import httpx
import pytest
from django.core import signing
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from booking_site import nhs_login
from booking_site.accounts.models import User
from booking_site.asgi import application
from booking_site.availability.services import practice_staff_group
from booking_site.gpconnect import use_transport
from booking_site.notifications import alerts
from booking_site.notifications.models import Alert
from booking_site.practices.models import Federation
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from gp_sandbox.tokens import issue_token
from tests.factories import DEMO_PASSWORD, make_patient
from tests.fuzz.postgres_like import nul_refused

SANDBOX = "http://testserver/sandbox"
ODS_CODES = ("A20047", "B82617")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

# --- Values nobody should send -----------------------------------------------------------------

_text = st.characters(exclude_categories=["Cs"])  # lone surrogates cannot be sent at all
nasty_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.sampled_from(["9" * 30, "-1", "0", "00", "1e309", "NaN", "-0", "²", "٥", "0x10", "1_000"]),
)
nasty_text = st.one_of(
    st.text(_text, max_size=30),
    st.text(st.characters(max_codepoint=0x1F), max_size=5),  # NUL and the other controls
    st.sampled_from(["\x00", "A2\x000047", "\x7f", "\u202e", "\ufeff", " ", "%00", "../"]),
    nasty_numbers,
    st.text(_text, min_size=300, max_size=2000),
    st.text(st.sampled_from("日本語Ωßçالعربية"), min_size=1, max_size=40),
)


def plausible(values: list[str]) -> st.SearchStrategy[str]:
    """Mostly values a page expects (so the request gets past its first check), else nasty;
    numbers where the page expects numbers, so the huge ones turn up often."""
    if not values:
        return nasty_text
    if all(value.lstrip("-").isdigit() for value in values):
        return st.one_of(st.sampled_from(values), nasty_numbers, nasty_text)
    return st.one_of(st.sampled_from(values), nasty_text)


def _days(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def date_parts(prefix: str) -> dict[str, list[str]]:
    day = _days(3)
    return {
        f"{prefix}_day": [str(day.day), "31", "0"],
        f"{prefix}_month": [str(day.month), "2", "13"],
        f"{prefix}_year": [str(day.year), "0001", "9999"],
    }


def parameters(fields: dict[str, list[str]]) -> st.SearchStrategy[dict[str, list[str]]]:
    """Some of ``fields`` (each missing, once or repeated) and now and then one nobody expects."""
    known = st.fixed_dictionaries(
        {},
        optional={
            name: st.lists(plausible(values), min_size=1, max_size=3)
            for name, values in fields.items()
        },
    )
    stray = st.dictionaries(nasty_text.filter(bool), st.lists(nasty_text, max_size=2), max_size=2)
    return st.tuples(known, stray).map(lambda pair: pair[1] | pair[0])


# --- The site's pages and fragments (booking_site/*/urls.py) -----------------------------------

JOURNEY = {
    "scope": ["mine", "federation", "chosen"],
    "practices": list(ODS_CODES),
    "period": ["7", "14", "28", "dates"],
    **date_parts("start"),
    **date_parts("end"),
    "js": ["1"],
}
RESULTS = {
    "progress": ["1"],
    "retry": list(ODS_CODES),
    "time": ["morning", "afternoon", "evening"],
    "channel": ["In-person", "Telephone", "Video"],
    "practice": list(ODS_CODES),
    "gender": ["female", "male"],
    "type": ["General"],
    "page": ["1", "2", "-1", "99999999999999999999"],
    "slot": ["1", "1,2"],
}
DETAILS = {"reason": ["Back pain"], "note": ["Ramp please"], "phone": ["07700 900123"]}
PREVIEW = {
    "who": ["chosen", "federation-1"],
    "practices": list(ODS_CODES),
    "week": [_days(0).isoformat(), "dates"],
    **date_parts("start"),
    **date_parts("end"),
    "js": ["1"],
    "search": [str(uuid.uuid4())],
}
STAFF_SIGN_IN = {
    "email": ["staff@example.com"],
    "password": [DEMO_PASSWORD],
    "next": ["/book/", "//evil.example/"],
}
CALLBACK = {
    "code": ["abc", ""],
    "state": ["xyz", ""],
    "error": ["access_denied", "login_required", ""],
    "error_description": ["Nope"],
}

# The patient's alert (World makes it), and the signed "stop" link of its messages.
ALERT_ID = "6f1c2b9e-4d3a-4c5b-8e7f-0a1b2c3d4e5f"
DAYS = [_days(3).isoformat(), "0001-01-01", "9999-12-31", "x"]
ALERT = {
    **RESULTS,
    "after": ["1", "-1", "9" * 30],
    "earlier": [
        f"{_days(5).isoformat()}T09:00:00+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59-23:59",
    ],
    **date_parts("until"),
}


def stop_token() -> str:
    return signing.dumps(ALERT_ID, salt=alerts.STOP_SALT)


CONTACT = {
    "contact_by": ["email", "sms", "none", "x"],
    "next": ["/book/alert/", "//evil.example/", "0", "booking:where"],
}
NOTIFY_SEND = {"email_address": ["a@example.com"], "phone_number": ["07700 900123"]}

# (who, path with {ods}/{pk}/{alert}/{token} holes, the fields and parameters it reads, its own
# methods)
PAGES = [
    ("anonymous", "/", {}, ["GET"]),
    ("anonymous", "/account/sign-in/", {"next": ["/book/", "//evil.example/"]}, ["GET"]),
    ("anonymous", "/account/nhs-login/", {"next": ["/book/", "//evil.example/"]}, ["GET"]),
    ("anonymous", "/account/nhs-login/callback/", CALLBACK, ["GET"]),
    ("patient", "/account/prove-who-you-are/", {}, ["GET"]),
    ("anonymous", "/account/staff/sign-in/", STAFF_SIGN_IN, ["GET", "POST"]),
    ("patient", "/account/stay-signed-in/", {"next": ["/book/"]}, ["POST"]),
    ("patient", "/account/sign-out/", {}, ["POST"]),
    ("anonymous", "/account/signed-out/", {}, ["GET"]),
    ("patient", "/book/", {}, ["GET"]),
    ("patient", "/book/where/", JOURNEY, ["GET", "POST"]),
    ("patient", "/book/when/", JOURNEY, ["GET", "POST"]),
    ("patient", "/book/times/", RESULTS, ["GET"]),
    ("patient", "/book/times/practice/{ods}/", RESULTS, ["GET"]),
    ("patient", "/book/times/later/", JOURNEY, ["GET", "POST"]),
    ("patient", "/book/details/", RESULTS | DETAILS, ["GET", "POST"]),
    ("patient", "/book/check/", DETAILS, ["GET", "POST"]),
    ("patient", "/book/taken/", {}, ["GET"]),
    ("patient", "/appointments/", {}, ["GET"]),
    ("patient", "/appointments/{pk}/", {}, ["GET"]),
    ("patient", "/appointments/{pk}/confirmation/", {}, ["GET"]),
    ("patient", "/appointments/{pk}/calendar.ics", {}, ["GET"]),
    ("patient", "/appointments/{pk}/cancel/", {"reason": ["No longer needed"]}, ["GET", "POST"]),
    ("patient", "/appointments/{pk}/cancel/confirm/", {"reason": ["x"]}, ["GET", "POST"]),
    ("patient", "/appointments/{ods}/{pk}/", {}, ["GET"]),
    ("patient", "/appointments/{ods}/{pk}/calendar.ics", {}, ["GET"]),
    (
        "patient",
        "/appointments/{ods}/{pk}/cancel/",
        {"reason": ["No longer needed"]},
        ["GET", "POST"],
    ),
    ("patient", "/appointments/{ods}/{pk}/cancel/confirm/", {"reason": ["x"]}, ["GET", "POST"]),
    ("patient", "/book/alert/", ALERT, ["GET", "POST"]),
    ("patient", "/appointments/alerts/{alert}/", {}, ["GET"]),
    ("patient", "/appointments/alerts/{alert}/end/", {}, ["POST"]),
    ("patient", "/appointments/alerts/{alert}/search/", {"day": DAYS}, ["GET"]),
    ("patient", "/account/messages/", CONTACT, ["GET", "POST"]),
    ("patient", "/account/messages/saved/", {}, ["GET"]),
    ("anonymous", "/alerts/stop/{token}/", {}, ["GET", "POST"]),
    ("anonymous", "/sandbox/notify/", {"to": ["example.com", "+447700"]}, ["GET"]),
    ("anonymous", "/sandbox/notify/behaviour", {"fail_with": ["", "429", "500", "x"]}, ["POST"]),
    ("anonymous", "/sandbox/notify/delete-all", {}, ["POST"]),
    ("anonymous", "/v2/notifications", {"reference": ["x"], "older_than": ["y"]}, ["GET"]),
    ("anonymous", "/v2/notifications/email", NOTIFY_SEND, ["POST"]),
    ("anonymous", "/v2/notifications/sms", NOTIFY_SEND, ["POST"]),
    ("anonymous", "/v2/notifications/{pk}", {}, ["GET"]),
    ("staff", "/staff/availability/", PREVIEW, ["GET"]),
    ("staff", "/staff/availability/practice/{ods}/", PREVIEW, ["GET"]),
    ("staff", "/staff/availability/free-slots.csv", PREVIEW, ["GET"]),
    (
        "staff",
        "/staff/availability/what-patients-see/",
        PREVIEW
        | RESULTS
        | {
            "start": [_days(1).isoformat(), "9999-12-31"],
            "end": [_days(7).isoformat(), "0001-01-01"],
        },
        ["GET"],
    ),
]

path_text = st.one_of(
    st.sampled_from([*ODS_CODES, "1", "0", "99999999999999999999", "-1"]), nasty_text.filter(bool)
)


class World:
    """Two practices of one federation at the sandbox, with free slots, a patient and staff."""

    def __init__(self) -> None:
        federation = Federation.objects.create(name="North Riverside GP Federation")
        tomorrow = _days(1)
        for ods in ODS_CODES:
            practice = sandbox.make_practice(ods, name=f"Practice {ods}")
            schedule = sandbox.make_schedule(practice)
            sandbox.make_slots(schedule, sandbox.uk(f"{tomorrow.isoformat()} 09:00"), 3)
            SitePractice.objects.create(
                ods_code=ods,
                name=f"Practice {ods}",
                federation=federation,
                base_url=f"{SANDBOX}/{ods}/FHIR/STU3/",
                phone="01632 960100",
                address="1 Surgery Lane, Riverside",
            )
        home = SitePractice.objects.get(ods_code=ODS_CODES[0])
        sandbox.make_patient(sandbox.Practice.objects.get(ods_code=ODS_CODES[0]))
        self.patient = make_patient(nhs_number=sandbox.PATIENT_NHS_NUMBER, practice=home)
        self.staff = User.objects.create_user(
            username="staff@example.com", email="staff@example.com", password=DEMO_PASSWORD
        )
        self.staff.groups.add(practice_staff_group())
        self.staff.staff_practices.set([home])
        Alert.objects.create(id=ALERT_ID, patient=self.patient, until=_days(7)).practices.set(
            [home]
        )
        self.clients = {"anonymous": Client(), "patient": Client(), "staff": Client()}

    def client(self, who: str, *, journey: bool = False) -> Client:
        """The persona's client, signed in (or out) again; with ``journey`` the patient has
        just answered where and when, so the results and booking pages have something to do."""
        client = self.clients[who]
        if who == "anonymous":
            client.logout()
            return client
        client.force_login(self.patient if who == "patient" else self.staff)
        if journey:
            client.post("/book/where/", {"scope": "federation"})
            client.post("/book/when/", {"period": "7"})
        return client


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SANDBOX_BASE_URL = SANDBOX
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 3.0
    settings.GPCONNECT_DEADLINE_SECONDS = 5.0
    settings.GPCONNECT_RETRIES = 0
    transport = httpx.ASGITransport(app=application)
    with use_transport(transport), nhs_login.use_transport(transport), nul_refused():
        yield World()


def _request(client: Client, method: str, path: str, data: dict, **extra):
    if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return client.generic(method, path + "?" + _query(data), **extra)
    return client.generic(method, path, _query(data), "application/x-www-form-urlencoded", **extra)


def _query(data: dict[str, list[str]]) -> str:
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}" for k, vs in data.items() for v in vs
    )


@st.composite
def page_requests(draw):
    who, template, fields, methods = draw(st.sampled_from(PAGES))
    who = draw(st.sampled_from([who, who, "anonymous", "patient", "staff"]))
    method = draw(st.sampled_from(methods) | st.sampled_from(METHODS))
    path = template.format(
        ods=quote(draw(path_text), safe=""),
        pk=quote(draw(path_text), safe=""),
        alert=quote(draw(st.sampled_from([ALERT_ID, ALERT_ID]) | path_text), safe=""),
        token=quote(draw(st.sampled_from([stop_token()]) | path_text), safe=""),
    )
    htmx = draw(st.booleans())
    return who, method, path, draw(parameters(fields)), htmx, draw(st.booleans())


HUGE = "9" * 30


@FUZZ
@given(request=page_requests())
# What the chaos run found (issue 15), tried every time.
@example(
    request=("anonymous", "GET", "/account/nhs-login/callback/", {"state": [HUGE]}, False, False)
)
# A next that is no URL at all: redirect() took it for a view name (issue 16's fuzzing).
@example(request=("patient", "POST", "/account/stay-signed-in/", {"next": ["0"]}, False, False))
@example(
    request=(
        "patient",
        "POST",
        "/book/when/",
        {"period": ["dates"], "start_day": ["1"], "start_month": [HUGE], "start_year": ["2027"]},
        False,
        True,
    )
)
@example(
    request=(
        "staff",
        "GET",
        "/staff/availability/free-slots.csv",
        {"who": ["chosen"], "practices": ["A20047"], "week": ["dates"], "end_day": [HUGE]},
        False,
        False,
    )
)
@example(
    request=(
        "patient",
        "POST",
        "/book/where/",
        {"scope": ["chosen"], "practices": ["A2\x000047"]},
        True,
        True,
    )
)
def test_no_page_answers_any_input_with_a_server_error(world, request):
    who, method, path, data, htmx, journey = request
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/book/"} if htmx else {}
    client = world.client(who, journey=journey and who == "patient")

    response = _request(client, method, path, data, headers=headers)

    assert response.status_code < 500, (who, method, path, data)


# --- The sandbox's FHIR endpoints (gp_sandbox/urls.py) -----------------------------------------

SLOT_SEARCH = {
    "start": [f"ge{_days(1).isoformat()}", "ge9999-12-30", "ge0001-01-01T00:00:00+00:00"],
    "end": [f"le{_days(7).isoformat()}", "le9999-12-31", "le0001-01-01"],
    "status": ["free"],
    "_include": ["Slot:schedule"],
    "_include:recurse": ["Schedule:actor:Practitioner", "Schedule:actor:Location"],
    "searchFilter": [
        "https://fhir.nhs.uk/Id/ods-organization-code|A20047",
        "https://fhir.nhs.uk/Id/ods-organization-code|A2\x000047",
    ],
    "_format": ["json", "application/fhir+json"],
}
RETRIEVE = {
    "start": [f"ge{_days(0).isoformat()}", f"le{_days(7).isoformat()}", "le9999-12-31"],
    "_include:recurse": ["Appointment:actor:Practitioner"],
}
TOKEN = {
    "client_id": ["booking-site"],
    "client_secret": ["wrong"],
    "grant_type": [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "authorization_code",
    ],
    "nhs_number": ["9000000009"],
    "subject_token_type": ["urn:ietf:params:oauth:token-type:id_token"],
    "subject_token": ["e30.e30.e30", "not-a-jwt"],
    "client_assertion_type": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
    "client_assertion": ["e30.e30.e30", "not-a-jwt"],
    "code": ["abc"],
    "code_verifier": ["x" * 43],
    "redirect_uri": ["http://testserver/account/nhs-login/callback/"],
}
AUTHORIZE = {
    "client_id": ["booking-site", "someone-else"],
    "redirect_uri": ["http://testserver/account/nhs-login/callback/", "https://evil.example/"],
    "response_type": ["code", "token"],
    "scope": ["openid profile email phone gp_registration_details", "profile"],
    "state": ["xyz"],
    "nonce": ["abc"],
    "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
    "code_challenge_method": ["S256", "plain"],
    "vtr": ['["P9.Cp.Cd"]', "[", '["P5.Cp.Cd", 7]'],
    "prompt": ["none", "login"],
    "choice": ["error:access_denied", "error:login_required", str(uuid.uuid4()), "x"],
}
NHS_LOGIN_ENDPOINTS = {
    "/sandbox/nhs-login/.well-known/openid-configuration": {},
    "/sandbox/nhs-login/.well-known/jwks.json": {},
    "/sandbox/nhs-login/authorize": AUTHORIZE,
    "/sandbox/nhs-login/token": TOKEN,
    "/sandbox/nhs-login/userinfo": {},
}


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | nasty_text, _containers, max_leaves=8
)


@st.composite
def appointment_bodies(draw) -> str:
    """A booking or cancelling body: a near-valid Appointment with some elements replaced."""
    body = {
        "resourceType": "Appointment",
        "status": draw(st.sampled_from(["booked", "cancelled"])),
        "start": draw(plausible([f"{_days(1).isoformat()}T09:00:00+00:00"])),
        "end": draw(plausible([f"{_days(1).isoformat()}T09:10:00+00:00"])),
        "slot": [{"reference": f"Slot/{draw(path_text)}"}],
        "created": draw(plausible(["2027-03-01T12:00:00+00:00", "9999-12-31T23:59:59+00:00"])),
        "participant": [{"actor": {"reference": f"Patient/{sandbox.PATIENT_NHS_NUMBER}"}}],
    }
    changes = draw(
        st.dictionaries(st.sampled_from([*body, "extension", "contained", "id"]), json_values)
    )
    return draw(st.sampled_from([json.dumps(body | changes), draw(nasty_text), "[]", "null"]))


# A "/" in a segment makes a URL the sandbox does not have (the site's HTML 404).
segment_text = path_text.filter(lambda text: "/" not in text)


@st.composite
def sandbox_requests(draw):
    ods = draw(st.sampled_from([ODS_CODES[0], ODS_CODES[0], "X99999"]) | segment_text)
    base = f"/sandbox/{quote(ods, safe='')}/FHIR/STU3/"
    endpoint = draw(
        st.sampled_from(["Slot", "Appointment", "Appointment/{id}", "Patient/{nhs}/Appointment"])
    )
    path = base + endpoint.format(
        id=quote(draw(segment_text), safe=""),
        nhs=quote(draw(st.sampled_from([sandbox.PATIENT_NHS_NUMBER]) | segment_text), safe=""),
    )
    fields = {"Slot": SLOT_SEARCH, "Patient/{nhs}/Appointment": RETRIEVE}.get(endpoint, {})
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT"]) | st.sampled_from(METHODS))
    token = draw(
        st.sampled_from([issue_token(sandbox.PATIENT_NHS_NUMBER), issue_token(None), "not-a-token"])
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Request-ID": draw(plausible([str(uuid.uuid4())])),
        "Accept": draw(plausible(["application/fhir+json"])),
        "If-Match": draw(plausible(['W/"1"'])),
    }
    headers = {
        k: v for k, v in headers.items() if "\x00" not in v and "\n" not in v and "\r" not in v
    }
    return method, path, draw(parameters(fields)), draw(appointment_bodies()), headers


def _is_operation_outcome(response) -> bool:
    try:
        return response.json()["resourceType"] == "OperationOutcome"
    except (ValueError, KeyError, TypeError):
        return False


PATIENT = {
    "Authorization": f"Bearer {issue_token(sandbox.PATIENT_NHS_NUMBER)}",
    "X-Request-ID": "8f7b3c52-1d4e-4f6a-9b2c-3e5d7f9a1b2c",
    "Accept": "application/fhir+json",
}


@FUZZ
@given(request=sandbox_requests())
@example(
    request=(
        "GET",
        "/sandbox/A20047/FHIR/STU3/Slot",
        {
            "start": ["ge9999-12-30"],
            "end": ["le9999-12-31"],
            "status": ["free"],
            "_include": ["Slot:schedule"],
        },
        "",
        PATIENT,
    )
)
@example(
    request=(
        "GET",
        "/sandbox/A20047/FHIR/STU3/Patient/9000000009/Appointment",
        {"start": [f"ge{_days(0).isoformat()}", "le9999-12-31"]},
        "",
        PATIENT,
    )
)
@example(request=("GET", "/sandbox/A2%0047/FHIR/STU3/Slot", {}, "", PATIENT))
def test_the_sandbox_answers_any_input_with_2xx_or_a_4xx_operation_outcome(world, request):
    method, path, params, body, headers = request
    client = world.clients["anonymous"]
    url = path + "?" + _query(params)

    response = client.generic(
        method, url, body.encode(), "application/fhir+json;charset=utf-8", headers=headers
    )

    assert response.status_code < 500, (method, url, body, response.content)
    if response.status_code >= 400 and method != "HEAD":
        assert _is_operation_outcome(response), (method, url, response.content)


@settings(FUZZ, max_examples=30)
@given(fields=parameters(TOKEN), method=st.sampled_from(METHODS))
def test_the_sandbox_token_endpoint_never_answers_with_a_server_error(world, fields, method):
    response = _request(world.clients["anonymous"], method, "/sandbox/oauth2/token", fields)

    assert response.status_code < 500


@settings(FUZZ, max_examples=60)
@given(
    endpoint=st.sampled_from(sorted(NHS_LOGIN_ENDPOINTS)),
    data=st.data(),
    method=st.sampled_from(["GET", "POST"]) | st.sampled_from(METHODS),
    bearer=st.sampled_from(["", "Bearer not-a-token", "Bearer e30.e30.e30"]),
)
def test_the_nhs_login_stand_in_never_answers_with_a_server_error(
    world, endpoint, data, method, bearer
):
    fields = data.draw(parameters(NHS_LOGIN_ENDPOINTS[endpoint]))
    headers = {"Authorization": bearer} if bearer else {}

    response = _request(world.clients["anonymous"], method, endpoint, fields, headers=headers)

    assert response.status_code < 500, (method, endpoint, fields)


def _view_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _view_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_page_fragment_and_fhir_endpoint_is_in_the_lists_above():
    site = {name for name in _view_names(get_resolver().url_patterns) if ":" not in name}
    site |= {
        name
        for name in _view_names(get_resolver().url_patterns)
        if name.split(":")[0] in {"accounts", "booking", "availability", "sandbox", "notifications"}
    }
    holes = {"ods": "A20047", "pk": "1", "alert": ALERT_ID, "token": "abc"}
    listed = {resolve(path.format(**holes)).view_name for _, path, _, _ in PAGES}
    listed |= {
        resolve(f"/sandbox/A20047/FHIR/STU3/{endpoint}").view_name
        for endpoint in ("Slot", "Appointment", "Appointment/1", "Patient/9000000009/Appointment")
    }
    listed.add(resolve("/sandbox/oauth2/token").view_name)
    listed |= {resolve(path).view_name for path in NHS_LOGIN_ENDPOINTS}

    assert site == listed


def test_what_patients_see_at_the_end_of_the_calendar_is_not_a_server_error(world):
    client = world.client("staff")
    client.raise_request_exception = True
    query = {"start": "9999-12-31", "end": "9999-12-31", "practices": "A20047"}

    response = client.get("/staff/availability/what-patients-see/", query)

    assert response.status_code < 500
