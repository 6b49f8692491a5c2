"""How a patient hears from the site: by email or text message to what NHS login verified, or
not at all. Only verified contact details are ever used; a text goes only to a mobile."""

from dataclasses import dataclass

import phonenumbers

from booking_site.accounts.models import User
from booking_site.notifications.models import Channel

NONE = "none"


@dataclass(frozen=True)
class Contact:
    channel: str  # Channel value
    recipient: str


def verified_email(user: User) -> str:
    return user.email if user.email_verified and user.email else ""


def verified_mobile(user: User) -> str:
    """The verified phone number as E.164, when it is a UK mobile: Notify texts those (its rule
    is the number's shape, 07 and nine more digits, so Ofcom's drama range counts)."""
    if not (user.phone_number_verified and user.phone_number):
        return ""
    return uk_mobile(user.phone_number)


def uk_mobile(text: str) -> str:
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return ""
    national = str(number.national_number)
    if number.country_code != 44 or len(national) != 10 or not national.startswith("7"):
        return ""
    return f"+44{national}"


def choices(user: User) -> list[tuple[str, str]]:
    """The ways this patient can choose, as (value, what it means), "none" last."""
    options = []
    if email := verified_email(user):
        options.append((Channel.EMAIL.value, email))
    if mobile := verified_mobile(user):
        options.append((Channel.SMS.value, mobile))
    options.append((NONE, ""))
    return options


def preference(user: User) -> str:
    """The patient's choice, if it can still be used; otherwise the default: email when NHS
    login verified one, else a text to a verified mobile, else none."""
    available = {value for value, _ in choices(user)}
    if user.contact_by in available:
        return user.contact_by
    if Channel.EMAIL.value in available:
        return Channel.EMAIL.value
    if Channel.SMS.value in available:
        return Channel.SMS.value
    return NONE


def contact_for(user: User) -> Contact | None:
    """Where to send this patient's messages now, or None for no messages."""
    chosen = preference(user)
    if chosen == Channel.EMAIL:
        return Contact(Channel.EMAIL.value, verified_email(user))
    if chosen == Channel.SMS:
        return Contact(Channel.SMS.value, verified_mobile(user))
    return None


def describe(user: User) -> str:
    """The choice in words, for check-answers and the settings page."""
    contact = contact_for(user)
    if contact is None:
        return "No messages"
    if contact.channel == Channel.EMAIL:
        return f"By email to {contact.recipient}"
    return f"By text message to {display_mobile(contact.recipient)}"


def display_mobile(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
