"""The preview's question: which practices, and which week or dates. Sent as GET parameters, so
a preview can be bookmarked and shared; messages in the NHS service manual's voice."""

import datetime

from django import forms
from django.http import QueryDict

from booking_site import gpconnect
from booking_site.core.nhsuk_forms import DateField, skip_unless_chosen
from booking_site.practices.models import Federation, Practice

# Patients can book up to 8 weeks ahead: staff can look as far.
MAX_WEEKS_AHEAD = 8
FEDERATION_PREFIX = "federation-"


def short_date(day: datetime.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def long_date(day: datetime.date) -> str:
    return f"{short_date(day)} {day.year}"


def week_choices(today: datetime.date) -> list[tuple[str, str]]:
    """This week (from today) and the 8 weeks after it, Monday to Sunday; values are Mondays."""
    this_monday = today - datetime.timedelta(days=today.weekday())
    choices = []
    for weeks in range(MAX_WEEKS_AHEAD + 1):
        monday = this_monday + datetime.timedelta(weeks=weeks)
        sunday = monday + datetime.timedelta(days=6)
        if weeks == 0:
            label = f"This week (today to {long_date(sunday)})"
        else:
            label = f"{short_date(monday)} to {long_date(sunday)}"
        choices.append((monday.isoformat(), label))
    return choices


def requested_scope(data: QueryDict) -> tuple[list[str], list[int]]:
    """The ODS codes and federation ids a query asks about, before any validation: the views
    refuse (403) any that are not the user's before the form sees them."""
    codes = [code for code in data.getlist("practices") if code]
    federations = []
    for value in data.getlist("who"):
        number = value.removeprefix(FEDERATION_PREFIX)
        if value.startswith(FEDERATION_PREFIX) and number.isdigit():
            federations.append(int(number))
    return codes, federations


class PreviewForm(forms.Form):
    CHOSEN = "chosen"
    DATES = "dates"

    who = forms.ChoiceField(
        label="Which practices do you want to check?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select which practices to check",
            "invalid_choice": "Select which practices to check",
        },
    )
    practices = forms.MultipleChoiceField(
        label="Practices",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select practices from the list"},
    )
    week = forms.ChoiceField(
        label="Which week do you want to check?",
        help_text="Weeks run from Monday to Sunday. Patients can book up to 8 weeks ahead.",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a week, or choose dates",
            "invalid_choice": "Select a week from the list, or choose dates",
        },
    )
    start = DateField(
        name="the start date", label="From", required=False, help_text="For example, 15 3 2027"
    )
    end = DateField(
        name="the end date", label="To", required=False, help_text="For example, 22 3 2027"
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        federations: list[Federation],
        practices: list[Practice],
        today: datetime.date,
    ) -> None:
        super().__init__(data)
        self.today = today
        self.latest = today + datetime.timedelta(weeks=MAX_WEEKS_AHEAD)
        self.federation_practices = {
            federation.pk: [p.ods_code for p in practices if p.federation_id == federation.pk]
            for federation in federations
        }
        self.fields["who"].choices = [
            (
                f"{FEDERATION_PREFIX}{federation.pk}",
                f"Every practice in {federation.name}",
            )
            for federation in federations
        ] + [(self.CHOSEN, "Practices I choose")]
        self.who_hints = {
            f"{FEDERATION_PREFIX}{federation.pk}": _practice_count(
                len(self.federation_practices[federation.pk])
            )
            for federation in federations
        }
        self.fields["practices"].choices = [(p.ods_code, p.name) for p in practices]
        # With more than one federation, say which one each practice is in.
        self.practice_hints = (
            {p.ods_code: p.federation.name for p in practices} if len(federations) > 1 else {}
        )
        self.fields["week"].choices = [*week_choices(today), (self.DATES, "Dates I choose")]
        skip_unless_chosen(self, "week", self.DATES, "start", "end")

    def clean(self) -> dict:
        cleaned = super().clean()
        chose_none = cleaned.get("who") == self.CHOSEN and not cleaned.get("practices")
        if chose_none and not self.has_error("practices"):
            self.add_error("practices", "Select at least one practice")
        if cleaned.get("week") == self.DATES:
            self._clean_dates(cleaned.get("start"), cleaned.get("end"))
        return cleaned

    def _clean_dates(self, start: datetime.date | None, end: datetime.date | None) -> None:
        weeks = f"{MAX_WEEKS_AHEAD} weeks"
        if start is None and not self.has_error("start"):
            self.add_error("start", "Enter the start date")
        if end is None and not self.has_error("end"):
            self.add_error("end", "Enter the end date")
        if start and start < self.today:
            self.add_error("start", "The start date must be today or in the future")
        elif start and start > self.latest:
            self.add_error("start", f"The start date must be no more than {weeks} from today")
        if end and end > self.latest:
            self.add_error("end", f"The end date must be no more than {weeks} from today")
        elif start and end and end < start:
            self.add_error("end", "The end date must be the same as or after the start date")

    def chosen_ods_codes(self) -> list[str]:
        who = self.cleaned_data["who"]
        if who == self.CHOSEN:
            return list(self.cleaned_data["practices"])
        return self.federation_practices[int(who.removeprefix(FEDERATION_PREFIX))]

    def date_range(self) -> gpconnect.DateRange:
        week = self.cleaned_data["week"]
        if week == self.DATES:
            return gpconnect.DateRange(self.cleaned_data["start"], self.cleaned_data["end"])
        monday = datetime.date.fromisoformat(week)
        # This week starts today: the days already gone have nothing left to book.
        return gpconnect.DateRange(max(monday, self.today), monday + datetime.timedelta(days=6))


def _practice_count(count: int) -> str:
    return "1 practice" if count == 1 else f"{count} practices"
