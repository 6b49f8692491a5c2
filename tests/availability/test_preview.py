"""The preview page: the question and its validation, each practice's status, the grid of free
slots by day and time of day, the practice-by-practice (htmx) version and the links it offers."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from booking_site import gpconnect
from booking_site.availability import presenters, services
from booking_site.availability.forms import week_choices
from booking_site.availability.models import StaffSearch
from tests.availability.conftest import at, next_monday, next_week_query
from tests.html import error_summary_links

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/staff/availability/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def text_of(html: str) -> str:
    """The page's words, without tags, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def dates_query(start: datetime.date | None, end: datetime.date | None, **more) -> dict:
    query = {"who": "chosen", "practices": ["A20047"], "week": "dates", **more}
    for name, day in (("start", start), ("end", end)):
        query[f"{name}_day"] = day.day if day else ""
        query[f"{name}_month"] = day.month if day else ""
        query[f"{name}_year"] = day.year if day else ""
    return query


# --- The question ------------------------------------------------------------------------------


def test_the_page_asks_which_practices_and_which_week_without_errors_at_first(world):
    response = world.client_for(world.staff).get(PAGE)
    html = response.content.decode()

    assert response.status_code == 200
    assert "<title>Preview appointment availability - " in html
    assert 'method="get"' in html
    assert "novalidate" in html
    assert "Every practice in North Riverside GP Federation" in html
    assert "Practices I choose" in html
    assert "Riverside Medical Practice" in html
    assert "Kirkstall Lane Surgery" in html
    assert "Hillcrest Surgery" not in html
    assert "Dates I choose" in html
    assert error_summary_links(html) == []
    assert "Results" not in text_of(html)


def test_weeks_run_monday_to_sunday_from_this_week_to_8_weeks_ahead():
    today = datetime.date(2026, 11, 25)  # a Wednesday

    choices = week_choices(today)

    assert len(choices) == 9
    assert choices[0] == ("2026-11-23", "This week (today to Sunday 29 November 2026)")
    assert choices[1] == ("2026-11-30", "Monday 30 November to Sunday 6 December 2026")
    assert choices[-1][0] == "2027-01-18"
    assert all(datetime.date.fromisoformat(value).weekday() == 0 for value, _ in choices)


def test_nothing_chosen_is_explained_in_the_error_summary_linked_to_each_question(world):
    response = world.client_for(world.staff).get(PAGE, {"js": ""})
    html = response.content.decode()

    assert response.status_code == 200
    assert "<title>Error: Preview appointment availability - " in html
    assert error_summary_links(html) == [
        ("id_who", "Select which practices to check"),
        ("id_week", "Select a week, or choose dates"),
    ]
    assert not StaffSearch.objects.exists()


def test_choosing_practices_means_choosing_at_least_one(world):
    query = {"who": "chosen", "week": next_monday().isoformat()}

    html = world.client_for(world.staff).get(PAGE, query).content.decode()

    assert error_summary_links(html) == [("id_practices", "Select at least one practice")]


def test_a_week_must_be_one_of_those_offered(world):
    query = {**next_week_query("A20047"), "week": "2020-01-06"}

    html = world.client_for(world.staff).get(PAGE, query).content.decode()

    assert error_summary_links(html) == [
        ("id_week", "Select a week from the list, or choose dates"),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            None,
            None,
            [("id_start_day", "Enter the start date"), ("id_end_day", "Enter the end date")],
        ),
        (-1, 3, [("id_start_day", "The start date must be today or in the future")]),
        (3, 57, [("id_end_day", "The end date must be no more than 8 weeks from today")]),
        (57, 58, None),
        (5, 4, [("id_end_day", "The end date must be the same as or after the start date")]),
    ],
    ids=["missing", "past", "too-far", "start-too-far", "backwards"],
)
def test_chosen_dates_are_checked_with_messages_in_nhs_voice(world, start, end, expected):
    today = timezone.localdate()

    def day(offset):
        return None if offset is None else today + datetime.timedelta(days=offset)

    html = world.client_for(world.staff).get(PAGE, dates_query(day(start), day(end))).content
    links = error_summary_links(html.decode())

    if expected is None:
        assert links == [
            ("id_start_day", "The start date must be no more than 8 weeks from today"),
            ("id_end_day", "The end date must be no more than 8 weeks from today"),
        ]
    else:
        assert links == expected


