"""Slot and session names as a patient reads them: internal diary wording ("EMBARGO", "Default
slot", "Slot 1") and shouting are not something to show a patient as what an appointment is.
The staff preview names the problems (availability.services); the patient's pages show the
session name instead (``patient_slot_type``)."""

import re

# Wording from inside a practice's diary that means nothing to a patient, matched as whole words
# in any case: "EMBARGO", "Default slot", "Slot 1", "DNB", "Reserved for 111".
_JARGON = re.compile(
    r"(?<!\w)("
    r"embargo(?:ed)?|default|slot\s*\d+|reserved|do\s+not\s+book|dnb|admin|blocked|internal"
    r"|dummy|placeholder|tbc|tba|n/a|misc"
    r")(?!\w)",
    re.IGNORECASE,
)
# "Test" is jargon only when it is the whole name ("TEST", "Test slot 2"): "Blood test" and
# "Test results" are real appointments.
_TEST_NAME = re.compile(
    r"^\s*(test(?:ing)?)(?:\s+(?:slot|appt|appointment|booking))?(?:\s*\d+)?\s*$", re.IGNORECASE
)
# Short all-capital names are usually abbreviations patients know (ECG, COPD); longer ones are
# shouting ("EMBARGO", "BLOOD PRESSURE CHECK").
_MAX_ACRONYM_LETTERS = 4


def jargon_in(name: str) -> str | None:
    """The internal wording in a slot or schedule type, if there is any."""
    found = _JARGON.search(name) or _TEST_NAME.match(name)
    return " ".join(found.group(1).split()) if found else None


def is_shouting(name: str) -> bool:
    """Written in capitals: every letter a capital, and more than a short abbreviation."""
    letters = [character for character in name if character.isalpha()]
    return len(letters) > _MAX_ACRONYM_LETTERS and all(letter.isupper() for letter in letters)


def is_clear(name: str | None) -> bool:
    """A name a patient can read as what the appointment is."""
    return bool(name and name.strip()) and not jargon_in(name) and not is_shouting(name)


def patient_slot_type(slot_type: str | None, session_name: str | None) -> str:
    """What to call a slot on a patient's page: its slot type when that is clear, else its
    session's name (the schedule type, e.g. "Duty doctor"), else a plain "GP appointment"."""
    if is_clear(slot_type):
        return slot_type.strip()
    if is_clear(session_name):
        return f"{session_name.strip()} appointment"
    return "GP appointment"
