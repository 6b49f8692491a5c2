"""One mapping layer from Django forms to NHS.UK component macro parameters.

Templates never lay out a form field by hand: they call the component macro with what these
functions return, so every field gets its label, hint, error message and the right id for the
error summary link. Inputs get no ``maxlength``: a length error must be seen, not prevented.
"""

import datetime
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from markupsafe import Markup


class DateWidget(forms.MultiWidget):
    """Day, month and year boxes named ``<name>_day``, ``<name>_month``, ``<name>_year``."""

    parts = ("day", "month", "year")

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(dict.fromkeys(self.parts, forms.TextInput), attrs)

    def decompress(self, value: datetime.date | None) -> list:
        if value:
            return [value.day, value.month, value.year]
        return [None, None, None]


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
# Full names and their first three letters ("dec", "December"), as the NHS.UK date input
# guidance allows, and the common "sept".
MONTH_NUMBERS = {
    **{name: number for number, name in enumerate(_MONTHS, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTHS, start=1)},
    "sept": 9,
}


def _number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high``, or None."""
    # isdigit alone would let through other scripts' digits and superscripts; the length bound
    # keeps int() away from huge numbers.
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit() and len(digits) <= 4):
        return None
    value = int(digits)
    return value if low <= value <= high else None


def _month(text: str) -> int | None:
    return MONTH_NUMBERS.get(text.lower().rstrip(".")) or _number(text, 1, 12)


def _date_error(message: str, parts: list[str]) -> forms.ValidationError:
    """An error about the date ``parts`` (highlighted, and the first linked from the summary)."""
    return forms.ValidationError(message, code="date", params={"parts": tuple(parts)})


class DateField(forms.MultiValueField):
    """A date entered in the NHS.UK date input, with messages in the service manual's voice.

    ``name`` is how the message names the date, e.g. "date of birth". ``autocomplete`` is the
    autocomplete token for the whole date ("bday" for a date of birth). Every problem with the
    date is reported at once, each naming the parts it is about. Months may be typed as names.
    A form that asks for the date only under one of its options sets ``skip`` when another was
    chosen: the parts are then neither checked nor cleaned, and are shown again as typed.
    """

    widget = DateWidget

    def __init__(self, *, name: str, autocomplete: str = "", **kwargs: Any) -> None:
        self.name = name
        self.autocomplete = autocomplete
        self.skip = False
        parts = tuple(forms.CharField(required=False) for _ in DateWidget.parts)
        super().__init__(parts, require_all_fields=False, **kwargs)
        self.error_messages["required"] = f"Enter {name}"

    def compress(self, data_list: list) -> datetime.date | None:
        day, month, year = (str(part or "").strip() for part in (data_list or ["", "", ""]))
        if not (day or month or year):
            if self.required:
                raise _date_error(f"Enter {self.name}", list(DateWidget.parts))
            return None
        typed = dict(zip(DateWidget.parts, (day, month, year), strict=True))
        missing = [part for part, text in typed.items() if not text]
        # A year of digits but not 4 of them is a year typed short, not one that cannot be.
        short_year = year.isascii() and year.isdigit() and len(year) != 4
        numbers = {
            "day": _number(day, 1, 31),
            "month": _month(month),
            "year": None if short_year else _number(year, 1, 9999),
        }
        not_real = [
            part
            for part, text in typed.items()
            if text and numbers[part] is None and not (part == "year" and short_year)
        ]
        errors = []
        if missing:
            message = f"{self.name.capitalize()} must include a {' and '.join(missing)}"
            errors.append(_date_error(message, missing))
        if not_real:
            errors.append(_date_error(f"{self.name.capitalize()} must be a real date", not_real))
        if short_year:
            errors.append(_date_error(f"The year of {self.name} must include 4 numbers", ["year"]))
        if errors:
            raise forms.ValidationError(errors)
        try:
            return datetime.date(numbers["year"], numbers["month"], numbers["day"])
        except ValueError:
            # 31 February: the day is the part that cannot be.
            raise _date_error(f"{self.name.capitalize()} must be a real date", ["day"]) from None

    def clean(self, value: list | None) -> datetime.date | None:
        if self.skip:
            return None
        # MultiValueField's own "required" handling would hide which part is missing.
        result = self.compress(value)
        self.validate(result)
        self.run_validators(result)
        return result

    def validate(self, value: datetime.date | None) -> None:
        return None


def skip_unless_chosen(form: forms.Form, choice: str, value: str, *names: str) -> None:
    """Leave the fields ``names`` unchecked unless the bound ``form``'s ``choice`` is ``value``:
    the dates under a collapsed "Between dates I choose" are not the answer, and a half-typed
    one must not block the option the user did choose (nor an error point at a hidden field)."""
    if form.is_bound and form.data.get(form.add_prefix(choice)) != value:
        for name in names:
            form.fields[name].skip = True


def _errors(field: BoundField) -> list[forms.ValidationError]:
    return field.form.errors.as_data().get(field.name, []) if field.form.is_bound else []


def _error_parts(error: forms.ValidationError) -> tuple[str, ...]:
    """The date parts an error is about: those it names, or (a whole-date error) all three."""
    return (error.params or {}).get("parts") or DateWidget.parts


def first_error(field: BoundField) -> dict | None:
    return {"text": field.errors[0]} if field.errors else None


def field_target_id(field: BoundField) -> str:
    """The id of the element an error summary link should move focus to."""
    if isinstance(field.field.widget, DateWidget):
        return f"{field.auto_id}_day"
    return field.auto_id


def _summary_links(field: BoundField) -> list[dict]:
    """One error summary link per error of ``field``; a date's to the first part it is about."""
    if not isinstance(field.field.widget, DateWidget):
        return [{"text": message, "href": f"#{field.auto_id}"} for message in field.errors]
    return [
        {"text": message, "href": f"#{field.auto_id}_{_error_parts(error)[0]}"}
        for error in _errors(field)
        for message in error
    ]