def test_a_date_that_is_not_real_says_so(world):
    query = dates_query(None, timezone.localdate())
    query.update(start_day="31", start_month="2", start_year="2027")

    html = world.client_for(world.staff).get(PAGE, query).content.decode()

    assert error_summary_links(html) == [("id_start_day", "The start date must be a real date")]


def test_chosen_dates_up_to_8_weeks_ahead_are_previewed(world):
    today = timezone.localdate()
    world.slots("A20047", at(today + datetime.timedelta(days=50), 9), 2)

    query = dates_query(today, today + datetime.timedelta(weeks=8))
    response = world.client_for(world.staff).get(PAGE, query)

    assert error_summary_links(response.content.decode()) == []
    assert "Free slots 2" in text_of(response.content.decode())


# --- Results -----------------------------------------------------------------------------------


def test_each_practice_says_whether_it_answered_with_its_response_time(world):
    world.add_practice("B86044", "Meanwood Group Practice", always_empty=True)
    world.add_practice("B86128", "Headingley Park Surgery", unavailable=True)
    world.slots("A20047", at(next_monday(), 9), 3)
    query = {"who": f"federation-{world.federation.pk}", "week": next_monday().isoformat()}

    html = world.client_for(world.staff).get(PAGE, query).content.decode()
    words = text_of(html)

    assert "Free slots at 4 practices from Monday" in words
    riverside = words.split("Riverside Medical Practice (A20047)")[1].strip()
    assert riverside.startswith("Status Answered Response time")
    assert "Free slots 3" in riverside
    meanwood = words.split("Meanwood Group Practice (B86044)")[1].strip()
    assert meanwood.startswith("Status No free slots Response time")
    headingley = words.split("Headingley Park Surgery (B86128)")[1].strip()
    assert re.match(r"Status Could not be checked \S.+ Response time", headingley)
    assert "Free slots" not in headingley.split("(B86")[0]
    # Response times are in seconds
    assert re.search(r"Response time (under 0\.1|\d+\.\d) seconds", riverside)


def test_the_grid_counts_free_slots_by_day_time_of_day_and_delivery_channel(world):
    monday = next_monday()
    wednesday = monday + datetime.timedelta(days=2)
    world.slots("A20047", at(monday, 9), 3)  # morning, in person
    world.slots("A20047", at(monday, 11, 50), 1, delivery_channel="Telephone")  # morning
    world.slots("A20047", at(monday, 12), 2, delivery_channel="Video")  # afternoon
    world.slots("A20047", at(monday, 17, 50), 1)  # afternoon: 17:59 is still afternoon
    world.slots("A20047", at(monday, 18), 2, delivery_channel="Telephone")  # evening
    world.slots("A20047", at(wednesday, 14), 1, delivery_channel="")  # no channel
    user = world.staff
    dates = gpconnect.DateRange(monday, monday + datetime.timedelta(days=6))

    _, [preview] = async_to_sync(services.preview)(
        user, services.require_practices(user, ["A20047"]), dates, kind="preview"
    )
    view = presenters.PracticeView.of(preview, dates)

    assert [row.day for row in view.days] == [dates.start + datetime.timedelta(n) for n in range(7)]
    grid = {
        (row.day.strftime("%a"), cell.period): (cell.total, dict(cell.channels))
        for row in view.days
        for cell in row.cells
        if cell.total
    }
    assert grid == {
        ("Mon", "morning"): (4, {"In person": 3, "Phone call": 1}),
        ("Mon", "afternoon"): (3, {"Video call": 2, "In person": 1}),
        ("Mon", "evening"): (2, {"Phone call": 2}),
        ("Wed", "afternoon"): (1, {"No delivery channel": 1}),
    }
    assert view.total == 10
    assert view.flagged == 1


