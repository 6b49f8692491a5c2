"""The journey's words and date inputs: times and days as the NHS content style guide says them,
phone examples that validate, month names, every date error at once, and "When" checking only
the dates of the option chosen."""

import datetime
import re

import phonenumbers
from django.utils import timezone

from booking_site.booking.forms import PHONE_EXAMPLES
from booking_site.booking.presenters import slot_summary
from booking_site.common.formatting import day_label
from tests.html import error_summary_links

from .conftest import tomorrow_at
from .test_journey import choose_links, search, signed_in


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def when_post(**dates: datetime.date | tuple[str, str, str]) -> dict:
    data = {"period": "dates"}
    for name, day in dates.items():
        parts = (day.day, day.month, day.year) if isinstance(day, datetime.date) else day
        data |= dict(zip((f"{name}_day", f"{name}_month", f"{name}_year"), parts, strict=True))
    return data


# --- Times and days ----------------------------------------------------------------------------


def test_results_name_tomorrow_and_say_midday_never_12pm(world):
    world.slots("A20047", tomorrow_at(8, 40), 1, service_type="Blood test")
    world.slots("A20047", tomorrow_at(12), 1)
    client = signed_in(world.patient)

    html = search(client)

    assert f"Tomorrow, {day_label(tomorrow())}" in html
    assert "midday" in html
    assert "12pm" not in html
    assert "Morning (before midday)" in html
    assert f"8:40am tomorrow, {day_label(tomorrow())}, Blood test" in html


def test_the_chosen_time_reads_after_at_with_no_doubled_on(world):
    world.slots("A20047", tomorrow_at(8, 40), 1, service_type="Blood test")
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])

    html = client.get("/book/details/").content.decode()

    assert (
        f"<strong>Blood test</strong> (Morning surgery) at 8:40am tomorrow, {day_label(tomorrow())}"
        in html
    )
    assert not re.search(r"\bon \S+(am|pm|midday|midnight) on\b", html)


def test_a_slot_or_booking_says_today_or_tomorrow_ready_to_follow_at():
    start = tomorrow_at(8, 40)
    slot = {"start": start.isoformat(), "end": (start + datetime.timedelta(minutes=10)).isoformat()}

    assert f"Blood test at {slot_summary(slot)['when']}" == (
        f"Blood test at 8:40am tomorrow, {day_label(tomorrow())}"
    )


# --- Phone numbers -----------------------------------------------------------------------------


def test_every_phone_example_the_page_offers_is_accepted(world):
    world.slots("A20047", tomorrow_at(11), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])

    invalid = client.post("/book/details/", {"reason": "Cough", "note": "", "phone": "12345"})
    [(_, message)] = error_summary_links(invalid.content.decode())
    examples = message.removeprefix("Enter a phone number, like ").split(" or ")

    assert examples == list(PHONE_EXAMPLES)
    for example in examples:
        assert phonenumbers.is_valid_number(phonenumbers.parse(example, "GB")), example
        data = {"reason": "Cough", "note": "", "phone": example}
        assert client.post("/book/details/", data).status_code == 302, example


def test_the_phone_number_autocompletes_as_a_telephone_number(world):
    world.slots("A20047", tomorrow_at(11), 1, delivery_channel="Telephone")
    client = signed_in(world.patient)
    client.get(choose_links(search(client))[0])

    html = client.get("/book/details/").content.decode()

    phone = re.search(r'<input[^>]*id="id_phone"[^>]*>', html).group(0)
    assert 'autocomplete="tel"' in phone
    assert 'type="tel"' in phone


# --- "When" ------------------------------------------------------------------------------------


def test_when_accepts_months_as_names(world):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})
    start = timezone.localdate() + datetime.timedelta(days=2)
    end = start + datetime.timedelta(days=3)
    data = when_post(
        start=(str(start.day), f"{start:%b}".lower(), str(start.year)),
        end=(str(end.day), f"{end:%B}".upper(), str(end.year)),
    )

    response = client.post("/book/when/", data)

    assert response.status_code == 302
    assert f"from {start.day} {start:%B %Y} to {end.day} {end:%B %Y}" in (
        client.get("/book/times/").content.decode()
    )


def test_when_reports_every_date_error_at_once_each_linked_to_its_part(world):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})
    data = when_post(start=("32", "", "2027"), end=("", "", ""))

    html = client.post("/book/when/", data).content.decode()

    assert error_summary_links(html) == [
        ("id_start_month", "The start date must include a month"),
        ("id_start_day", "The start date must be a real date"),
        ("id_end_day", "Enter an end date"),
    ]
    assert re.search(r'class="[^"]*nhsuk-input--error[^"]*"[^>]*id="id_start_month"', html)
    assert not re.search(r'class="[^"]*nhsuk-input--error[^"]*"[^>]*id="id_start_year"', html)


def test_a_half_typed_date_under_another_option_does_not_block_it_and_is_kept(world):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})
    half_typed = when_post(start=("5", "", ""), end=("", "", "")) | {"period": "7"}

    response = client.post("/book/when/", half_typed)

    assert response.status_code == 302
    again = client.get("/book/when/").content.decode()
    assert re.search(r'id="id_start_day"[^>]*value="5"|value="5"[^>]*id="id_start_day"', again)
    assert re.search(r'value="7"[^>]*checked', again)


def test_no_error_is_linked_to_dates_hidden_under_an_option_not_chosen(world):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})
    no_period = when_post(start=("5", "", ""), end=("", "", ""))
    del no_period["period"]

    html = client.post("/book/when/", no_period).content.decode()

    assert error_summary_links(html) == [("id_period", "Select when you would like an appointment")]
    assert re.search(r'id="id_start_day"[^>]*value="5"|value="5"[^>]*id="id_start_day"', html)


def test_the_month_box_brings_up_a_keyboard_with_letters(world):
    client = signed_in(world.patient)
    client.post("/book/where/", {"scope": "mine"})

    page = client.get("/book/when/").content.decode()

    month = re.search(r'<input[^>]*id="id_start_month"[^>]*>', page).group(0)
    day = re.search(r'<input[^>]*id="id_start_day"[^>]*>', page).group(0)
    assert 'inputmode="text"' in month
    assert 'inputmode="numeric"' in day
