"""Display formatting shared by every page: UK time, times and days in NHS.UK style, delivery
channels, clinicians and the time of day."""

import datetime

# The one definition of UK time the site has (the sandbox, a separate system, has its own).
from booking_site.gpconnect.values import LONDON

CHANNEL_LABELS = {"In-person": "In person", "Telephone": "Phone call", "Video": "Video call"}
GENDER_LABELS = {"female": "Female", "male": "Male"}

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
TIME_OF_DAY = {
    MORNING: "Morning (before 12pm)",
    AFTERNOON: "Afternoon (12pm to 6pm)",
    EVENING: "Evening (after 6pm)",
}


def time_label(moment: datetime.datetime) -> str:
    """9:30am, 12pm, 2:05pm — the NHS.UK style for times."""
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    if local.hour == 12 and local.minute == 0:
        return "12pm (midday)"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def day_label(day: datetime.date) -> str:
    """Monday 30 November 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def date_label(day: datetime.date) -> str:
    """30 November 2026."""
    return f"{day.day} {day:%B %Y}"


def duration_label(minutes: int) -> str:
    return f"{minutes} minutes" if minutes != 1 else "1 minute"


def uk_day(moment: datetime.datetime) -> datetime.date:
    """The day ``moment`` falls on in the UK."""
    return moment.astimezone(LONDON).date()


def time_of_day(moment: datetime.datetime) -> str:
    """Morning before 12:00, afternoon 12:00 to 17:59, evening from 18:00 (UK time)."""
    hour = moment.astimezone(LONDON).hour
    return MORNING if hour < 12 else AFTERNOON if hour < 18 else EVENING


def channel_label(channel: str | None) -> str:
    """How the appointment happens, in words; a slot that does not say: "Ask the practice"."""
    return CHANNEL_LABELS.get(channel, channel) if channel else "Ask the practice"


def practitioner_label(name: str, role: str, gender: str) -> str:
    """Dr Sarah Jones (General Medical Practitioner, female)."""
    extra = ", ".join(part for part in [role, gender] if part)
    if name and extra:
        return f"{name} ({extra})"
    return name or extra