def _value(field: BoundField) -> Any:
    value = field.value()
    return "" if value is None else value


def _hint(field: BoundField, hint: str | None) -> dict | None:
    text = hint if hint is not None else field.help_text
    return {"text": text} if text else None


def input_params(field: BoundField, *, hint: str | None = None, **extra: Any) -> dict:
    """The input; its ``autocomplete`` comes from the form's widget attributes, so the form
    says once what personal detail a field asks for (a phone number: "tel")."""
    attrs = field.field.widget.attrs
    return {
        **({"autocomplete": attrs["autocomplete"]} if "autocomplete" in attrs else {}),
        "id": field.auto_id,
        "name": field.html_name,
        "label": {"text": field.label},
        "hint": _hint(field, hint),
        "value": _value(field),
        "errorMessage": first_error(field),
        **extra,
    }


def character_count_params(
    field: BoundField, *, maxlength: int, hint: str | None = None, **extra: Any
) -> dict:
    """The character count shows the limit as a counter, never as a ``maxlength`` attribute."""
    return input_params(field, hint=hint, maxlength=maxlength, **extra)


def date_params(field: BoundField, *, legend_classes: str = "nhsuk-fieldset__legend--s") -> dict:
    """The date input: every error of the date shown, and only the parts they are about
    highlighted (NHS.UK date input guidance)."""
    values = field.value()
    if isinstance(values, datetime.date):
        values = field.field.widget.decompress(values)
    values = list(values or [None, None, None])
    bad_parts = {part for error in _errors(field) for part in _error_parts(error)}
    autocomplete = field.field.autocomplete
    items = []
    for part, value in zip(DateWidget.parts, values, strict=True):
        item = {
            "id": f"{field.auto_id}_{part}",
            "name": f"{field.html_name}_{part}",
            "label": part.capitalize(),
            "value": "" if value is None else value,
            "classes": ("nhsuk-input--width-4" if part == "year" else "nhsuk-input--width-2")
            + (" nhsuk-input--error" if part in bad_parts else ""),
        }
        if autocomplete:
            item["autocomplete"] = f"{autocomplete}-{part}"
        if part == "month":
            # Month names are accepted ("dec"): a phone shows its letters keyboard for this box.
            item["inputmode"] = "text"
        items.append(item)
    error_html = Markup("<br>").join(field.errors)
    return {
        "id": field.auto_id,
        "fieldset": {"legend": {"text": field.label, "classes": legend_classes}},
        "hint": _hint(field, None),
        "errorMessage": {"html": error_html} if field.errors else None,
        "items": items,
    }