def test_the_grid_is_a_table_with_a_caption_and_headers_and_cells_open_to_their_slots(world):
    world.slots("A20047", at(next_monday(), 9), 2)

    html = world.client_for(world.staff).get(PAGE, next_week_query("A20047")).content.decode()
    squashed = " ".join(html.split())

    caption = "Free slots at Riverside Medical Practice by day and time of day"
    assert re.search(rf"<caption[^>]*> {caption} </caption>", squashed)
    assert re.search(r'<th [^>]*scope="col"[^>]*> Morning \(before midday\) </th>', squashed)
    assert re.search(r'<th [^>]*scope="row"[^>]*> Monday', squashed)
    # A cell opens (NHS.UK details: no JavaScript needed) to its slots with every display field
    cell = html.split('<details class="nhsuk-details app-cell-slots')[1].split("</details>")[0]
    assert "Show slots" in cell
    assert "on " + presenters.day_label(next_monday()) + ", morning" in cell
    words = text_of(cell)
    for shown in (
        "9am to 9:10am (10 minutes)",
        "Slot type General appointment",
        "Schedule type Morning surgery",
        "Delivery channel In person",
        "Clinician Dr Ann Jones",
        "Gender Female",
        "Job role General Medical Practitioner (R0260)",
        "Location Main Surgery",
        "Address 1 Surgery Lane, Riverside, RS1 1AA",
        "Phone 01632 960101",
    ):
        assert shown in words, shown


def test_label_problems_are_counted_and_listed_by_slot_type_on_the_page(world):
    unlabelled = world.schedule("A20047", with_practitioner=False)
    world.slots("A20047", at(next_monday(), 9), 2, schedule=unlabelled, service_type="Slot 1")
    world.slots("A20047", at(next_monday(), 10), 1)

    words = text_of(
        world.client_for(world.staff).get(PAGE, next_week_query("A20047")).content.decode()
    )

    assert "Slots with label problems 2" in words
    assert "Slot types patients may not understand at Riverside Medical Practice" in words
    assert "Slot 1 2 Uses internal wording (“Slot 1”) (2 slots)" in words
    assert "Label problems: Uses internal wording (“Slot 1”)" in words


def test_what_a_practice_sends_is_shown_as_text_never_as_markup(world):
    world.slots("A20047", at(next_monday(), 9), 1, service_type="<b>Slot 1</b>")

    html = world.client_for(world.staff).get(PAGE, next_week_query("A20047")).content.decode()

    assert "<b>Slot 1</b>" not in html
    assert "&lt;b&gt;Slot 1&lt;/b&gt;" in html


# --- Practice by practice, with htmx -----------------------------------------------------------


def test_with_javascript_each_practice_loads_on_its_own_into_a_live_region(world):
    world.slots("A20047", at(next_monday(), 9), 2)
    client = world.client_for(world.staff)
    query = {**next_week_query("A20047", "B86019"), "js": "1"}

    # Given the page, asked for by a browser that runs JavaScript
    page = client.get(PAGE, query).content.decode()

    # Then nobody has been asked yet: each practice's section will ask for itself
    search = StaffSearch.objects.get()
    assert search.kind == StaffSearch.Kind.PROGRESSIVE
    assert not search.outcomes.exists()
    assert '<p id="preview-announcer" class="nhsuk-body-s" aria-live="polite">' in page
    fragments = re.findall(r'hx-get="([^"]+)" hx-trigger="load" hx-swap="outerHTML"', page)
    assert len(fragments) == 2
    assert fragments[0].startswith("/staff/availability/practice/A20047/?")
    assert f"search={search.reference}" in fragments[0]
    assert "js=" not in fragments[0]
    assert "<noscript>" in page

    # When the first section asks for itself
    fragment = client.get(fragments[0].replace("&amp;", "&"), **HTMX).content.decode()

    # Then it comes back with its results, and its outcome for the live region
    assert fragment.lstrip().startswith('<section id="practice-A20047"')
    assert "hx-get" not in fragment.split(">", 1)[0]
    assert "Free slots 2" in text_of(fragment)
    assert (
        '<p id="preview-latest" hx-swap-oob="innerHTML">'
        "Riverside Medical Practice: 2 free slots.</p>" in fragment
    )
    # And its outcome joins the page's recorded search
    [outcome] = search.outcomes.all()
    assert (outcome.practice_ods, outcome.slot_count) == ("A20047", 2)
    assert StaffSearch.objects.count() == 1


