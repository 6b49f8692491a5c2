"""An "add to calendar" file for a booked appointment."""

from django.utils import timezone
from icalendar import Calendar, Event

from booking_site.booking.services.appointments import Shown
from booking_site.common.formatting import LONDON


def appointment_ics(shown: Shown, *, host: str, cancel_online: bool) -> bytes:
    """An iCalendar (RFC 5545) file with one event, in Europe/London time.

    ``cancel_online`` is whether the site can still offer to cancel it: once the practice has
    refused, the file says to phone instead.
    """
    details = shown.details
    practice = shown.practice
    calendar = Calendar()
    calendar.add("prodid", "-//NHS//Book a GP appointment//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{practice.ods_code}-{shown.appointment_id}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", shown.start.astimezone(LONDON))
    event.add("dtend", shown.end.astimezone(LONDON))
    title = details.get("slot_type") or "GP appointment"
    event.add("summary", f"{title} at {practice.name}")
    channel = details.get("delivery_channel") or ""
    where = ", ".join(
        part for part in [details.get("location_name"), details.get("location_address")] if part
    )
    if channel == "Telephone":
        event.add("location", "Telephone appointment: the practice will call you")
    elif channel == "Video":
        event.add("location", "Video appointment: the practice will send you a link")
    elif where:
        event.add("location", where)
    if cancel_online:
        how_to_cancel = "To cancel, use Book a GP appointment or phone the practice."
    else:
        how_to_cancel = "To cancel or change it, phone the practice."
    lines = [
        f"Practice: {practice.name}",
        f"Practice phone: {practice.phone}" if practice.phone else "",
        f"Session: {details['schedule_type']}" if details.get("schedule_type") else "",
        f"With: {details['practitioner']}" if details.get("practitioner") else "",
        f"Reference: {shown.appointment_id}",
        "" if shown.is_called_off else how_to_cancel,
    ]
    event.add("description", "\n".join(line for line in lines if line))
    event.add("status", "CANCELLED" if shown.is_called_off else "CONFIRMED")
    calendar.add_component(event)
    # A VTIMEZONE for Europe/London, so calendars place the time right in BST and GMT.
    calendar.add_missing_timezones()
    return calendar.to_ical()
