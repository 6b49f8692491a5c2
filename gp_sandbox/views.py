"""The sandbox's FHIR endpoints (CONFORMANCE §1–§5, §7): one practice system per ODS code.

Transport rules (token, headers, fault switches, idempotency) are applied by ``api.fhir_api``;
request rules live in ``validation``, state changes in ``booking``, searches in ``search``.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from gp_sandbox import appointments, fhir_responses, search
from gp_sandbox.api import ApiCall, authorise_patient, fhir_api
from gp_sandbox.fhir_responses import FhirError
from gp_sandbox.models import Appointment
from gp_sandbox.validation import (
    check_nhs_number,
    is_nhs_number_shaped,
    parse_appointment_range,
    parse_json_object,
    parse_new_appointment,
    parse_slot_query,
)


@fhir_api("GET", service_token=True)
def slot_search(request: HttpRequest, call: ApiCall) -> HttpResponse:
    query = parse_slot_query(request.GET)
    return fhir_responses.fhir_response(
        search.slot_search_body(call.practice, query, timezone.now())
    )


@fhir_api("POST")
def appointment_create(request: HttpRequest, call: ApiCall) -> HttpResponse:
    new_appointment = parse_new_appointment(request.body)
    authorise_patient(call, new_appointment.patient_nhs_number)
    booked = appointments.book(call.practice, new_appointment)
    return _appointment_response(request, call, booked, status=201)


@fhir_api("GET", "PUT")
def appointment(request: HttpRequest, call: ApiCall, appointment_id: str) -> HttpResponse:
    found = appointments.find_appointment(call.practice, appointment_id)
    authorise_patient(call, found.patient_nhs_number)
    if request.method == "PUT":
        body = parse_json_object(request.body)
        found = appointments.cancel(call.practice, found, body, request.headers.get("If-Match"))
    return _appointment_response(request, call, found)


@fhir_api("GET")
def patient_appointments(request: HttpRequest, call: ApiCall, nhs_number: str) -> HttpResponse:
    if not is_nhs_number_shaped(nhs_number):
        raise FhirError(404, "PATIENT_NOT_FOUND", f"No patient Patient/{nhs_number}")
    authorise_patient(call, check_nhs_number(nhs_number))
    dates = parse_appointment_range(request.GET, today=timezone.localdate())
    return fhir_responses.fhir_response(search.appointment_bundle(call.practice, nhs_number, dates))


def _appointment_response(
    request: HttpRequest, call: ApiCall, found: Appointment, status: int = 200
) -> HttpResponse:
    headers = {
        "ETag": fhir_responses.etag(found.version_id),
        "Last-Modified": http_date(found.last_updated.timestamp()),
    }
    if status == 201:
        url = reverse("sandbox:appointment", args=[call.practice.ods_code, found.pk])
        headers["Location"] = request.build_absolute_uri(f"{url}/_history/{found.version_id}")
    return fhir_responses.fhir_response(
        fhir_responses.appointment_resource(found), status=status, headers=headers
    )
