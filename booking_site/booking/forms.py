"""The questions of the booking journey, with messages in the NHS service manual's voice."""

import datetime

import phonenumbers
from django import forms
from django.utils import timezone

from booking_site.core.nhsuk_forms import DateField, skip_unless_chosen

MAX_WEEKS_AHEAD = 8
REASON_MAX = 100
NOTE_MAX = 500
# From Ofcom's ranges kept for drama (never given to anyone) that the phonenumbers library also
# accepts: a Leeds landline and a freephone number written with the country code. Ofcom's drama
# mobiles (07700 900xxx) are not valid in the library, so no mobile is given as an example.
PHONE_EXAMPLES = ("0113 496 0000", "+44 808 157 0192")


class WhereForm(forms.Form):
    """Where: my practice, any practice in my federation, or practices I choose."""

    MINE, FEDERATION, CHOSEN = "mine", "federation", "chosen"

    scope = forms.ChoiceField(
        label="Where would you like an appointment?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select where you would like an appointment",
            "invalid_choice": "Select where you would like an appointment",
        },
    )
    practices = forms.MultipleChoiceField(
        label="Which practices?",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select practices from the list"},
    )

    def __init__(self, *args, own_practice, federation_practices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.own_practice = own_practice
        choices = [(self.MINE, f"My practice: {own_practice.name}")]
        if federation_practices:
            federation = own_practice.federation
            choices.append((self.FEDERATION, f"Any practice in {federation.name}"))
            choices.append((self.CHOSEN, "Practices I choose"))
        self.fields["scope"].choices = choices
        self.fields["practices"].choices = [(p.ods_code, p.name) for p in federation_practices]
        self.practice_hints = {p.ods_code: p.address for p in federation_practices}

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen_none = cleaned.get("scope") == self.CHOSEN and not cleaned.get("practices")
        if chosen_none and not self.has_error("practices"):
            self.add_error("practices", "Select at least one practice")
        return cleaned

    def chosen_ods_codes(self) -> list[str]:
        scope = self.cleaned_data["scope"]
        if scope == self.MINE:
            return [self.own_practice.ods_code]
        if scope == self.FEDERATION:
            return [code for code, _ in self.fields["practices"].choices]
        return list(self.cleaned_data["practices"])


class WhenForm(forms.Form):
    """When: a preset period from today, or chosen dates up to 8 weeks ahead."""

    PRESETS = {"7": 7, "14": 14, "28": 28}

    period = forms.ChoiceField(
        label="When would you like an appointment?",
        widget=forms.RadioSelect,
        choices=[
            ("7", "In the next 7 days"),
            ("14", "In the next 14 days"),
            ("28", "In the next 4 weeks"),
            ("dates", "Between dates I choose"),
        ],
        error_messages={
            "required": "Select when you would like an appointment",
            "invalid_choice": "Select when you would like an appointment",
        },
    )
    start = DateField(name="the start date", label="From", required=False)
    end = DateField(name="the end date", label="To", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        skip_unless_chosen(self, "period", "dates", "start", "end")

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("period") != "dates":
            return cleaned
        today = timezone.localdate()
        latest = today + datetime.timedelta(weeks=MAX_WEEKS_AHEAD)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None and not self.has_error("start"):
            self.add_error("start", "Enter a start date")
        if end is None and not self.has_error("end"):
            self.add_error("end", "Enter an end date")
        if start and start < today:
            self.add_error("start", "The start date must be today or in the future")
        elif start and start > latest:
            self.add_error("start", f"The start date must be within {MAX_WEEKS_AHEAD} weeks")
        if end and end > latest:
            self.add_error(
                "end", f"The end date must be no more than {MAX_WEEKS_AHEAD} weeks from today"
            )
        elif start and end and end < start:
            self.add_error("end", "The end date must be after the start date")
        return cleaned

    def dates_as_typed(self) -> dict[str, list[str]]:
        """The start and end dates' parts as typed (all empty: none typed), each cut to a
        length a date part could have, as they are kept in the session."""
        return {
            name: [str(part or "")[:20] for part in self[name].value()] for name in ("start", "end")
        }

    def date_range(self) -> tuple[datetime.date, datetime.date]:
        period = self.cleaned_data["period"]
        if period == "dates":
            return self.cleaned_data["start"], self.cleaned_data["end"]
        today = timezone.localdate()
        return today, today + datetime.timedelta(days=self.PRESETS[period] - 1)


class DetailsForm(forms.Form):
    """What the practice needs to know."""

    reason = forms.CharField(
        label="What is the appointment for?",
        help_text="For example, a cough that has lasted 3 weeks. Do not include personal details.",
        error_messages={"required": "Enter what the appointment is for"},
    )
    note = forms.CharField(
        label="Anything else the practice should know? (optional)",
        required=False,
    )
    phone = forms.CharField(
        label="Phone number the practice can call you on",
        help_text="For international numbers include the country code",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )

    def __init__(self, *args, needs_phone: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.needs_phone = needs_phone
        if not needs_phone:
            del self.fields["phone"]

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) > REASON_MAX:
            raise forms.ValidationError(
                f"What the appointment is for must be {REASON_MAX} characters or fewer"
            )
        return reason

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if len(note) > NOTE_MAX:
            raise forms.ValidationError(f"Your note must be {NOTE_MAX} characters or fewer")
        return note

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            raise forms.ValidationError("Enter a phone number the practice can call you on")
        try:
            number = phonenumbers.parse(raw, "GB")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(
                f"Enter a phone number, like {PHONE_EXAMPLES[0]} or {PHONE_EXAMPLES[1]}"
            )
        region = phonenumbers.region_code_for_number(number)
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if region == "GB"
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return phonenumbers.format_number(number, style)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        help_text="For example, I feel better or I cannot make this time",
        error_messages={"required": "Enter why you are cancelling"},
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) > NOTE_MAX:
            raise forms.ValidationError(f"Your reason must be {NOTE_MAX} characters or fewer")
        return reason


class AlertForm(forms.Form):
    """Until when to be told of an earlier appointment: at most 8 weeks ahead."""

    until = DateField(
        name="the last day of the alert",
        label="Until when should we look?",
        help_text="We will stop looking after this day. It can be up to 8 weeks from today.",
    )

    def clean_until(self) -> datetime.date:
        until = self.cleaned_data["until"]
        today = timezone.localdate()
        if until < today:
            raise forms.ValidationError("The last day must be today or in the future")
        if until > today + datetime.timedelta(weeks=MAX_WEEKS_AHEAD):
            raise forms.ValidationError(
                f"The last day must be no more than {MAX_WEEKS_AHEAD} weeks from today"
            )
        return until
