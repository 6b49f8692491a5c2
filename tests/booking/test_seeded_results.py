"""The results page against the sandbox's own seeded diaries (issue 17, 4): no two "Choose"
links on a page share a name, so a screen reader's links list tells every time apart."""

import re
from collections import Counter
from html import unescape

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from booking_site.practices.directory import load_directory
from booking_site.practices.models import Practice
from gp_sandbox import seed as sandbox_seed
from tests.factories import make_patient

pytestmark = pytest.mark.django_db(transaction=True)


def choose_names(html: str) -> list[str]:
    found = re.findall(r'>Choose<span class="nhsuk-u-visually-hidden"> ([^<]+)</span>', html)
    return [unescape(name) for name in found]


@pytest.fixture
def seeded(transactional_db, monkeypatch):
    assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    summary = sandbox_seed.seed(1, timezone.localdate())
    load_directory(summary.as_document())


def test_no_two_choose_links_on_a_seeded_page_share_a_name(seeded):
    # Amelia Clarke, registered at Riverside Medical Practice (two surgeries, evening sessions)
    patient = make_patient(
        nhs_number="9000000009", practice=Practice.objects.get(ods_code="A20047")
    )
    client = Client(raise_request_exception=True)
    client.force_login(patient, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post("/book/where/", {"scope": "mine"}).status_code == 302
    assert client.post("/book/when/", {"period": "28"}).status_code == 302

    page = client.get("/book/times/").content.decode()
    names = choose_names(page)
    busiest = re.search(r'href="([^"]+)">Show all (\d+) times', page)
    assert busiest is not None, "a seeded day has more times than a day shows at first"
    whole_day = choose_names(client.get(unescape(busiest.group(1))).content.decode())

    assert names
    assert len(whole_day) >= int(busiest.group(2))
    for listed in (names, whole_day):
        repeated = [name for name, count in Counter(listed).items() if count > 1]
        assert not repeated, repeated
