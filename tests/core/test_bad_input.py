"""Bad input gets a clear message in the NHS service manual's voice, never a server error."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from django import forms

from booking_site.core.nhsuk_forms import DateField
from booking_site.practices.directory import apractices_by_ods
from tests.factories import make_practice
from tests.fuzz.postgres_like import nul_refused

HUGE = "9" * 30


def clean_date(day: str, month: str, year: str) -> datetime.date | None:
    return DateField(name="your date of birth").clean([day, month, year])


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        (HUGE, "5", "2027", "Your date of birth must be a real date"),
        ("5", HUGE, "2027", "Your date of birth must be a real date"),
        ("5", "5", HUGE, "The year of your date of birth must include 4 numbers"),
        ("5", "5", "27", "The year of your date of birth must include 4 numbers"),
        ("5", "5", "0000", "Your date of birth must be a real date"),
        ("-5", "5", "2027", "Your date of birth must be a real date"),
        # Digits of other scripts and superscripts pass str.isdigit.
        ("²", "5", "2027", "Your date of birth must be a real date"),
        ("٥", "٥", "٢٠٢٧", "Your date of birth must be a real date"),
        ("5\x00", "5", "2027", "Your date of birth must be a real date"),
    ],
)
def test_a_date_no_calendar_holds_is_a_field_error(day, month, year, message):
    with pytest.raises(forms.ValidationError) as raised:
        clean_date(day, month, year)

    assert raised.value.messages == [message]


def test_a_real_date_with_leading_zeros_is_accepted():
    assert clean_date("05", "03", "2027") == datetime.date(2027, 3, 5)


@pytest.mark.django_db(transaction=True)
def test_an_ods_code_with_a_nul_byte_is_an_unknown_practice_never_a_query():
    practice = make_practice("A20047")

    with nul_refused():
        found = async_to_sync(apractices_by_ods)(["A2\x000047", "A20047", "x" * 500])

    assert found == [practice]
