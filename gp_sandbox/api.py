"""The transport every sandbox FHIR endpoint shares (CONFORMANCE §6, §7.1–7.4, §7.18, D8, D9).

``fhir_api`` wraps a view with, in order: the allowed methods (405), the practice from the URL
(404 ORGANISATION_NOT_FOUND), the practice's latency and outage switches, the bearer token (401),
the X-Request-ID header (400), the token's scope (403), content negotiation (415), and for POST and
PUT the replay of an earlier outcome with the same X-Request-ID. Every response then gets
``Cache-Control: no-store`` and the request's X-Request-ID and X-Correlation-ID echoed back, and
leaves no sooner than the practice's latency after the request arrived.
"""

import functools
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from gp_sandbox import arrival
from gp_sandbox.fhir_responses import FhirError, error_response, fhir_response
from gp_sandbox.models import IdempotentRequest, Patient, Practice
from gp_sandbox.tokens import InvalidToken, TokenClaims, verify_token
from gp_sandbox.validation import is_ods_code_shaped

logger = logging.getLogger(__name__)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_JSON_MEDIA_TYPES = frozenset({"application/fhir+json", "application/json"})
_ACCEPTABLE = _JSON_MEDIA_TYPES | {"application/json+fhir", "application/*", "*/*"}
_FORMATS = _JSON_MEDIA_TYPES | {"json"}
# Response headers that belong to the outcome and are replayed with it.
_REPLAYED_HEADERS = ("ETag", "Location", "Last-Modified")


@dataclass(frozen=True)
class ApiCall:
    """Who is calling which practice, once the transport checks have passed."""

    practice: Practice
    claims: TokenClaims
    request_id: str


View = Callable[..., HttpResponse]


class _Pace:
    """When a response may leave: a practice with a latency answers that long after the request
    arrived, its own work included, as a real practice system's response time would be. The
    sandbox does the work first and waits out the rest, so on a small machine the time it spends
    building a reply is not added on top of the latency.

    "Arrived" is when the request reached the server process (``arrival``), so the time it
    then waited for its turn (middleware, a worker thread, the GIL) is part of the latency too;
    without a stamp (Django's test client), when the view started."""

    def __init__(self, arrived: float | None = None) -> None:
        self.arrived = time.monotonic() if arrived is None else arrived
        self.answer_at = self.arrived

    def latency(self, milliseconds: int) -> None:
        self.answer_at = self.arrived + milliseconds / 1000

    def wait(self) -> None:
        remaining = self.answer_at - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)


def fhir_api(*methods: str, service_token: bool = False) -> Callable[[View], View]:
    """Apply the common transport rules; the view gets an ``ApiCall`` instead of ``ods``.

    ``service_token`` lets a service (non-patient) token through; only slot search allows it.
    """

    def decorator(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, ods: str, **kwargs: str) -> HttpResponse:
            pace = _Pace(arrival.arrived(request))
            try:
                response = _handle(request, ods, view, methods, service_token, kwargs, pace)
            except FhirError as error:
                response = error_response(error)
                if error.status == 405:
                    response["Allow"] = ", ".join(methods)
            except Exception:
                # A provider answers even its own bugs with an OperationOutcome (§2.1).
                logger.exception("Sandbox %s %s failed", request.method, request.path)
                response = error_response(
                    FhirError(500, "INTERNAL_SERVER_ERROR", "The practice system failed")
                )
            response["Cache-Control"] = "no-store"
            for header in ("X-Request-ID", "X-Correlation-ID"):
                if header in request.headers:
                    response[header] = request.headers[header]
            pace.wait()
            return response

        return wrapper

    return decorator


def _handle(
    request: HttpRequest,
    ods: str,
    view: View,
    methods: tuple[str, ...],
    service_token: bool,
    kwargs: dict[str, str],
    pace: _Pace,
) -> HttpResponse:
    if request.method not in methods:
        raise FhirError(
            405,
            "BAD_REQUEST",
            f"{request.method} is not supported here; use {' or '.join(methods)}",
            issue_type="not-supported",
        )
    practice = Practice.objects.filter(ods_code=ods).first() if is_ods_code_shaped(ods) else None
    if practice is None:
        raise FhirError(404, "ORGANISATION_NOT_FOUND", f"No practice with ODS code {ods!r}")
    _behave(practice, pace)
    claims = _authenticate(request)
    request_id = _request_id(request)
    if claims.is_service and not service_token:
        raise FhirError(
            403,
            "ACCESS_DENIED",
            "A service token may only search for slots; this request needs a patient's token",
        )
    _negotiate(request)
    call = ApiCall(practice=practice, claims=claims, request_id=request_id)
    if request.method in {"POST", "PUT"}:
        return _idempotent(request, call, lambda: view(request, call, **kwargs))
    return view(request, call, **kwargs)


