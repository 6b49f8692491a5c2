"""Every staff search is recorded and shown read-only to administrators; staff search with the
service credential, which carries no patient."""

import datetime
import re
from urllib.parse import parse_qs

import httpx
import pytest

from booking_site.asgi import application
from booking_site.availability.models import PracticeOutcome, StaffSearch
from booking_site.gpconnect import use_transport
from tests.availability.conftest import at, next_monday, next_week_query

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/staff/availability/"


def test_a_preview_records_who_when_which_practices_the_dates_and_each_outcome(world):
    world.add_practice("B86128", "Headingley Park Surgery", unavailable=True)
    world.slots("A20047", at(next_monday(), 9), 3)
    before = datetime.datetime.now(datetime.UTC)

    world.client_for(world.staff).get(PAGE, next_week_query("A20047", "B86019", "B86128"))

    search = StaffSearch.objects.get()
    assert search.user == world.staff
    assert search.username == "staff@example.com"
    assert search.kind == StaffSearch.Kind.PREVIEW
    assert search.searched_at >= before
    assert search.practices == ["A20047", "B86019", "B86128"]
    assert (search.start, search.end) == (next_monday(), next_monday() + datetime.timedelta(6))
    assert re.fullmatch(r"[0-9a-f]{32}", search.correlation_id)
    outcomes = {o.practice_ods: o for o in search.outcomes.all()}
    assert (outcomes["A20047"].status, outcomes["A20047"].slot_count) == ("slots", 3)
    assert outcomes["A20047"].practice_name == "Riverside Medical Practice"
    assert (outcomes["B86019"].status, outcomes["B86019"].slot_count) == ("none", 0)
    assert outcomes["B86128"].status == "failed"
    assert outcomes["B86128"].failure_reason
    assert outcomes["A20047"].failure_reason == ""
    assert all(o.elapsed_ms >= 0 for o in outcomes.values())
    assert outcomes["A20047"].flagged_slots == 0


def test_the_record_stays_when_the_account_is_deleted(world):
    world.client_for(world.staff).get(PAGE, next_week_query("A20047"))

    world.staff.delete()

    search = StaffSearch.objects.get()
    assert search.user is None
    assert search.username == "staff@example.com"


def test_administrators_can_read_searches_in_the_admin_but_never_change_them(world):
    world.slots("A20047", at(next_monday(), 9), 1)
    world.client_for(world.staff).get(PAGE, next_week_query("A20047", "B86019"))
    search = StaffSearch.objects.get()
    world.superuser.is_staff = True
    world.superuser.save()
    admin = world.client_for(world.superuser)

    listing = admin.get("/admin/availability/staffsearch/")
    detail = admin.get(f"/admin/availability/staffsearch/{search.pk}/change/")

    assert listing.status_code == 200
    listing_html = listing.content.decode()
    assert "staff@example.com" in listing_html
    assert "1 answered, 1 no free slots" in listing_html
    assert detail.status_code == 200
    detail_html = detail.content.decode()
    assert "Riverside Medical Practice" in detail_html
    assert 'name="_save"' not in detail_html
    assert admin.get("/admin/availability/staffsearch/add/").status_code == 403
    assert admin.post(f"/admin/availability/staffsearch/{search.pk}/delete/").status_code == 403
    assert StaffSearch.objects.count() == 1
    assert PracticeOutcome.objects.count() == 2


def test_practice_staff_cannot_open_the_admin(world):
    response = world.client_for(world.staff).get("/admin/availability/staffsearch/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


class Recording(httpx.AsyncBaseTransport):
    """The in-process sandbox, keeping every request the site sent it."""

    def __init__(self) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.requests: list[tuple[httpx.Request, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.requests.append((request, body))
        return await self.inner.handle_async_request(request)


def test_staff_search_with_a_service_token_that_names_no_patient(world):
    world.slots("A20047", at(next_monday(), 9), 2)
    recording = Recording()

    with use_transport(recording):
        html = world.client_for(world.staff).get(PAGE, next_week_query("A20047")).content.decode()

    # The search worked: the sandbox refuses a service token anywhere but a slot search, and
    # a patient token would have needed an NHS number
    assert "Free slots 2" in " ".join(re.sub(r"<[^>]+>", " ", html).split())
    tokens = [body for request, body in recording.requests if request.url.path.endswith("/token")]
    assert tokens
    for body in tokens:
        assert "nhs_number" not in parse_qs(body.decode())
    paths = [request.url.path for request, _ in recording.requests]
    assert all(path.endswith(("/token", "/Slot")) for path in paths), paths
