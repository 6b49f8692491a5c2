"""Only what a patient can book is offered (issue 17, 2): a practice that books online only for
its registered patients is never searched for anyone else, and the page says so; a slot whose
channel the practice does not say asks for a phone number as a telephone one does."""

import re

from django.test import Client

from booking_site.practices.models import Practice
from gp_sandbox.models import Appointment as SandboxAppointment

from .conftest import tomorrow_at


def signed_in(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_a_registered_patients_only_practice_is_not_searched_for_others_and_says_so(world):
    world.slots("A20047", tomorrow_at(9), 1)
    world.slots("B82617", tomorrow_at(8), 5)
    client = signed_in(world.patient)
    assert client.post("/book/where/", {"scope": "federation"}).status_code == 302
    assert client.post("/book/when/", {"period": "7"}).status_code == 302
    # Hill Surgery (B82617) now books online only for its own registered patients (ours is
    # A20047): the search the patient set up before that never asks it
    Practice.objects.filter(ods_code="B82617").update(online_booking="registered")
    world.sandbox_practices["B82617"].registered_patients_only = True
    world.sandbox_practices["B82617"].save()

    page = client.get("/book/times/").content.decode()

    assert "Not searched: Hill Surgery only lets its own registered patients book online." in page
    assert "Call 01632 960100" in page or "call 01632 960100" in page
    assert len(re.findall(r">Choose<", page)) == 1  # only Riverside's 9am
    assert "8am" not in page
    assert 'id="practice-status-B82617"' not in page


def test_a_slot_without_a_delivery_channel_asks_for_a_phone_number(world):
    world.slots("A20047", tomorrow_at(10), 1, delivery_channel="")
    client = signed_in(world.patient)
    assert client.post("/book/where/", {"scope": "mine"}).status_code == 302
    assert client.post("/book/when/", {"period": "7"}).status_code == 302
    results = client.get("/book/times/").content.decode().replace("&amp;", "&")
    [choose] = re.findall(r'href="(/book/details/\?[^"]+)"', results)
    client.get(choose)

    without_phone = client.post("/book/details/", {"reason": "Rash", "note": ""})

    assert without_phone.status_code == 200
    assert "phone" in without_phone.content.decode().lower()
    assert (
        client.post(
            "/book/details/", {"reason": "Rash", "note": "", "phone": "07123 456789"}
        ).status_code
        == 302
    )
    assert not SandboxAppointment.objects.exists()


def test_the_where_page_does_not_offer_a_practice_that_would_refuse_the_patient(world):
    Practice.objects.filter(ods_code="B82617").update(online_booking="registered")

    page = signed_in(world.patient).get("/book/where/").content.decode()

    assert 'value="B82617"' not in page
    assert (
        "Hill Surgery is not listed: it only lets its own registered patients book online." in page
    )
