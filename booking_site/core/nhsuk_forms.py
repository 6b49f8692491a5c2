"""One mapping layer from Django forms to NHS.UK component macro parameters.

Templates never lay out a form field by hand: they call the component macro with what these
functions return, so every field gets its label, hint, error message and the right id for the
error summary link. Inputs get no ``maxlength``: a length error must be seen, not prevented.
"""

import datetime
from typing import Any

from django import forms
from django.forms.boundfield import BoundField


class DateWidget(forms.MultiWidget):
    """Day, month and year boxes named ``<name>_day``, ``<name>_month``, ``<name>_year``."""

    parts = ("day", "month", "year")

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(dict.fromkeys(self.parts, forms.TextInput), attrs)

    def decompress(self, value: datetime.date | None) -> list:
        if value:
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateField(forms.MultiValueField):
    """A date entered in the NHS.UK date input, with messages in the service manual's voice.

    ``name`` is how the message names the date, e.g. "date of birth".
    """

    widget = DateWidget

    def __init__(self, *, name: str, **kwargs: Any) -> None:
        self.name = name
        parts = tuple(forms.CharField(required=False) for _ in DateWidget.parts)
        super().__init__(parts, require_all_fields=False, **kwargs)
        self.error_messages["required"] = f"Enter {name}"

    def compress(self, data_list: list) -> datetime.date | None:
        day, month, year = ((part or "").strip() for part in (data_list or ["", "", ""]))
        if not (day or month or year):
            if self.required:
                raise forms.ValidationError(f"Enter {self.name}")
            return None
        missing = [
            label
            for label, part in zip(DateWidget.parts, (day, month, year), strict=True)
            if not part
        ]
        if missing:
            raise forms.ValidationError(
                f"{self.name.capitalize()} must include a {' and '.join(missing)}"
            )
        not_real = forms.ValidationError(f"{self.name.capitalize()} must be a real date")
        # isdigit alone would let through other scripts' digits and superscripts.
        if not all(part.isascii() and part.isdigit() for part in (day, month, year)):
            raise not_real
        if len(year) != 4:
            raise forms.ValidationError("Year must include 4 numbers")
        try:
            return datetime.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            # A day or month with too many digits for the C library overflows instead.
            raise not_real from None

    def clean(self, value: list | None) -> datetime.date | None:
        # MultiValueField's own "required" handling would hide which part is missing.
        result = self.compress(value)
        self.validate(result)
        self.run_validators(result)
        return result

    def validate(self, value: datetime.date | None) -> None:
        return None


def first_error(field: BoundField) -> dict | None:
    return {"text": field.errors[0]} if field.errors else None


def field_target_id(field: BoundField) -> str:
    """The id of the element an error summary link should move focus to."""
    if isinstance(field.field.widget, DateWidget):
        return f"{field.auto_id}_day"
    return field.auto_id


def _value(field: BoundField) -> Any:
    value = field.value()
    return "" if value is None else value


def _hint(field: BoundField, hint: str | None) -> dict | None:
    text = hint if hint is not None else field.help_text
    return {"text": text} if text else None


def input_params(field: BoundField, *, hint: str | None = None, **extra: Any) -> dict:
    return {
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
    values = field.value()
    if isinstance(values, datetime.date):
        values = field.field.widget.decompress(values)
    values = list(values or [None, None, None])
    has_error = bool(field.errors)
    items = []
    for part, value in zip(DateWidget.parts, values, strict=True):
        items.append(
            {
                "id": f"{field.auto_id}_{part}",
                "name": f"{field.html_name}_{part}",
                "label": part.capitalize(),
                "value": "" if value is None else value,
                "classes": ("nhsuk-input--width-4" if part == "year" else "nhsuk-input--width-2")
                + (" nhsuk-input--error" if has_error else ""),
            }
        )
    return {
        "id": field.auto_id,
        "fieldset": {"legend": {"text": field.label, "classes": legend_classes}},
        "hint": _hint(field, None),
        "errorMessage": first_error(field),
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
        if field.errors:
            error_list.append({"text": field.errors[0], "href": f"#{field_target_id(field)}"})
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
