"""The CSV export of the slots in a preview."""

import csv
import datetime
import io

import pytest

from booking_site.availability import export
from booking_site.availability.models import StaffSearch
from tests.availability.conftest import at, next_monday, next_week_query

pytestmark = pytest.mark.django_db(transaction=True)

EXPORT = "/staff/availability/free-slots.csv"
HEADER = [
    "Practice ODS code",
    "Practice name",
    "Date",
    "Start",
    "End",
    "Duration (minutes)",
    "Slot type",
    "Schedule type",
    "Delivery channel",
    "Practitioner name",
    "Practitioner gender",
    "Practitioner role code",
    "Practitioner role name",
    "Location name",
    "Location address",
    "Label problems",
]


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))


def test_the_export_is_a_download_of_every_free_slot_with_its_display_fields(world):
    monday = next_monday()
    world.slots("A20047", at(monday, 9), 2)
    nameless = world.schedule("B86019", with_practitioner=False, service_category="")
    world.slots("B86019", at(monday, 18, 30), 1, schedule=nameless, delivery_channel="")

    response = world.client_for(world.staff).get(EXPORT, next_week_query("A20047", "B86019"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    sunday = monday + datetime.timedelta(days=6)
    assert response["Content-Disposition"] == (
        f'attachment; filename="free-slots-{monday.isoformat()}-to-{sunday.isoformat()}.csv"'
    )
    rows = read_csv(response)
    assert list(rows[0]) == HEADER
    assert [(row["Practice ODS code"], row["Start"]) for row in rows] == [
        ("A20047", "09:00"),
        ("A20047", "09:10"),
        ("B86019", "18:30"),
    ]
    assert rows[0] == {
        "Practice ODS code": "A20047",
        "Practice name": "Riverside Medical Practice",
        "Date": monday.isoformat(),
        "Start": "09:00",
        "End": "09:10",
        "Duration (minutes)": "10",
        "Slot type": "General appointment",
        "Schedule type": "Morning surgery",
        "Delivery channel": "In-person",
        "Practitioner name": "Dr Ann Jones",
        "Practitioner gender": "female",
        "Practitioner role code": "R0260",
        "Practitioner role name": "General Medical Practitioner",
        "Location name": "Main Surgery",
        "Location address": "1 Surgery Lane, Riverside, RS1 1AA",
        "Label problems": "",
    }
    assert rows[2]["Practitioner name"] == rows[2]["Practitioner role code"] == ""
    assert rows[2]["Delivery channel"] == rows[2]["Schedule type"] == ""
    assert rows[2]["Label problems"] == (
        "No delivery channel, so patients cannot tell if it is in person, by phone or by video"
    )
    # The export is a staff search too, and is recorded
    search = StaffSearch.objects.get()
    assert search.kind == StaffSearch.Kind.EXPORT
    assert search.practices == ["A20047", "B86019"]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text(world):
    for minute, name in enumerate(['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "Fine"]):
        world.slots("A20047", at(next_monday(), 9, minute * 10), 1, service_type=name)

    rows = read_csv(world.client_for(world.staff).get(EXPORT, next_week_query("A20047")))

    assert [row["Slot type"] for row in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "Fine",
    ]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+44 113", "'+44 113"),
        ("-2", "'-2"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (10, "10"),
        (None, ""),
    ],
)
def test_safe_cell(value, safe):
    assert export.safe_cell(value) == safe


def test_an_export_of_an_invalid_question_goes_back_to_the_page_to_show_what_is_wrong(world):
    response = world.client_for(world.staff).get(EXPORT, {"who": "chosen"})

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/availability/?")
    assert not StaffSearch.objects.exists()


def test_the_columns_are_documented_in_the_module_and_on_the_page(world):
    html = world.client_for(world.staff).get("/staff/availability/", next_week_query("A20047"))

    assert [name for name, _ in export.COLUMNS] == HEADER
    for name in HEADER:
        assert name in export.__doc__
        assert name in html.content.decode()
