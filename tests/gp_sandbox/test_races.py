"""Real races over HTTP: concurrent bookings for one slot, and concurrent retries of one
booking (CONFORMANCE §7.2, §7.10, D9)."""

import datetime
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.utils import timezone

from gp_sandbox import factories
from gp_sandbox.models import Appointment, IdempotentRequest, Slot
from gp_sandbox.tokens import issue_token
from tests.serving import SiteServer, serving

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    """The sandbox as it is served: uvicorn running the site's ASGI application."""
    with serving(tmp_path_factory.mktemp("races")) as site:
        yield site


def _tomorrow_slot() -> Slot:
    practice = factories.make_practice("B82617")
    factories.make_patient(practice)
    start = (timezone.now() + datetime.timedelta(days=1)).replace(second=0, microsecond=0)
    return factories.make_slot(factories.make_schedule(practice), start)


def _post_at_once(url: str, body: dict, request_ids: list[str]) -> list[httpx.Response]:
    """POST the body once per request id, all threads released together by a barrier."""
    token = issue_token(factories.PATIENT_NHS_NUMBER)
    barrier = threading.Barrier(len(request_ids))

    def post(request_id: str) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(
                url,
                content=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Request-ID": request_id,
                    "Content-Type": "application/fhir+json;charset=utf-8",
                    "Accept": "application/fhir+json",
                },
            )

    with ThreadPoolExecutor(max_workers=len(request_ids)) as pool:
        return list(pool.map(post, request_ids))


def _spine_code(response: httpx.Response) -> str:
    return response.json()["issue"][0]["details"]["coding"][0]["code"]


def test_twenty_concurrent_bookings_of_one_slot_book_it_exactly_once(server: SiteServer):
    slot = _tomorrow_slot()
    url = f"{server.url}/sandbox/B82617/FHIR/STU3/Appointment"

    responses = _post_at_once(
        url, factories.appointment_body([slot]), [str(uuid.uuid4()) for _ in range(20)]
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code >= 500]
    refusals = [r for r in responses if r.status_code == 409]
    assert {_spine_code(r) for r in refusals} == {"DUPLICATE_REJECTED"}
    assert Appointment.objects.count() == 1
    slot.refresh_from_db()
    assert slot.status == Slot.Status.BUSY
    assert slot.version_id == 2


def test_ten_concurrent_retries_of_one_booking_book_once_and_answer_alike(server: SiteServer):
    slot = _tomorrow_slot()
    url = f"{server.url}/sandbox/B82617/FHIR/STU3/Appointment"
    request_id = str(uuid.uuid4())

    responses = _post_at_once(url, factories.appointment_body([slot]), [request_id] * 10)

    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert len({(r.headers["ETag"], r.headers["Location"]) for r in responses}) == 1
    assert {r.headers["X-Request-ID"] for r in responses} == {request_id}
    assert Appointment.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1
