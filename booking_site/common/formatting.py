"""Display formatting shared by every page: UK time, times and days in NHS.UK style, delivery
channels, clinicians and the time of day."""

import datetime

from django.utils import timezone

# The one definition of UK time the site has (the sandbox, a separate system, has its own).
from booking_site.gpconnect.values import LONDON

CHANNEL_LABELS = {"In-person": "In person", "Telephone": "Phone call", "Video": "Video call"}
GENDER_LABELS = {"female": "Female", "male": "Male"}

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
TIME_OF_DAY = {
    MORNING: "Morning (before midday)",
    AFTERNOON: "Afternoon (midday to 6pm)",
    EVENING: "Evening (from 6pm)",
}


def time_label(moment: datetime.datetime) -> str:
    """9am, 9:30am, midday, 2:05pm, midnight: the NHS content style guide's times (never
    "12pm", which readers take for midnight as often as midday)."""
    local = moment.astimezone(LONDON)
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "midday"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def day_label(day: datetime.date) -> str:
    """Monday 30 November 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def uk_today() -> datetime.date:
    """Today in the UK."""
    return timezone.now().astimezone(LONDON).date()


def relative_day_label(day: datetime.date, today: datetime.date | None = None) -> str:
    """A day as a heading: "Today, Monday 30 November 2026", "Tomorrow, Tuesday 1 December
    2026", else "Wednesday 2 December 2026"."""
    relative = _relative_day(day, today)
    return f"{relative.capitalize()}, {day_label(day)}" if relative else day_label(day)


def when_label(moment: datetime.datetime, today: datetime.date | None = None) -> str:
    """A time and its day, ready to follow "at": "9am today, Monday 30 November 2026",
    "8:40am tomorrow, Tuesday 1 December 2026", else "midday on Wednesday 2 December 2026"."""
    day = uk_day(moment)
    relative = _relative_day(day, today)
    joiner = f" {relative}, " if relative else " on "
    return f"{time_label(moment)}{joiner}{day_label(day)}"


def _relative_day(day: datetime.date, today: datetime.date | None) -> str:
    today = today or uk_today()
    return {today: "today", today + datetime.timedelta(days=1): "tomorrow"}.get(day, "")


def date_label(day: datetime.date) -> str:
    """30 November 2026."""
    return f"{day.day} {day:%B %Y}"


def date_range_label(start: datetime.date, end: datetime.date) -> str:
    """A range of days ready to follow a noun: "from 26 December 2026 to 2 January 2027", or
    a single day said once, "on 26 December 2026"."""
    if start == end:
        return f"on {date_label(start)}"
    return f"from {date_label(start)} to {date_label(end)}"


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
