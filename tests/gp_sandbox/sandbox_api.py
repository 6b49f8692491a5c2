"""A GP Connect consumer's calls to one sandbox practice, through Django's test client."""

import json
import uuid

from django.test import Client

from gp_sandbox.tokens import issue_token


class SandboxApi:
    """Calls one sandbox practice the way a GP Connect consumer does."""

    def __init__(self, client: Client, ods_code: str, nhs_number: str | None) -> None:
        self.client = client
        self.ods_code = ods_code
        self.token = issue_token(nhs_number)

    def url(self, path: str, ods_code: str | None = None) -> str:
        return f"/sandbox/{ods_code or self.ods_code}/FHIR/STU3/{path}"

    def headers(self, request_id: str | None = None, **extra: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-Request-ID": request_id or str(uuid.uuid4()),
            "Accept": "application/fhir+json",
        }
        return {k: v for k, v in (headers | extra).items() if v is not None}

    def search(self, params: dict | str, **headers: str):
        if isinstance(params, str):
            return self.client.get(self.url("Slot") + "?" + params, headers=self.headers(**headers))
        return self.client.get(self.url("Slot"), params, headers=self.headers(**headers))

    def book(
        self,
        body: dict | str,
        *,
        content_type: str = "application/fhir+json;charset=utf-8",
        request_id: str | None = None,
        **headers: str,
    ):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(
            self.url("Appointment"),
            data,
            content_type=content_type,
            headers=self.headers(request_id, **headers),
        )

    def read(self, appointment_id: object, **headers: str):
        return self.client.get(
            self.url(f"Appointment/{appointment_id}"), headers=self.headers(**headers)
        )

    def cancel(
        self,
        appointment_id: object,
        body: dict | str,
        *,
        content_type: str = "application/fhir+json;charset=utf-8",
        request_id: str | None = None,
        **headers: str,
    ):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.put(
            self.url(f"Appointment/{appointment_id}"),
            data,
            content_type=content_type,
            headers=self.headers(request_id, **headers),
        )

    def appointments(self, nhs_number: str, params: dict | str, **headers: str):
        url = self.url(f"Patient/{nhs_number}/Appointment")
        if isinstance(params, str):
            return self.client.get(url + "?" + params, headers=self.headers(**headers))
        return self.client.get(url, params, headers=self.headers(**headers))