def _behave(practice: Practice, pace: _Pace) -> None:
    """The practice's latency and outage switches, read fresh for every request."""
    pace.latency(practice.latency_ms + random.randint(0, practice.latency_jitter_ms))
    if practice.hangs:
        time.sleep(settings.SANDBOX_HANG_SECONDS)
        raise FhirError(
            504, "INTERNAL_SERVER_ERROR", "Practice system did not respond", issue_type="timeout"
        )
    if practice.unavailable:
        raise FhirError(
            503, "INTERNAL_SERVER_ERROR", "Practice system unavailable", issue_type="transient"
        )


def _authenticate(request: HttpRequest) -> TokenClaims:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(
            401,
            "ACCESS_DENIED",
            "Send the access token as 'Authorization: Bearer <token>'",
            issue_type="login",
        )
    try:
        return verify_token(token.strip())
    except InvalidToken as error:
        raise FhirError(401, "ACCESS_DENIED", str(error), issue_type="login") from None


def _request_id(request: HttpRequest) -> str:
    request_id = request.headers.get("X-Request-ID")
    if not request_id:
        raise FhirError(400, "BAD_REQUEST", "The X-Request-ID header is required")
    if not _UUID.fullmatch(request_id):
        raise FhirError(400, "BAD_REQUEST", f"X-Request-ID {request_id!r} is not a UUID")
    return request_id


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _negotiate(request: HttpRequest) -> None:
    """JSON only: ``_format`` wins over Accept; POST and PUT must say their body is JSON."""
    requested_format = request.GET.get("_format")
    if requested_format is not None:
        if requested_format.lower() not in _FORMATS:
            raise FhirError(
                415, "UNSUPPORTED_MEDIA_TYPE", f"_format={requested_format!r} is not supported"
            )
    elif "Accept" in request.headers:
        accepted = {_media_type(item) for item in request.headers["Accept"].split(",")}
        if not accepted & _ACCEPTABLE:
            raise FhirError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Accept {request.headers['Accept']!r} is not supported; use application/fhir+json",
            )
    if request.method in {"POST", "PUT"}:
        content_type = request.headers.get("Content-Type", "")
        media_type, _, parameters = content_type.partition(";")
        charset = parameters.strip().lower().replace(" ", "")
        if _media_type(media_type) not in _JSON_MEDIA_TYPES or charset not in {
            "",
            "charset=utf-8",
        }:
            raise FhirError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type {content_type!r} is not supported; send "
                "application/fhir+json;charset=utf-8",
            )


def _digest(request: HttpRequest, call: ApiCall) -> str:
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = request.body.decode("utf-8", errors="replace")
    material = json.dumps([request.method, request.path, call.claims.nhs_number or "", body])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _replay(stored: IdempotentRequest, digest: str) -> HttpResponse:
    if stored.request_digest != digest:
        raise FhirError(
            422,
            "INVALID_RESOURCE",
            f"X-Request-ID {stored.request_id} was already used for a different request; send "
            "a new X-Request-ID for a new request",
        )
    return fhir_response(stored.body, status=stored.status_code, headers=stored.headers)


def _stored(call: ApiCall, method: str) -> IdempotentRequest | None:
    return IdempotentRequest.objects.filter(
        practice=call.practice, request_id=call.request_id, method=method
    ).first()


def _idempotent(
    request: HttpRequest, call: ApiCall, run: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run a POST/PUT once per X-Request-ID (D9): a retry gets the first outcome back.

    The outcome is stored in the same transaction as the change it reports, so either both
    exist or neither. Two requests with the same id at the same moment: the loser's unique
    constraint violation rolls its work back, and it answers with the winner's outcome.
    """
    digest = _digest(request, call)
    method = request.method or ""
    try:
        with transaction.atomic():
            stored = _stored(call, method)
            if stored is not None:
                return _replay(stored, digest)
            try:
                with transaction.atomic():
                    response = run()
            except FhirError as error:
                response = error_response(error)
            if response.status_code < 500:
                IdempotentRequest.objects.create(
                    practice=call.practice,
                    request_id=call.request_id,
                    method=method,
                    path=request.path[:300],
                    request_digest=digest,
                    status_code=response.status_code,
                    headers={h: response[h] for h in _REPLAYED_HEADERS if h in response},
                    body=response.content.decode("utf-8"),
                )
            return response
    except IntegrityError:
        stored = _stored(call, method)
        if stored is None:
            raise
        return _replay(stored, digest)


def authorise_patient(call: ApiCall, nhs_number: str) -> Patient:
    """The patient, if the token is theirs and the practice lets them in (D8, §7.4)."""
    if nhs_number != call.claims.nhs_number:
        raise FhirError(
            403,
            "ACCESS_DENIED",
            f"Patient {nhs_number} is not the patient of the access token",
        )
    patient = Patient.objects.filter(nhs_number=nhs_number).first()
    if patient is None:
        raise FhirError(404, "PATIENT_NOT_FOUND", f"No patient with NHS number {nhs_number}")
    if call.practice.registered_patients_only and patient.registered_practice_id != (
        call.practice.pk
    ):
        raise FhirError(
            403,
            "ACCESS_DENIED",
            f"Patient {nhs_number} is not registered at {call.practice.ods_code}, which only "
            "serves its own registered patients",
        )
    return patient
