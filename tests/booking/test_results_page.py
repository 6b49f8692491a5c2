"""The results page a patient can use on any screen (issue 17, 4): the earliest first, days with
their first few times and a link to the rest, practices summed up in one line (failures too),
"Choose" links that name what they choose, a page without JavaScript that does not wait for a
hanging practice, and with JavaScript, later times announced instead of moved in."""

import asyncio
import re
from html import unescape

import httpx
from django.test import Client

from booking_site.asgi import application
from booking_site.common.results import TIMES_PER_DAY
from booking_site.gpconnect import use_transport
from gp_sandbox import factories as sandbox

from .conftest import tomorrow_at


def signed_in(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def search(client: Client, scope: str = "mine") -> None:
    assert client.post("/book/where/", {"scope": scope}).status_code == 302
    assert client.post("/book/when/", {"period": "7"}).status_code == 302


def choose_names(html: str) -> list[str]:
    return [
        unescape(name)
        for name in re.findall(
            r'>Choose<span class="nhsuk-u-visually-hidden"> ([^<]+)</span>', html
        )
    ]


def test_the_earliest_comes_first_then_each_days_first_times_with_a_link_to_the_rest(world):
    world.slots("A20047", tomorrow_at(8, 30), 10)
    client = signed_in(world.patient)
    search(client)

    page = client.get("/book/times/").content.decode()

    assert "Earliest: 8:30am tomorrow" in page
    assert page.index("Earliest:") < page.index("Choose<span")
    assert len(choose_names(page)) == TIMES_PER_DAY
    more = re.search(r'href="([^"]+)">Show all 10 times', page)
    assert more is not None
    assert 'class="nhsuk-pagination' not in page
    everything = client.get(unescape(more.group(1))).content.decode()
    assert len(choose_names(everything)) == 10


def test_every_choose_link_names_time_day_practice_site_and_clinician(world):
    # Two clinicians' sessions at one practice, at the same times
    practice = world.sandbox_practices["A20047"]

    for given, family in (("Sarah", "Patel"), ("James", "Okafor")):
        schedule = sandbox.make_schedule(
            practice,
            practitioner=sandbox.make_practitioner(practice, given=given, family=family),
        )
        sandbox.make_slots(schedule, tomorrow_at(9), 2)
    client = signed_in(world.patient)
    search(client)

    names = choose_names(client.get("/book/times/").content.decode())

    assert len(names) == 4
    assert len(set(names)) == 4, names
    assert all("Riverside Medical Practice" in name for name in names)
    assert any("Patel" in name for name in names)
    assert any("Okafor" in name for name in names)


def test_the_progress_line_says_when_a_practice_could_not_be_checked(world):
    world.add_practice("B86019", "Kirkstall Lane Surgery", unavailable=True)
    world.slots("A20047", tomorrow_at(9), 1)
    client = signed_in(world.patient)
    search(client, scope="federation")

    page = client.get("/book/times/").content.decode()

    progress = re.search(r'<span id="search-progress"[^>]*>([^<]+)</span>', page).group(1)
    assert progress.strip().endswith("1 could not be checked")
    assert "Try Kirkstall Lane Surgery again" in page


class Hanging(httpx.AsyncBaseTransport):
    """The sandbox in process, with one practice that does not answer for a while. (The
    sandbox's own "hangs" switch holds a worker thread, which in this one process would hold
    every other practice too.)"""

    def __init__(self, ods: str, seconds: float) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.ods = ods
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if f"/{self.ods}/" in request.url.path:
            await asyncio.sleep(self.seconds)
        return await self.inner.handle_async_request(request)


def test_without_javascript_a_hanging_practice_does_not_hold_the_page(world, settings):
    settings.RESULTS_WAIT_SECONDS = 1.5
    world.add_practice("B86019", "Kirkstall Lane Surgery")
    world.slots("A20047", tomorrow_at(9), 2)
    client = signed_in(world.patient)
    search(client, scope="federation")

    with use_transport(Hanging("B86019", seconds=4.0)):
        page = client.get("/book/times/").content.decode()

    assert len(choose_names(page)) == 2
    assert "1 practice had not answered yet." in page
    assert ">Check the other practices again</a>" in page


def test_with_javascript_times_found_later_are_announced_not_moved_in(world):
    world.slots("A20047", tomorrow_at(9), 3)
    client = signed_in(world.patient)
    search(client)
    client.get("/book/times/?progress=1")  # the page, as JavaScript asks for it: answers kept
    news = {"HX-Request": "true", "HX-Target": "slot-news"}

    # The list shows 1 time; the practice now has 3
    announced = client.get("/book/times/?shown=1", headers=news).content.decode()
    # The list shows none yet: the list itself comes
    listed = client.get("/book/times/?shown=0", headers=news).content.decode()

    assert "2 more appointments found." in announced
    assert ">Show them</button>" in announced
    assert 'id="slot-list" hx-swap-oob' not in announced
    assert 'id="slot-list" hx-swap-oob="innerHTML"' in listed
    assert len(choose_names(listed)) == 3
    assert "more appointments found" not in listed


def test_a_slot_type_in_diary_jargon_is_shown_by_its_session_name(world):
    practice = world.sandbox_practices["A20047"]
    schedule = sandbox.make_schedule(practice, service_category="Duty doctor")
    sandbox.make_slots(schedule, tomorrow_at(9), 1, service_type="EMBARGO")
    client = signed_in(world.patient)
    search(client)

    page = client.get("/book/times/").content.decode()

    assert "EMBARGO" not in page
    assert "<strong>Duty doctor appointment</strong>" in page


def test_the_session_name_and_a_phone_appointments_where_on_check_answers(world):
    practice = world.sandbox_practices["A20047"]
    schedule = sandbox.make_schedule(practice, service_category="Duty doctor")
    sandbox.make_slots(schedule, tomorrow_at(9), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    search(client)
    results = client.get("/book/times/").content.decode().replace("&amp;", "&")
    [choose] = re.findall(r'href="(/book/details/\?[^"]+)"', results)
    client.get(choose)
    assert "(Duty doctor)" in client.get("/book/details/").content.decode()
    client.post("/book/details/", {"reason": "Cough", "note": "", "phone": "0113 496 0000"})

    check = client.get("/book/check/").content.decode()

    assert "General appointment (Duty doctor), 10 minutes" in check
    assert "The practice will phone you on 0113 496 0000" in check
    assert "1 Surgery Lane" not in check