def test_a_fragment_with_someone_elses_search_reference_starts_its_own(world):
    client = world.client_for(world.staff)
    theirs = services.start_search(
        world.staff,
        services.require_practices(world.staff, ["A20047"]),
        gpconnect.DateRange(next_monday(), next_monday() + datetime.timedelta(days=6)),
        kind=StaffSearch.Kind.PROGRESSIVE,
    )
    theirs.user = world.superuser
    theirs.save()

    client.get(
        "/staff/availability/practice/A20047/",
        {**next_week_query("A20047"), "search": str(theirs.reference)},
        **HTMX,
    )

    assert not theirs.outcomes.exists()
    mine = StaffSearch.objects.get(user=world.staff)
    assert mine.kind == StaffSearch.Kind.PRACTICE
    assert mine.outcomes.get().practice_ods == "A20047"


def test_without_htmx_a_fragment_address_shows_the_whole_preview(world):
    query = next_week_query("A20047")

    response = world.client_for(world.staff).get("/staff/availability/practice/A20047/", query)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == PAGE
    assert parse_qs(target.query) == {
        "who": ["chosen"],
        "practices": ["A20047"],
        "week": [next_monday().isoformat()],
    }
    assert not StaffSearch.objects.exists()


# --- Links -------------------------------------------------------------------------------------


def test_see_what_patients_see_links_to_the_same_practices_and_dates():
    practices = [
        type("P", (), {"ods_code": "A20047"})(),
        type("P", (), {"ods_code": "B86019"})(),
    ]
    dates = gpconnect.DateRange(datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))

    query = presenters.patient_view_query(practices, dates)

    assert query == "practices=A20047&practices=B86019&start=2026-11-30&end=2026-12-06"


def test_the_page_links_to_its_export_and_is_itself_a_bookmarkable_address(world):
    query = next_week_query("A20047")
    client = world.client_for(world.staff)

    html = client.get(PAGE, {**query, "js": ""}).content.decode()

    export = re.search(r'href="(/staff/availability/free-slots\.csv\?[^"]+)"', html).group(1)
    assert parse_qs(urlsplit(export.replace("&amp;", "&")).query) == {
        "who": ["chosen"],
        "practices": ["A20047"],
        "week": [next_monday().isoformat()],
    }
    # The same question asked again gives the same results (the address is the whole question;
    # only the response times differ, the second answer being reused from the slot cache)
    again = client.get(PAGE, query).content.decode()

    def results(page: str) -> str:
        return re.sub(
            r"Response time .+? seconds( \(.+?\))?", "", text_of(page).split("Results")[1]
        )

    assert results(again) == results(html)
    assert "(a recent answer, reused)" in text_of(again)


def test_a_half_typed_date_under_a_week_chosen_does_not_block_it_and_is_kept(world):
    query = next_week_query("A20047") | {"start_day": "5", "start_month": "", "start_year": ""}

    html = world.client_for(world.staff).get(PAGE, query).content.decode()

    assert error_summary_links(html) == []
    assert "Free slots at 1 practice" in text_of(html)
    assert re.search(r'id="id_start_day"[^>]*value="5"|value="5"[^>]*id="id_start_day"', html)


def test_chosen_dates_accept_month_names_and_report_every_error_at_once(world):
    today = timezone.localdate()
    named = dates_query(today, today + datetime.timedelta(days=3))
    named.update(start_month=f"{today:%b}".lower(), end_month=f"{today:%B}")
    broken = dates_query(None, None)
    broken.update(start_day="5", start_month="13", start_year="2027", end_year="27")
    client = world.client_for(world.staff)

    accepted = client.get(PAGE, named).content.decode()
    refused = client.get(PAGE, broken).content.decode()

    assert error_summary_links(accepted) == []
    assert error_summary_links(refused) == [
        ("id_start_month", "The start date must be a real date"),
        ("id_end_day", "The end date must include a day and month"),
        ("id_end_year", "The year of the end date must include 4 numbers"),
    ]
