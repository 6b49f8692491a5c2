"""Notify's checks on email addresses and phone numbers, for a service that may text UK
mobiles only. Each raises Notify's answer (a NotifyError) for a bad recipient."""

import re

import phonenumbers

from gp_sandbox.notify.errors import NotifyError, bad_request, validation_error

_LOCAL_PART = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+$")
_HOST_LABEL = re.compile(r"^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$", re.IGNORECASE)
_TOP_LEVEL = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.IGNORECASE)
_PHONE_CHARACTERS = re.compile(r"^[0-9 ()+\-.\t]+$")


def check_email_address(address: str) -> None:
    """Raise Notify's 400 unless ``address`` looks like an address Notify will send to."""
    if not _is_email_address(address.strip()):
        raise validation_error("email_address Not a valid email address")


def _is_email_address(address: str) -> bool:
    if len(address) > 320 or ".." in address or address.count("@") != 1:
        return False
    local, host = address.split("@")
    if not local or not _LOCAL_PART.match(local) or host.startswith("."):
        return False
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = host.split(".")
    return (
        len(host) <= 253
        and len(labels) >= 2
        and all(len(label) <= 63 and _HOST_LABEL.match(label) for label in labels)
        and bool(_TOP_LEVEL.match(labels[-1]))
    )


def check_uk_mobile(number: str) -> str:
    """Notify's normalised form of a UK mobile number (447700900123), or raise its 400: a
    schema error for something that is not a phone number, then the service's own limits."""
    if not _PHONE_CHARACTERS.match(number):
        raise validation_error("phone_number Must not contain letters or symbols")
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException as error:
        raise _schema_error(_PARSE_ERRORS.get(error.error_type)) from error
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise _schema_error(_IMPOSSIBLE_NUMBERS.get(reason))

    national = str(parsed.national_number)
    if parsed.country_code != 44:
        if not phonenumbers.is_valid_number(parsed):
            raise validation_error("phone_number Not a valid phone number")
        raise bad_request("Cannot send to international mobile numbers")
    # Notify's own rule, not phonenumbers': UK mobiles are 07 and 9 more digits, Ofcom's
    # drama numbers (07700 900xxx) included.
    if national.startswith("7") and len(national) != 10:
        raise _schema_error("Not enough digits" if len(national) < 10 else "Too many digits")
    if not (len(national) == 10 and national.startswith("7")):
        raise NotifyError(400, ("InvalidPhoneError", "Not a UK mobile number"))
    return f"44{national}"


def _schema_error(message: str | None) -> NotifyError:
    return validation_error(f"phone_number {message or 'Not a valid phone number'}")


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "Not a valid country prefix",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "Not enough digits",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "Not enough digits",
    phonenumbers.NumberParseException.TOO_LONG: "Too many digits",
}
_IMPOSSIBLE_NUMBERS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "Not a valid country prefix",
    phonenumbers.ValidationResult.TOO_SHORT: "Not enough digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "Not enough digits",
    phonenumbers.ValidationResult.TOO_LONG: "Too many digits",
}
