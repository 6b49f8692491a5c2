"""The results filters' form, shared by the patient results and the staff preview of them."""

from django import forms


class FilterForm(forms.Form):
    """The results filters: GET parameters, so a filtered list can be bookmarked. Only rendered
    (through the NHS.UK checkboxes); ``results.Filters`` reads and applies the values."""

    time = forms.MultipleChoiceField(label="Time of day", required=False)
    channel = forms.MultipleChoiceField(label="Type of appointment", required=False)
    practice = forms.MultipleChoiceField(label="Practice", required=False)
    gender = forms.MultipleChoiceField(label="Gender of healthcare professional", required=False)
    type = forms.MultipleChoiceField(label="Appointment for", required=False)

    def __init__(self, data, *, options: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__(data)
        for name, choices in options.items():
            self.fields[name].choices = choices
