"""Display formatting for the booking pages: the chosen slot, a stored booking, and why a
cancellation was refused. (The results page's presenters are shared with the staff preview:
``booking_site.common.results``.)"""

import datetime

from booking_site import gpconnect
from booking_site.common.formatting import (
    channel_label,
    duration_label,
    practitioner_label,
    when_label,
)
from booking_site.common.labels import is_clear, patient_slot_type


def slot_summary(slot: dict) -> dict:
    """The chosen slot's display fields (as kept in the journey or on a booking), formatted."""
    start = datetime.datetime.fromisoformat(slot["start"])
    end = datetime.datetime.fromisoformat(slot["end"])
    minutes = int((end - start).total_seconds() // 60)
    where = [slot.get("location_name"), slot.get("location_address")]
    return {
        # Follows "at": "Blood test at 8:40am tomorrow, Tuesday 1 December 2026".
        "when": when_label(start),
        "duration": duration_label(minutes),
        "slot_type": patient_slot_type(slot.get("slot_type"), slot.get("schedule_type")),
        # The session's name (e.g. "Duty doctor"), when it says more than the type shown.
        "session": _session(slot),
        "channel": channel_label(slot.get("delivery_channel")),
        "practitioner": practitioner_label(
            slot.get("practitioner", ""),
            slot.get("practitioner_role", ""),
            slot.get("practitioner_gender", ""),
        ),
        "location": ", ".join(part for part in where if part),
        "practice": slot.get("practice_name", ""),
    }


def _session(slot: dict) -> str:
    name = (slot.get("schedule_type") or "").strip()
    shown = patient_slot_type(slot.get("slot_type"), name)
    return name if is_clear(name) and name not in shown else ""


_CANCEL_MESSAGES = {
    gpconnect.TooLateToCancel: (
        "It's too late to cancel this appointment online. Phone the practice to cancel it."
    ),
    gpconnect.CancellationDisabled: (
        "Your practice does not allow appointments to be cancelled online. "
        "Phone the practice to cancel it."
    ),
    gpconnect.CancellationRefused: (
        "The practice could not cancel this appointment online. Phone the practice to cancel it."
    ),
    gpconnect.VersionConflict: (
        "This appointment was changed at the practice since you opened it. "
        "Check the details, then try again."
    ),
}


def cancel_message(error: gpconnect.ProviderError) -> str:
    for kind, message in _CANCEL_MESSAGES.items():
        if isinstance(error, kind):
            return message
    return error.message
