from django import forms

from booking_site.accounts.models import User
from booking_site.notifications import contact
from booking_site.notifications.models import Channel

CHOOSE = "Select how you want to get messages about your appointments"


class ContactForm(forms.Form):
    """Email, text message or no messages: only what NHS login verified is offered."""

    contact_by = forms.ChoiceField(
        label="How do you want to get messages about your appointments?",
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE, "invalid_choice": CHOOSE},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, initial={"contact_by": contact.preference(user)}, **kwargs)
        names = {Channel.EMAIL: "Email", Channel.SMS: "Text message", contact.NONE: "No messages"}
        self.hints = {}
        for value, recipient in contact.choices(user):
            if value == Channel.SMS:
                recipient = contact.display_mobile(recipient)
            self.hints[value] = (
                f"To {recipient}" if recipient else "No confirmations, reminders or alerts"
            )
        self.fields["contact_by"].choices = [
            (value, names[value]) for value, _ in contact.choices(user)
        ]
