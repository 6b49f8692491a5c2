"""An "add to calendar" file for a booked appointment."""

from django.utils import timezone
from icalendar import Calendar, Event

from booking_site.booking.models import Booking
from booking_site.common.formatting import LONDON


def appointment_ics(booking: Booking, *, host: str) -> bytes:
    """An iCalendar (RFC 5545) file with one event, in Europe/London time."""
    details = booking.details
    calendar = Calendar()
    calendar.add("prodid", "-//NHS//Book a GP appointment//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.practice.ods_code}-{booking.appointment_id}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.start.astimezone(LONDON))
    event.add("dtend", booking.end.astimezone(LONDON))
    title = details.get("slot_type") or "GP appointment"
    event.add("summary", f"{title} at {booking.practice.name}")
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
    lines = [
        f"Practice: {booking.practice.name}",
        f"Practice phone: {booking.practice.phone}" if booking.practice.phone else "",
        f"With: {details['practitioner']}" if details.get("practitioner") else "",
        f"Reference: {booking.appointment_id}",
        "To cancel, use Book a GP appointment or phone the practice.",
    ]
    event.add("description", "\n".join(line for line in lines if line))
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    # A VTIMEZONE for Europe/London, so calendars place the time right in BST and GMT.
    calendar.add_missing_timezones()
    return calendar.to_ical()