def _choice_items(field: BoundField, selected: set[str], hints: dict | None) -> list[dict]:
    items = []
    for value, label in field.field.choices:
        if value == "":
            continue
        item = {"value": value, "text": label, "checked": str(value) in selected}
        if hints and value in hints:
            item["hint"] = {"text": hints[value]}
        items.append(item)
    return items


def radios_params(
    field: BoundField,
    *,
    hints: dict | None = None,
    legend_classes: str = "nhsuk-fieldset__legend--s",
    is_page_heading: bool = False,
    **extra: Any,
) -> dict:
    selected = {str(field.value())} if field.value() not in (None, "") else set()
    return {
        "idPrefix": field.auto_id,
        "name": field.html_name,
        "fieldset": {
            "legend": {
                "text": field.label,
                "classes": legend_classes,
                "isPageHeading": is_page_heading,
            }
        },
        "hint": _hint(field, None),
        "errorMessage": first_error(field),
        "items": _choice_items(field, selected, hints),
        **extra,
    }


def checkboxes_params(
    field: BoundField,
    *,
    hints: dict | None = None,
    legend_classes: str = "nhsuk-fieldset__legend--s",
    **extra: Any,
) -> dict:
    selected = {str(value) for value in (field.value() or [])}
    return {
        "idPrefix": field.auto_id,
        "name": field.html_name,
        "fieldset": {"legend": {"text": field.label, "classes": legend_classes}},
        "hint": _hint(field, None),
        "errorMessage": first_error(field),
        "items": _choice_items(field, selected, hints),
        **extra,
    }


def select_params(field: BoundField, **extra: Any) -> dict:
    selected = str(field.value() or "")
    return {
        "id": field.auto_id,
        "name": field.html_name,
        "label": {"text": field.label},
        "hint": _hint(field, None),
        "errorMessage": first_error(field),
        "items": [
            {"value": value, "text": label, "selected": str(value) == selected}
            for value, label in field.field.choices
        ],
        **extra,
    }


def reveal(params: dict, value: str, html: str, **changes: Any) -> dict:
    """``params`` with ``html`` revealed under the radio or checkbox item whose value is
    ``value`` (NHS.UK conditional reveal); ``changes`` update the top-level params."""
    items = [
        {**item, "conditional": {"html": html}} if item["value"] == value else item
        for item in params["items"]
    ]
    return {**params, **changes, "items": items}


def error_summary_params(form: forms.Form) -> dict | None:
    """The error summary for a bound form: one link per error, to the field that has it."""
    if not form.is_bound or not form.errors:
        return None
    error_list = []
    fields = list(form)
    for message in form.non_field_errors():
        target = getattr(form, "non_field_error_target", None) or (fields and fields[0].name)
        target_id = field_target_id(form[target]) if target else ""
        error_list.append({"text": message, "href": f"#{target_id}"})
    for field in fields:
        error_list.extend(_summary_links(field))
    return {"titleText": "There is a problem", "errorList": error_list}


JINJA_GLOBALS = {
    "input_params": input_params,
    "character_count_params": character_count_params,
    "date_params": date_params,
    "radios_params": radios_params,
    "checkboxes_params": checkboxes_params,
    "select_params": select_params,
    "error_summary_params": error_summary_params,
    "reveal": reveal,
}
