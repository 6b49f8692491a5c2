"""The NHS.UK date input: month names, every problem at once, errors on the right part."""

import datetime

import pytest
from django import forms

from booking_site.core.nhsuk_forms import DateField, date_params, error_summary_params


class BirthForm(forms.Form):
    born = DateField(name="your date of birth", label="Date of birth", autocomplete="bday")


@pytest.mark.parametrize("month", ["dec", "Dec", "DEC", "december", "December", "12", "Dec."])
def test_a_month_may_be_typed_as_its_name_or_first_three_letters(month):
    assert DateField(name="the date").clean(["5", month, "2027"]) == datetime.date(2027, 12, 5)


def test_sept_is_september_and_a_word_that_is_not_a_month_is_not_a_real_date():
    field = DateField(name="the date")

    assert field.clean(["5", "sept", "2027"]) == datetime.date(2027, 9, 5)
    with pytest.raises(forms.ValidationError) as raised:
        field.clean(["5", "decembre", "2027"])
    assert raised.value.messages == ["The date must be a real date"]


def test_every_problem_with_a_date_is_reported_at_once_linked_to_its_part():
    form = BirthForm({"born_day": "32", "born_month": "", "born_year": "27"})

    assert not form.is_valid()
    assert error_summary_params(form)["errorList"] == [
        {"text": "Your date of birth must include a month", "href": "#id_born_month"},
        {"text": "Your date of birth must be a real date", "href": "#id_born_day"},
        {"text": "The year of your date of birth must include 4 numbers", "href": "#id_born_year"},
    ]


def test_only_the_parts_in_error_are_highlighted():
    form = BirthForm({"born_day": "5", "born_month": "13", "born_year": "1990"})
    form.is_valid()

    params = date_params(form["born"])

    highlighted = [item["id"] for item in params["items"] if "error" in item["classes"]]
    assert highlighted == ["id_born_month"]
    assert error_summary_params(form)["errorList"][0]["href"] == "#id_born_month"


def test_a_date_of_birth_autocompletes_each_part():
    params = date_params(BirthForm()["born"])

    assert [item["autocomplete"] for item in params["items"]] == [
        "bday-day",
        "bday-month",
        "bday-year",
    ]


def test_a_whole_date_error_links_to_the_day():
    form = BirthForm({"born_day": "", "born_month": "", "born_year": ""})

    assert not form.is_valid()
    assert error_summary_params(form)["errorList"] == [
        {"text": "Enter your date of birth", "href": "#id_born_day"}
    ]
