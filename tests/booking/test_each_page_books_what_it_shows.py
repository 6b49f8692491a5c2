"""Each "Check your answers" page books exactly the slot and answers it shows (issue 17, 1 and
3): two tabs book their own; a page another patient or another site signed books nothing; what
the patient typed survives choosing another time."""

import re

from django.test import Client

from booking_site.booking.models import Booking
from gp_sandbox.models import Appointment as SandboxAppointment
from tests.factories import make_patient

from .conftest import tomorrow_at


def signed_in(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def search(client: Client) -> str:
    assert client.post("/book/where/", {"scope": "mine"}).status_code == 302
    assert client.post("/book/when/", {"period": "7"}).status_code == 302
    return client.get("/book/times/").content.decode().replace("&amp;", "&")


def choose_link(html: str, time: str) -> str:
    [link] = re.findall(
        rf'href="(/book/details/\?[^"]+)">Choose<span class="nhsuk-u-visually-hidden"> {time} ',
        html,
    )
    return link


def answers_on(check_page: str) -> str:
    return re.search(r'name="answers" value="([^"]+)"', check_page).group(1)


def reach_check(client: Client, results: str, time: str, reason: str) -> str:
    """Choose ``time``, say what it is for, and return that check-answers page."""
    assert client.get(choose_link(results, time)).status_code == 302
    assert client.post("/book/details/", {"reason": reason, "note": ""}).status_code == 302
    page = client.get("/book/check/").content.decode()
    assert reason in page
    return page


def test_two_tabs_each_book_the_slot_and_answers_their_page_shows(world):
    world.slots("A20047", tomorrow_at(8, 45), 1)
    world.slots("A20047", tomorrow_at(9, 15), 1)
    client = signed_in(world.patient)
    results = search(client)

    # Tab A reaches Check answers for 8:45am, then tab B (the same session) for 9:15am
    tab_a = reach_check(client, results, "8:45am", "Tab A")
    tab_b = reach_check(client, results, "9:15am", "Tab B")

    # Book in tab A, then in tab B
    booked_a = client.post("/book/check/", {"answers": answers_on(tab_a)})
    booked_b = client.post("/book/check/", {"answers": answers_on(tab_b)})

    assert booked_a["Location"] != booked_b["Location"]
    held = {
        appointment.start: appointment.resource["description"]
        for appointment in SandboxAppointment.objects.all()
    }
    assert held == {tomorrow_at(8, 45): "Tab A", tomorrow_at(9, 15): "Tab B"}
    assert Booking.objects.count() == 2


def test_pressing_book_twice_on_one_page_books_once(world):
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    page = reach_check(client, search(client), "11am", "Sore knee")

    first = client.post("/book/check/", {"answers": answers_on(page)})
    second = client.post("/book/check/", {"answers": answers_on(page)})

    assert first["Location"] == second["Location"]
    assert SandboxAppointment.objects.count() == 1


def test_a_page_not_signed_for_this_patient_books_nothing(world):
    world.slots("A20047", tomorrow_at(11), 1)
    mine = signed_in(world.patient)
    page = reach_check(mine, search(mine), "11am", "Sore knee")
    someone_else = signed_in(
        make_patient(nhs_number="9449310475", practice=world.practices["A20047"])
    )
    answers = answers_on(page)

    for client, value in [
        (someone_else, answers),  # another patient's page
        (mine, answers[:-3] + "abc"),  # tampered
        (mine, "not-a-page-of-ours"),
        (mine, ""),
    ]:
        response = client.post("/book/check/", {"answers": value})
        assert response.status_code == 302
        assert response["Location"] == "/book/check/"
    assert not SandboxAppointment.objects.exists()
    assert not Booking.objects.exists()


def test_choosing_another_time_keeps_what_the_patient_typed(world):
    world.slots("A20047", tomorrow_at(11), 1)
    world.slots("A20047", tomorrow_at(14), 1)
    client = signed_in(world.patient)
    results = search(client)
    reach_check(client, results, "11am", "Sore knee since Tuesday")

    # "Change time" from Check answers, and another time chosen
    assert client.get("/book/times/").status_code == 200
    assert client.get(choose_link(results, "2pm")).status_code == 302

    details = client.get("/book/details/").content.decode()
    assert "Sore knee since Tuesday" in details


def test_changing_the_practices_or_dates_keeps_what_the_patient_typed(world):
    world.slots("A20047", tomorrow_at(11), 1)
    client = signed_in(world.patient)
    results = search(client)
    reach_check(client, results, "11am", "Sore knee since Tuesday")

    # "Change practice" from Check answers: where and when answered again
    assert client.post("/book/where/", {"scope": "federation"}).status_code == 302
    assert client.post("/book/when/", {"period": "14"}).status_code == 302
    again = client.get("/book/times/").content.decode().replace("&amp;", "&")
    assert client.get(choose_link(again, "11am")).status_code == 302

    assert "Sore knee since Tuesday" in client.get("/book/details/").content.decode()
