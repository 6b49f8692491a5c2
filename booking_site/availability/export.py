"""The preview's free slots as a CSV file: one row per free slot, practices in the order chosen,
slots earliest first. Practices that could not be checked, or had no free slots, have no rows
(the preview page says which they were).

Columns (the preview page lists the same):

    Practice ODS code       the practice's ODS code, e.g. A20047
    Practice name           as in the site's practice directory
    Date                    the slot's date, YYYY-MM-DD (UK time)
    Start                   start time, HH:MM (24-hour, UK time)
    End                     end time, HH:MM
    Duration (minutes)      whole minutes
    Slot type               the practice's name for the slot (Slot.serviceType), may be empty
    Schedule type           the session or rota name (Schedule.serviceCategory), may be empty
    Delivery channel        In-person, Telephone or Video as the practice sends it; empty if none
    Practitioner name       the clinician on the schedule; empty if none is named
    Practitioner gender     female, male, other or unknown as sent; empty if not given
    Practitioner role code  SDS job role code, e.g. R0260; empty if not given
    Practitioner role name  SDS job role name, e.g. General Medical Practitioner
    Location name           the surgery the appointment is at
    Location address        its address, lines joined with ", "
    Label problems          why a patient might not understand the slot, joined with "; "

A cell that starts with =, +, -, @, a tab or a carriage return is prefixed with a single quote,
so a spreadsheet shows it as text instead of running it as a formula (CSV injection).
"""

import csv
import datetime
from collections.abc import Iterator, Sequence
from typing import TextIO

from booking_site import gpconnect
from booking_site.availability.services import PracticePreview
from booking_site.common.formatting import LONDON

COLUMNS = (
    ("Practice ODS code", "The practice's ODS code"),
    ("Practice name", "As in the site's practice directory"),
    ("Date", "The slot's date, as YYYY-MM-DD"),
    ("Start", "Start time, 24-hour clock (UK time)"),
    ("End", "End time, 24-hour clock (UK time)"),
    ("Duration (minutes)", "Length in whole minutes"),
    ("Slot type", "The practice's name for the slot; empty if it has none"),
    ("Schedule type", "The session or rota name; empty if it has none"),
    ("Delivery channel", "In-person, Telephone or Video; empty if not given"),
    ("Practitioner name", "The clinician on the schedule; empty if none is named"),
    ("Practitioner gender", "As the practice sends it; empty if not given"),
    ("Practitioner role code", "SDS job role code, for example R0260"),
    ("Practitioner role name", "SDS job role name, for example General Medical Practitioner"),
    ("Location name", "The surgery the appointment is at"),
    ("Location address", "Its address, lines joined with commas"),
    ("Label problems", "Why a patient might not understand the slot, joined with semicolons"),
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def filename(dates: gpconnect.DateRange) -> str:
    return f"free-slots-{dates.start.isoformat()}-to-{dates.end.isoformat()}.csv"


def rows(previews: Sequence[PracticePreview]) -> Iterator[list[str]]:
    """The header, then one row per free slot."""
    yield [name for name, _ in COLUMNS]
    for preview in previews:
        for slot in preview.slots:
            yield [safe_cell(value) for value in _row(preview, slot)]


def write(previews: Sequence[PracticePreview], out: TextIO) -> None:
    csv.writer(out).writerows(rows(previews))


def _row(preview: PracticePreview, slot: gpconnect.FreeSlot) -> list[object]:
    start = slot.start.astimezone(LONDON)
    end = slot.end.astimezone(LONDON)
    clinician = slot.practitioner
    role = slot.role or (clinician.role if clinician else None)
    return [
        preview.practice.ods_code,
        preview.practice.name,
        start.date().isoformat(),
        _clock(start),
        _clock(end),
        int(slot.duration.total_seconds() // 60),
        slot.slot_type or "",
        slot.schedule_type or "",
        slot.delivery_channel or "",
        (clinician.name or "") if clinician else "",
        (clinician.gender or "") if clinician else "",
        role.code if role else "",
        role.display if role else "",
        slot.location.name or "",
        ", ".join(slot.location.address),
        "; ".join(problem.message for problem in preview.labels.problems(slot)),
    ]


def _clock(moment: datetime.datetime) -> str:
    return f"{moment:%H:%M}"
