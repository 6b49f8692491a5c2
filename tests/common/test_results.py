"""The results page's filters: rendered once per set of choices and ticks, never mixed up."""

import datetime
import re

from django.http import QueryDict

from booking_site import gpconnect
from booking_site.common.results import Filters, filter_fields, results_context

OPTIONS = {
    "time": [
        ("morning", "Morning (before midday)"),
        ("afternoon", "Afternoon (midday to 6pm)"),
    ],
    "channel": [("In-person", "In person")],
    "practice": [("A20047", "Riverside Medical Practice")],
    "gender": [],
    "type": [("Blood test", "Blood test")],
}


def ticked(html: str) -> list[str]:
    return sorted(re.findall(r'value="([^"]+)"[^>]*checked', html))


def test_each_selection_gets_its_own_ticks_however_often_it_is_asked_for():
    morning = Filters.from_query(QueryDict("time=morning"))
    blood_tests = Filters.from_query(QueryDict("type=Blood+test&practice=A20047"))

    first = filter_fields(OPTIONS, morning)
    other = filter_fields(OPTIONS, blood_tests)
    again = filter_fields(OPTIONS, morning)

    assert ticked(first) == ["morning"]
    assert ticked(other) == ["A20047", "Blood test"]
    assert again == first


def test_a_filter_with_no_choices_is_not_offered():
    html = filter_fields(OPTIONS, Filters())

    assert "Gender of healthcare professional" not in html
    assert "Appointment for" in html


def test_a_single_day_search_is_said_once():
    boxing_day = datetime.date(2026, 12, 26)
    context = results_context(
        QueryDict(),
        [],
        gpconnect.DateRange(boxing_day, boxing_day),
        [],
        page_path="/book/times/",
        status_links=lambda practice: ("", ""),
    )

    assert context["date_phrase"] == "on 26 December 2026"
