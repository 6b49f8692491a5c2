"""Times, days and date ranges in the NHS content style guide's words."""

import datetime

import pytest

from booking_site.common.formatting import (
    TIME_OF_DAY,
    date_range_label,
    relative_day_label,
    time_label,
    when_label,
)
from booking_site.gpconnect.values import LONDON

# A Friday; the clock is pinned by passing it.
TODAY = datetime.date(2026, 12, 4)


def uk(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


@pytest.mark.parametrize(
    ("hour", "minute", "label"),
    [
        (9, 0, "9am"),
        (8, 40, "8:40am"),
        (12, 0, "midday"),
        (12, 30, "12:30pm"),
        (0, 0, "midnight"),
        (0, 15, "12:15am"),
        (17, 5, "5:05pm"),
    ],
)
def test_times_are_said_the_nhs_way_never_12pm(hour, minute, label):
    assert time_label(uk(TODAY, hour, minute)) == label


def test_the_time_of_day_filter_says_midday_not_12pm():
    assert TIME_OF_DAY == {
        "morning": "Morning (before midday)",
        "afternoon": "Afternoon (midday to 6pm)",
        "evening": "Evening (from 6pm)",
    }


def test_the_next_two_days_are_named_today_and_tomorrow_in_headings():
    friday, saturday, sunday = (TODAY + datetime.timedelta(days=n) for n in range(3))

    assert relative_day_label(friday, TODAY) == "Today, Friday 4 December 2026"
    assert relative_day_label(saturday, TODAY) == "Tomorrow, Saturday 5 December 2026"
    assert relative_day_label(sunday, TODAY) == "Sunday 6 December 2026"


def test_a_time_and_its_day_read_after_at_with_no_doubled_on():
    monday = TODAY + datetime.timedelta(days=3)

    said = [
        f"Blood test at {when_label(uk(TODAY, 9), TODAY)}",
        f"Blood test at {when_label(uk(TODAY + datetime.timedelta(days=1), 8, 40), TODAY)}",
        f"Blood test at {when_label(uk(monday, 12), TODAY)}",
    ]

    assert said == [
        "Blood test at 9am today, Friday 4 December 2026",
        "Blood test at 8:40am tomorrow, Saturday 5 December 2026",
        "Blood test at midday on Monday 7 December 2026",
    ]


def test_a_single_day_range_is_said_once():
    boxing_day = datetime.date(2026, 12, 26)

    assert date_range_label(boxing_day, boxing_day) == "on 26 December 2026"
    assert (
        date_range_label(boxing_day, datetime.date(2027, 1, 2))
        == "from 26 December 2026 to 2 January 2027"
    )
