"""The patient journey in a real browser: find, book, confirm, view and cancel a GP appointment.

The site reaches the provider sandbox over real HTTP at the server's own address, as it
would reach a practice. Every page and state reached is checked with axe.
"""

import datetime
import json
import re
import time

import pytest
from django.conf import settings as site_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from booking_site.booking.models import Booking
from booking_site.practices.models import Federation
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import appointments as sandbox_appointments
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Appointment as SandboxAppointment
from gp_sandbox.models import Practice as SandboxPractice
from gp_sandbox.validation import parse_new_appointment
from tests.browser.helpers import BrowserProblems, KeyboardUser, assert_no_axe_violations
from tests.factories import make_patient
from tests.serving import SiteServer

pytestmark = pytest.mark.django_db(transaction=True)

HOME = "A20047"
HOME_NAME = "Riverside Medical Practice"
SERVICE = " - Book a GP appointment - NHS"


class Surgeries:
    """Sandbox practices, the site's directory entries for them (one federation) and patients
    registered at the first of them."""

    def __init__(self, site_url: str) -> None:
        self.site_url = site_url
        self.federation = Federation.objects.create(name="North Riverside GP Federation")
        self.add(HOME, HOME_NAME)
        home = SandboxPractice.objects.get(ods_code=HOME)
        amelia = sandbox.make_patient(home, sandbox.PATIENT_NHS_NUMBER)
        sandbox.make_patient(home, sandbox.OTHER_NHS_NUMBER)
        site_home = SitePractice.objects.get(ods_code=HOME)
        # Their NHS login identities at the sandbox's stand-in, and their site accounts as
        # signing in with it leaves them (the journeys that sign in through the page use these)
        self.identity = sandbox.make_identity(amelia)
        self.patient = make_patient(
            nhs_number=sandbox.PATIENT_NHS_NUMBER,
            practice=site_home,
            sandbox_url=f"{site_url}/sandbox",
        )
        self.other_patient = make_patient(
            nhs_number=sandbox.OTHER_NHS_NUMBER,
            practice=site_home,
            sandbox_url=f"{site_url}/sandbox",
        )

    def add(self, ods: str, name: str, **switches) -> None:
        sandbox.make_practice(ods, name=name, **switches)
        SitePractice.objects.create(
            ods_code=ods,
            name=name,
            federation=self.federation,
            base_url=f"{self.site_url}/sandbox/{ods}/FHIR/STU3/",
            phone="01632 960100",
            address="1 Surgery Lane, Riverside",
        )

    def slots(self, ods: str, start: datetime.datetime, count: int = 1, **fields) -> None:
        practice = SandboxPractice.objects.get(ods_code=ods)
        sandbox.make_slots(sandbox.make_schedule(practice), start, count, **fields)

    def switch(self, ods: str, **switches) -> None:
        SandboxPractice.objects.filter(ods_code=ods).update(**switches)


@pytest.fixture
def surgeries(site: SiteServer) -> Surgeries:
    return Surgeries(site.url)


def day_ahead(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return sandbox.uk(f"{day.isoformat()} {hour:02d}:{minute:02d}")


def tomorrow_at(hour: int, minute: int = 0) -> datetime.datetime:
    return day_ahead(1, hour, minute)


def sign_in_as(context: BrowserContext, patient, site: SiteServer) -> None:
    """Give the browser the session cookie of a signed-in patient (signing in through the page
    is covered by the first journey)."""
    client = Client()
    client.force_login(patient, backend="django.contrib.auth.backends.ModelBackend")
    name = site_settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": site.url}])


@pytest.fixture
def signed_in_page(page: Page, surgeries: Surgeries, site: SiteServer) -> Page:
    """A page with JavaScript on, signed in as the patient registered at the home practice."""
    sign_in_as(page.context, surgeries.patient, site)
    return page


@pytest.fixture
def signed_in_no_js_page(no_js_page: Page, surgeries: Surgeries, site: SiteServer) -> Page:
    """A page with JavaScript off, signed in as the patient registered at the home practice."""
    sign_in_as(no_js_page.context, surgeries.patient, site)
    return no_js_page


# --- Steps (mouse and typing), each checking the page it arrives on -----------------------------


def expect_page(page: Page, title: str, *, axe: bool = True) -> None:
    """The page has this title and axe finds nothing wrong with it; `axe=False` only for a page
    the same test has already checked in the same state."""
    expect(page).to_have_title(title + SERVICE)
    if axe:
        assert_no_axe_violations(page)


def start_booking(page: Page, *, axe: bool = True) -> None:
    page.goto("/")
    page.get_by_role("link", name="Book an appointment").click()
    expect_page(page, "Where would you like an appointment?", axe=axe)


def choose_where(page: Page, option: str | re.Pattern, *, axe: bool = True) -> None:
    page.get_by_role("radio", name=option).check()
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "When would you like an appointment?", axe=axe)


def choose_when(page: Page, option: str = "In the next 7 days", *, title: str = "Choose a time"):
    page.get_by_role("radio", name=option).check()
    page.get_by_role("button", name="Find appointments").click()
    expect(page).to_have_title(title + SERVICE)


def practice_line(page: Page, ods: str):
    return page.locator(f"#practice-status-{ods}")


def search_my_practice(page: Page, *, title: str = "Choose a time", axe: bool = True) -> None:
    start_booking(page, axe=axe)
    choose_where(page, f"My practice: {HOME_NAME}", axe=axe)
    choose_when(page, title=title)


def choose_link(page: Page, time: str):
    return page.get_by_role("link", name=re.compile(rf"^Choose {re.escape(time)} "))


def give_details(page: Page, reason: str, *, axe: bool = True) -> None:
    expect_page(page, "Tell the practice about your appointment", axe=axe)
    # The chosen time is shown back as text, not as escaped markup
    expect(page.locator(".nhsuk-inset-text")).not_to_contain_text("<")
    page.get_by_label("What is the appointment for?").fill(reason)
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Check your answers before booking", axe=axe)


def book(page: Page) -> None:
    page.get_by_role("button", name="Book appointment").click()


def main(page: Page):
    return page.locator("main")


def cancel_appointment(page: Page, reason: str) -> None:
    page.get_by_role("button", name="Cancel this appointment").click()
    expect_page(page, "Why are you cancelling?")
    page.get_by_label("Why are you cancelling?").fill(reason)
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Are you sure you want to cancel this appointment?")
    page.get_by_role("button", name="Yes, cancel it").click()


# --- 1 and 2: the whole journey, with and without JavaScript ------------------------------------


def sign_in(page: Page, identity) -> None:
    """Through NHS login: the site's sign-in page, the sandbox's stand-in, and back."""
    page.goto("/")
    page.get_by_role("link", name="sign in with NHS login").click()
    expect_page(page, "Sign in")
    page.get_by_role("button", name="Continue to NHS login").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sandbox NHS login: choose who signs in"
    )
    assert_no_axe_violations(page)
    page.locator(f"input[value='{identity.sub}']").check()
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Book a GP appointment online")


def book_view_and_cancel(page: Page, surgeries: Surgeries) -> str:
    """The whole journey; returns the results page's URL as the last search left it."""
    # Given a patient whose practice has three free times tomorrow
    surgeries.slots(HOME, tomorrow_at(9), 3)

    # When they sign in and look for an appointment at their practice in the next 7 days
    sign_in(page, surgeries.identity)
    search_my_practice(page)

    # Then the practice's line says what it found, and its times are listed
    expect(practice_line(page, HOME)).to_contain_text("3 appointments")
    expect(page.locator("#search-progress")).to_have_text(
        "1 of 1 practices checked. 3 appointments found"
    )
    expect(choose_link(page, "9am")).to_be_visible()
    assert_no_axe_violations(page)

    # When they choose 9am, say what it is for and book it
    choose_link(page, "9am").click()
    give_details(page, "Sore knee")
    expect(main(page)).to_contain_text("Sore knee")
    book(page)

    # Then the confirmation panel shows the practice's own reference
    expect_page(page, "Appointment booked")
    appointment = SandboxAppointment.objects.get()
    panel = page.locator(".nhsuk-panel")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Appointment booked")
    expect(panel).to_contain_text(f"Your reference: {appointment.pk}")

    # When they go to their appointments
    main(page).get_by_role("link", name="Your appointments").click()

    # Then it is listed, and they can open it
    expect_page(page, "Your appointments")
    booked = main(page).get_by_role("link", name=re.compile(r"^9am "))
    expect(booked).to_have_count(1)
    booked.click()
    expect(page).to_have_title(re.compile(r"^Appointment at 9am "))
    expect(main(page).locator(".nhsuk-tag")).to_have_text("Booked")
    assert_no_axe_violations(page)

    # When they cancel it, giving a reason, and confirm on the interruption page
    cancel_appointment(page, "Feeling better")

    # Then it shows as cancelled, with their reason
    expect(page).to_have_title(re.compile(r"^Appointment at 9am "))
    expect(main(page).locator(".nhsuk-tag")).to_have_text("Cancelled")
    expect(main(page)).to_contain_text("This appointment has been cancelled.")
    expect(main(page)).to_contain_text("Feeling better")
    expect(page.get_by_role("button", name="Cancel this appointment")).to_have_count(0)
    assert_no_axe_violations(page)
    assert Booking.objects.get().status == Booking.Status.CANCELLED

    # And the time can be booked again (the question pages were checked on the way in)
    search_my_practice(page, axe=False)
    expect(practice_line(page, HOME)).to_contain_text("3 appointments")
    expect(choose_link(page, "9am")).to_be_visible()
    assert_no_axe_violations(page)
    results_url = page.url

    # When they sign out from the header and confirm
    page.get_by_role("link", name="Sign out").click()
    expect_page(page, "Sign out")
    main(page).get_by_role("button", name="Sign out").click()

    # Then they are signed out, and the journey asks them to sign in again
    expect_page(page, "You have signed out")
    page.goto("/appointments/")
    expect_page(page, "Sign in")
    return results_url


def test_a_patient_books_views_and_cancels_an_appointment_with_javascript(
    page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    results_url = book_view_and_cancel(page, surgeries)

    # The results came practice by practice, and the browser had nothing to complain about
    assert re.search(r"/book/times/\?progress=1$", results_url)
    browser_problems.assert_none()


def test_a_patient_books_views_and_cancels_an_appointment_without_javascript(
    no_js_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    results_url = book_view_and_cancel(no_js_page, surgeries)

    # The results page waited for the practice instead
    assert re.search(r"/book/times/$", results_url)
    browser_problems.assert_none()


# --- 3: keyboard only ---------------------------------------------------------------------------


def test_a_keyboard_user_books_an_appointment_without_a_mouse(
    signed_in_page: Page,
    keyboard_user: KeyboardUser,
    surgeries: Surgeries,
    browser_problems: BrowserProblems,
):
    # Given a signed-in patient using the keyboard alone, and two free times at their practice
    surgeries.slots(HOME, tomorrow_at(9), 2)
    page = signed_in_page
    page.goto("/")

    # When they follow "Book an appointment"
    keyboard_user.follow(main(page).get_by_role("link", name="Book an appointment"))
    expect_page(page, "Where would you like an appointment?")

    # And pick their practice with Space and continue with Enter
    keyboard_user.tab_to(page.get_by_role("radio", name=f"My practice: {HOME_NAME}"))
    keyboard_user.press("Space")
    expect(page.get_by_role("radio", name=f"My practice: {HOME_NAME}")).to_be_checked()
    keyboard_user.follow(page.get_by_role("button", name="Continue"))
    expect_page(page, "When would you like an appointment?")

    # And the next 7 days
    keyboard_user.tab_to(page.get_by_role("radio", name="In the next 7 days"))
    keyboard_user.press("Space")
    keyboard_user.follow(page.get_by_role("button", name="Find appointments"))

    # Then the times arrive
    expect(page).to_have_title("Choose a time" + SERVICE)
    expect(practice_line(page, HOME)).to_contain_text("2 appointments")
    expect(choose_link(page, "9:10am")).to_be_visible()
    assert_no_axe_violations(page)

    # When they choose 9:10am, type what it is for and continue
    keyboard_user.follow(choose_link(page, "9:10am"))
    expect_page(page, "Tell the practice about your appointment")
    keyboard_user.tab_to(page.get_by_label("What is the appointment for?"))
    keyboard_user.type("Sore knee")
    keyboard_user.follow(page.get_by_role("button", name="Continue"))

    # And book it from the check page
    expect_page(page, "Check your answers before booking")
    keyboard_user.follow(page.get_by_role("button", name="Book appointment"))

    # Then it is booked
    expect_page(page, "Appointment booked")
    expect(page.locator(".nhsuk-panel")).to_contain_text("9:10am ")
    assert SandboxAppointment.objects.count() == 1
    browser_problems.assert_none()


# --- 4: a federation with a slow practice and a failing one ---------------------------------------

SLOW, SLOW_NAME = "D82044", "Slow Lane Surgery"
BROKEN, BROKEN_NAME = "E82055", "Broken Surgery"
FEDERATION = "Any practice in North Riverside GP Federation"


@pytest.fixture
def federation(surgeries: Surgeries) -> Surgeries:
    """Five practices: two with times, one with none, one slow (1.2 seconds) with two times,
    and one that answers every request with an error (it has one time, once it recovers)."""
    surgeries.add("B82617", "Hill Surgery")
    surgeries.add("C88114", "Valley Surgery")
    surgeries.add(SLOW, SLOW_NAME, latency_ms=1200)
    surgeries.add(BROKEN, BROKEN_NAME, unavailable=True)
    surgeries.slots(HOME, tomorrow_at(9), 2)
    surgeries.slots("B82617", tomorrow_at(10))
    surgeries.slots(SLOW, tomorrow_at(11), 2)
    surgeries.slots(BROKEN, tomorrow_at(15))
    return surgeries


def has_focus(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def test_federation_results_arrive_practice_by_practice_with_javascript(
    signed_in_page: Page, federation: Surgeries, browser_problems: BrowserProblems
):
    page = signed_in_page
    # Given a patient searching every practice in their federation
    start_booking(page)
    choose_where(page, FEDERATION)
    # (the practices' own requests are held back, to look at the page while some are checking)
    held = []
    page.route("**/book/times/practice/*/", lambda route: held.append(route))

    # When the results page opens
    choose_when(page)

    # Then it arrives with the first practice's appointments (whichever of the two quick ones
    # with times answered first), the slow one still being checked, and the page is accessible
    # while it loads; each practice's line is there on demand
    page.get_by_text("Each practice").click()
    expect(page.locator(".app-practice-status")).to_have_count(5)
    expect(page.locator(".app-practice-status", has_text="appointment").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Choose")).first).to_be_visible()
    expect(practice_line(page, SLOW)).to_contain_text("Checking…")
    checking = page.locator(".app-practice-status", has_text="Checking…").count()
    expect(page.locator("#search-progress")).to_have_text(
        re.compile(rf"^{5 - checking} of 5 practices checked")
    )
    expect(page.locator("#search-progress")).to_have_attribute("aria-live", "polite")
    assert_no_axe_violations(page)

    # When the practices still being checked answer, but for the slow one
    assert len(held) == checking, "each practice still checking asks for its answer itself"
    slow = [route for route in held if f"/practice/{SLOW}/" in route.request.url]
    for route in held:
        if route not in slow:
            route.continue_()

    # Then the quick ones are counted while the slow one is still being checked, and the live
    # region says one could not be checked
    expect(page.locator("#search-progress")).to_have_text(
        "4 of 5 practices checked. 1 could not be checked"
    )
    expect(practice_line(page, SLOW)).to_contain_text("Checking…")
    expect(practice_line(page, HOME)).to_contain_text("2 appointments")
    expect(practice_line(page, "C88114")).to_contain_text("No appointments")
    expect(practice_line(page, BROKEN)).to_contain_text("Could not be checked")

    # When the patient (having shown what the other quick practice found) moves to the first
    # time listed while the slow one is still checking
    show_all_found(page)
    first = choose_link(page, "9am")
    first.focus()
    for route in slow:
        route.continue_()
    page.unroute("**/book/times/practice/*/")

    # Then the slow one's times are announced, not moved in under them: the list stays as it is
    news = page.locator("#slot-news")
    expect(news).to_contain_text(re.compile(r"\d+ more appointments? found\."))
    expect(news).to_have_attribute("aria-live", "polite")
    expect(page.locator("#search-progress")).to_have_text(
        "5 of 5 practices checked. 5 appointments found. 1 could not be checked"
    )
    expect(choose_link(page, "11am")).to_have_count(0)
    assert has_focus(first), "focus moved when the slow practice's times arrived"
    assert_no_axe_violations(page)

    # When they ask to see them, they are merged in, earliest first
    news.get_by_role("button", name=re.compile("^Show (them|it)$")).click()
    expect(choose_link(page, "11am")).to_be_visible()
    expect(news).not_to_contain_text("more appointments found")

    # And the failing practice says so, with a way to try it again
    broken = practice_line(page, BROKEN)
    retry = broken.get_by_role("link", name=f"Try {BROKEN_NAME} again")
    expect(retry).to_be_visible()
    assert_no_axe_violations(page)

    # When it recovers and the patient tries it again from the keyboard
    federation.switch(BROKEN, unavailable=False)
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    retry.focus()
    page.keyboard.press("Enter")

    # Then only that practice is asked again, its time is announced, and focus is on its line
    expect(broken).to_contain_text("1 appointment")
    expect(page.locator("#search-progress")).to_have_text(
        "5 of 5 practices checked. 6 appointments found"
    )
    expect(news).to_contain_text("1 more appointment found.")
    expect(broken).to_be_focused()
    status_requests = [url for url in asked if "/book/times/practice/" in url]
    assert [url.rstrip("/").rsplit("/", 1)[-1] for url in status_requests] == [BROKEN]
    news.get_by_role("button", name="Show it").click()
    page.get_by_role("link", name=re.compile(r"^Show all 6 times")).click()
    expect(choose_link(page, "3pm")).to_be_visible()
    assert_no_axe_violations(page)
    browser_problems.assert_none()


def test_federation_results_wait_for_every_practice_without_javascript(
    signed_in_no_js_page: Page, federation: Surgeries, browser_problems: BrowserProblems
):
    page = signed_in_no_js_page
    # Given a patient without JavaScript searching every practice in their federation
    start_booking(page)
    choose_where(page, FEDERATION)

    # When the results page opens
    choose_when(page)

    # Then it came once every practice had answered: no line is still checking
    expect(page.locator(".app-practice-status", has_text="Checking…")).to_have_count(0)
    expect(practice_line(page, SLOW)).to_contain_text("2 appointments")
    expect(practice_line(page, BROKEN)).to_contain_text("Could not be checked")
    expect(page.locator("#search-progress")).to_have_text(
        "5 of 5 practices checked. 5 appointments found. 1 could not be checked"
    )
    assert_no_axe_violations(page)

    # When the failing practice recovers and the patient follows its "try again" link
    federation.switch(BROKEN, unavailable=False)
    page.locator("#practice-failures").get_by_role("link", name=f"Try {BROKEN_NAME} again").click()

    # Then its time is among the others: the day shows its first times, and all on request
    expect(practice_line(page, BROKEN)).to_contain_text("1 appointment")
    page.get_by_role("link", name=re.compile(r"^Show all 6 times")).click()
    expect(choose_link(page, "3pm")).to_be_visible()
    assert_no_axe_violations(page)
    browser_problems.assert_none()


# --- 5: slot taken ------------------------------------------------------------------------------


def show_all_found(page: Page) -> None:
    """With JavaScript, times from practices that answered after the page came are announced:
    show them, if there are any."""
    show = page.locator("#slot-news").get_by_role("button", name=re.compile("^Show (them|it)$"))
    if show.count():
        show.click()
        expect(show).to_have_count(0)


def choose_and_check(page: Page, time: str, reason: str, *, axe: bool = True) -> None:
    start_booking(page, axe=axe)
    choose_where(page, FEDERATION, axe=axe)
    choose_when(page)
    expect(page.locator("#search-progress")).to_contain_text("2 of 2 practices checked")
    show_all_found(page)
    if axe:
        assert_no_axe_violations(page)
    choose_link(page, time).click()
    give_details(page, reason, axe=axe)


def test_a_time_booked_by_someone_else_first_offers_the_nearest_others(
    signed_in_page: Page,
    new_context,
    surgeries: Surgeries,
    site: SiteServer,
    browser_problems: BrowserProblems,
):
    # Given two patients of the same practice, and its free times around 10am tomorrow
    # (and one at another practice of the federation, nearer than all of them)
    surgeries.add("B82617", "Hill Surgery")
    for hour, minute in [(9, 30), (10, 0), (11, 0), (14, 0), (16, 0)]:
        surgeries.slots(HOME, tomorrow_at(hour, minute))
    surgeries.slots("B82617", tomorrow_at(10, 10))
    patient_a = signed_in_page
    patient_b = new_context().new_page()
    sign_in_as(patient_b.context, surgeries.other_patient, site)

    # And both have chosen 10am and are checking their answers
    choose_and_check(patient_a, "10am", "Sore knee")
    choose_and_check(patient_b, "10am", "Earache", axe=False)  # the same pages as A's

    # When patient B books it first
    book(patient_b)
    expect_page(patient_b, "Appointment booked")

    # And patient A books it
    book(patient_a)

    # Then patient A is told kindly, and offered the three nearest times at the same practice
    expect_page(patient_a, "Sorry, that time has just been booked")
    alternatives = patient_a.locator(".app-alternatives > li")
    expect(alternatives).to_have_count(3)
    expect(alternatives.nth(0)).to_contain_text("9:30am ")
    expect(alternatives.nth(1)).to_contain_text("11am ")
    expect(alternatives.nth(2)).to_contain_text("2pm ")
    expect(alternatives).to_contain_text([HOME_NAME] * 3)
    assert SandboxAppointment.objects.get().patient_nhs_number == sandbox.OTHER_NHS_NUMBER
    assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 1

    # When they go back to the results
    patient_a.get_by_role("link", name="Go back to all the appointments").click()

    # Then the time taken is no longer offered
    expect(patient_a).to_have_title("Choose a time" + SERVICE)
    expect(choose_link(patient_a, "9:30am")).to_be_visible()
    expect(choose_link(patient_a, "10am")).to_have_count(0)
    assert_no_axe_violations(patient_a)
    browser_problems.assert_none()


# --- 6: nothing found ---------------------------------------------------------------------------


def nothing_found_then_search_later(page: Page, surgeries: Surgeries, *, title: str) -> None:
    # Given a practice with no free time in the next 7 days, but one in the week after
    surgeries.slots(HOME, day_ahead(9, 10))

    # When the patient searches the next 7 days
    search_my_practice(page, title=title)

    # Then they are told plainly, with the practice's phone number and where to get urgent help
    body = main(page)
    expect(
        body.get_by_role("heading", name=re.compile("^There are no appointments"))
    ).to_be_visible()
    expect(body.get_by_role("link", name="01632 960100")).to_have_attribute(
        "href", "tel:01632960100"
    )
    expect(body.get_by_role("link", name="111.nhs.uk")).to_be_visible()
    expect(body.locator("table")).to_have_count(0)
    assert_no_axe_violations(page)

    # When they search the next 2 weeks, in one step
    body.get_by_role("button", name=re.compile("^Search the next 2 weeks")).click()

    # Then the later time is listed
    expect(page).to_have_title("Choose a time" + SERVICE)
    expect(practice_line(page, HOME)).to_contain_text("1 appointment")
    expect(choose_link(page, "10am")).to_be_visible()
    assert_no_axe_violations(page)


def test_nothing_found_offers_the_next_2_weeks_with_javascript(
    signed_in_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    # Every practice answered while the page waited for a first one with free times, so it is
    # the same page as without JavaScript.
    nothing_found_then_search_later(signed_in_page, surgeries, title="No appointments found")
    browser_problems.assert_none()


def test_nothing_found_is_a_page_of_its_own_without_javascript(
    signed_in_no_js_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    nothing_found_then_search_later(signed_in_no_js_page, surgeries, title="No appointments found")
    browser_problems.assert_none()


# --- 7: form errors -----------------------------------------------------------------------------


def expect_error_page(page: Page, title: str, message: str, field: str) -> None:
    """The page has an error: its title says so, the error summary has focus, and its link
    moves focus to the field, whether clicked or followed with the keyboard."""
    expect(page).to_have_title(f"Error: {title}{SERVICE}")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("alert")).to_contain_text("There is a problem")
    link = summary.get_by_role("link", name=message)
    target = page.locator(field)
    expect(page.locator(".nhsuk-error-message", has_text=message)).to_be_visible()
    assert_no_axe_violations(page)

    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(target).to_be_focused()

    summary.focus()
    link.click()
    expect(target).to_be_focused()


def test_form_errors_are_summarised_and_lead_to_their_fields(
    signed_in_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    page = signed_in_page
    surgeries.add("B82617", "Hill Surgery")
    surgeries.slots(HOME, tomorrow_at(9))

    # Where: nothing chosen, then "Practices I choose" without a practice
    start_booking(page)
    page.get_by_role("button", name="Continue").click()
    expect_error_page(
        page,
        "Where would you like an appointment?",
        "Select where you would like an appointment",
        "#id_scope",
    )
    page.get_by_role("radio", name="Practices I choose").check()
    page.get_by_role("button", name="Continue").click()
    expect_error_page(
        page,
        "Where would you like an appointment?",
        "Select at least one practice",
        "#id_practices",
    )
    choose_where(page, f"My practice: {HOME_NAME}")

    # When: nothing chosen, then dates the wrong way round
    page.get_by_role("button", name="Find appointments").click()
    expect_error_page(
        page,
        "When would you like an appointment?",
        "Select when you would like an appointment",
        "#id_period",
    )
    page.get_by_role("radio", name="Between dates I choose").check()
    start, end = timezone.localdate() + datetime.timedelta(days=5), timezone.localdate()
    for prefix, day in [("start", start), ("end", end)]:
        page.locator(f"#id_{prefix}_day").fill(str(day.day))
        page.locator(f"#id_{prefix}_month").fill(str(day.month))
        page.locator(f"#id_{prefix}_year").fill(str(day.year))
    page.get_by_role("button", name="Find appointments").click()
    expect_error_page(
        page,
        "When would you like an appointment?",
        "The end date must be after the start date",
        "#id_end_day",
    )
    choose_when(page)

    # Details: nothing said about the appointment
    choose_link(page, "9am").click()
    expect_page(page, "Tell the practice about your appointment")
    page.get_by_role("button", name="Continue").click()
    expect_error_page(
        page,
        "Tell the practice about your appointment",
        "Enter what the appointment is for",
        "#id_reason",
    )
    browser_problems.assert_none()


# --- 8: cancelling too late ---------------------------------------------------------------------


def book_over_http(page: Page) -> None:
    """Book the first free time at the signed-in patient's practice in the next 7 days with the
    requests the pages would send, but not through the pages: the setup for tests about an
    existing booking. The requests share the page's cookies, so they are the patient's."""
    site = page.context.request

    def form_token(path: str) -> str:
        form = site.get(path).text()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]

    site.post(
        "/book/where/", form={"csrfmiddlewaretoken": form_token("/book/where/"), "scope": "mine"}
    )
    results = site.post(
        "/book/when/", form={"csrfmiddlewaretoken": form_token("/book/when/"), "period": "7"}
    )
    [choose, *_] = re.findall(r'href="(/book/details/\?[^"]+)"', results.text())
    site.get(choose.replace("&amp;", "&"))
    site.post(
        "/book/details/",
        form={"csrfmiddlewaretoken": form_token("/book/details/"), "reason": "Sore knee"},
    )
    check = site.get("/book/check/").text()
    confirmed = site.post(
        "/book/check/",
        form={
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', check)[
                1
            ],
            "answers": re.search(r'name="answers" value="([^"]+)"', check)[1],
        },
    )
    assert re.search(r"/appointments/\d+/confirmation/$", confirmed.url), "booked"


def test_cancelling_too_late_says_to_phone_the_practice(
    signed_in_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    page = signed_in_page
    # Given a booked appointment at a practice that stops online cancelling long before
    surgeries.slots(HOME, tomorrow_at(9))
    book_over_http(page)
    surgeries.switch(HOME, cancellation_cutoff_minutes=100_000)

    # When the patient opens it from their appointments
    page.goto("/appointments/")
    expect_page(page, "Your appointments")
    main(page).get_by_role("link", name=re.compile(r"^9am ")).click()
    expect(page).to_have_title(re.compile(r"^Appointment at 9am "))
    assert_no_axe_violations(page)

    # And asks to cancel it without giving a reason
    page.get_by_role("button", name="Cancel this appointment").click()
    expect_page(page, "Why are you cancelling?")
    page.get_by_role("button", name="Continue").click()

    # Then they are asked for one
    expect_error_page(page, "Why are you cancelling?", "Enter why you are cancelling", "#id_reason")

    # When they give one and confirm
    page.get_by_label("Why are you cancelling?").fill("Feeling better")
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Are you sure you want to cancel this appointment?")
    page.get_by_role("button", name="Yes, cancel it").click()

    # Then they are told plainly that it is too late to cancel online, to phone the practice
    expect_page(page, "Your appointment has not been cancelled")
    expect(main(page)).to_contain_text(
        "It's too late to cancel this appointment online. Phone the practice to cancel it."
    )
    expect(main(page).get_by_role("link", name="01632 960100")).to_be_visible()
    assert Booking.objects.get().status == Booking.Status.BOOKED
    assert SandboxAppointment.objects.get().status == SandboxAppointment.Status.BOOKED
    browser_problems.assert_none()


# --- The session timeout: the warning, staying signed in, and coming back -----------------------


def end_the_session(page: Page, site: SiteServer) -> None:
    """As the server sees it, the session has been idle too long (the browser's clock is
    Playwright's, moved on by the test; the server's is real)."""
    [cookie] = [c for c in page.context.cookies() if c["name"] == site_settings.SESSION_COOKIE_NAME]
    session = SessionStore(session_key=cookie["value"])
    session["active_until"] = time.time() - 1
    session.save()


def test_the_timeout_warning_keeps_a_patient_signed_in_or_brings_them_back_to_their_page(
    signed_in_page: Page, surgeries: Surgeries, site: SiteServer, browser_problems: BrowserProblems
):
    page = signed_in_page
    idle = site_settings.SESSION_IDLE_SECONDS
    page.clock.install()
    # Given a patient who has said where they want an appointment
    start_booking(page, axe=False)
    choose_where(page, f"My practice: {HOME_NAME}", axe=False)
    dialog = page.get_by_role("dialog", name="You're about to be signed out")
    expect(dialog).to_be_hidden()
    page.wait_for_load_state()  # the page's scripts (module scripts run before "load") started

    # When they do nothing until two minutes before the session ends
    page.clock.run_for((idle - 119) * 1000)

    # Then the warning says so, and "Stay signed in" has the focus
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("we will sign you out in 2 minutes")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_no_axe_violations(page)

    # When they press Enter, the warning goes and they carry on
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page).to_have_title("When would you like an appointment?" + SERVICE)

    # When they do nothing until the session ends
    page.clock.run_for((idle - 119) * 1000)
    expect(dialog).to_be_visible()
    end_the_session(page, site)
    page.clock.run_for(125 * 1000)

    # Then they are told they were signed out, and signing in again with NHS login brings them
    # back to the page they were on, with their answer kept
    expect_page(page, "You have been signed out")
    page.get_by_role("link", name="Sign in again").click()
    expect_page(page, "Sign in")
    page.get_by_role("button", name="Continue to NHS login").click()
    page.locator(f"input[value='{surgeries.identity.sub}']").check()
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "When would you like an appointment?", axe=False)
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("radio", name=f"My practice: {HOME_NAME}")).to_be_checked()
    browser_problems.assert_none()


# --- Two tabs: each books what it shows (issue 17) -----------------------------------------------


def test_two_tabs_of_one_patient_each_book_the_time_and_answers_they_show(
    signed_in_page: Page, surgeries: Surgeries, browser_problems: BrowserProblems
):
    # Given a patient with two free times at their practice, and two tabs open
    surgeries.slots(HOME, tomorrow_at(8, 45), 1)
    surgeries.slots(HOME, tomorrow_at(9, 15), 1)
    tab_a = signed_in_page
    tab_b = tab_a.context.new_page()

    # Tab A reaches Check answers for 8:45am, then tab B for 9:15am
    search_my_practice(tab_a, axe=False)
    choose_link(tab_a, "8:45am").click()
    give_details(tab_a, "Tab A", axe=False)
    search_my_practice(tab_b, axe=False)
    choose_link(tab_b, "9:15am").click()
    give_details(tab_b, "Tab B", axe=False)

    # When they book in tab A, then in tab B
    book(tab_a)
    expect_page(tab_a, "Appointment booked", axe=False)
    book(tab_b)
    expect_page(tab_b, "Appointment booked", axe=False)

    # Then each tab booked its own time with its own answers
    held = {a.start: a.resource["description"] for a in SandboxAppointment.objects.all()}
    assert held == {tomorrow_at(8, 45): "Tab A", tomorrow_at(9, 15): "Tab B"}
    browser_problems.assert_none()


# --- Screen sizes: 320 px and 1280 px, with and without JavaScript (issue 17) --------------------

WIDTHS = [320, 1280]


def search_federation(page: Page, federation: Surgeries) -> None:
    federation.slots(HOME, tomorrow_at(8, 30), 9)
    start_booking(page, axe=False)
    page.get_by_role("radio", name=FEDERATION).check()
    page.get_by_role("button", name="Continue").click()
    choose_when(page)


def assert_fits(page: Page) -> None:
    """Nothing is wider than the screen (WCAG 1.4.10 reflow)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", WIDTHS)
def test_results_with_javascript_at_each_width(signed_in_page: Page, federation, width):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": 800})
    search_federation(page, federation)

    # While some practices are still answering, and once their times are announced
    expect(page.locator("#search-progress")).to_contain_text("5 of 5 practices checked")
    assert_no_axe_violations(page)
    show_all_found(page)
    # Every state of the folded parts: each practice and the filters open
    page.get_by_text("Each practice").click()
    page.get_by_text("Filter appointments").click()
    assert_no_axe_violations(page)
    assert_fits(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_results_without_javascript_at_each_width(signed_in_no_js_page: Page, federation, width):
    page = signed_in_no_js_page
    page.set_viewport_size({"width": width, "height": 800})
    search_federation(page, federation)

    expect(page.locator("#search-progress")).to_contain_text("5 of 5 practices checked")
    assert_no_axe_violations(page)
    # A day's other times
    page.get_by_role("link", name=re.compile(r"^Show all \d+ times")).first.click()
    assert_no_axe_violations(page)
    assert_fits(page)


def test_on_a_phone_the_first_choose_link_comes_after_a_few_controls(
    signed_in_no_js_page: Page, federation
):
    page = signed_in_no_js_page
    page.set_viewport_size({"width": 375, "height": 800})
    search_federation(page, federation)

    # Tab stops in the main content before the first "Choose": the change links, the failed
    # practice's "try again", the two folded parts (filters and each practice stay folded)
    links_before = page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const first = main.querySelector('a[id^="choose-"]');
            const focusable = [...main.querySelectorAll('a[href], button, summary, input')]
                .filter((element) => element.checkVisibility());
            return focusable.indexOf(first);
        }"""
    )
    assert 0 < links_before <= 8, links_before


@pytest.mark.parametrize("width", WIDTHS)
def test_the_appointment_pages_at_each_width(signed_in_page: Page, surgeries: Surgeries, width):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": 800})
    # Given a booked appointment, and one the practice holds that was booked another way
    surgeries.slots(HOME, tomorrow_at(9))
    book_over_http(page)
    practice = SandboxPractice.objects.get(ods_code=HOME)
    phoned = sandbox.make_slots(sandbox.make_schedule(practice), tomorrow_at(15), 1)
    body = sandbox.appointment_body(phoned, description="Booked by phone")
    sandbox_appointments.book(practice, parse_new_appointment(json.dumps(body).encode()))

    # Then their appointments, and each appointment, are accessible and fit the screen
    page.goto("/appointments/")
    expect_page(page, "Your appointments")
    expect(main(page).get_by_role("link", name=re.compile(r"^3pm "))).to_have_count(1)
    assert_fits(page)
    main(page).get_by_role("link", name=re.compile(r"^9am ")).click()
    expect(page).to_have_title(re.compile(r"^Appointment at 9am "))
    assert_no_axe_violations(page)
    assert_fits(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_states_without_javascript_at_each_width(
    signed_in_no_js_page: Page, surgeries: Surgeries, width
):
    page = signed_in_no_js_page
    page.set_viewport_size({"width": width, "height": 800})
    # Given a practice of the federation that books only its own patients online
    surgeries.add("B82617", "Hill Surgery")
    SitePractice.objects.filter(ods_code="B82617").update(online_booking="registered")

    # Then "Where" says it is not listed
    start_booking(page, axe=False)
    expect(main(page)).to_contain_text("Hill Surgery is not listed")
    assert_no_axe_violations(page)
    assert_fits(page)

    # Given an appointment the practice holds that was booked by phone, at a practice that
    # has refused online cancelling
    practice = SandboxPractice.objects.get(ods_code=HOME)
    phoned = sandbox.make_slots(sandbox.make_schedule(practice), tomorrow_at(15), 1)
    body = sandbox.appointment_body(phoned, description="Booked by phone")
    held = sandbox_appointments.book(practice, parse_new_appointment(json.dumps(body).encode()))
    surgeries.switch(HOME, cancellation_disabled=True)

    # When the patient opens it from their appointments and asks to cancel it
    page.goto("/appointments/")
    main(page).get_by_role("link", name=re.compile(r"^3pm ")).click()
    expect(page).to_have_title(re.compile(r"^Appointment at 3pm "))
    assert_no_axe_violations(page)
    assert_fits(page)
    page.goto(f"/appointments/{HOME}/{held.pk}/cancel/")
    page.get_by_label("Why are you cancelling?").fill("Feeling better")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Yes, cancel it").click()

    # Then the refusal, and the appointment afterwards, are accessible and fit the screen
    expect(main(page)).to_contain_text("cancelled online")
    assert_no_axe_violations(page)
    page.goto(f"/appointments/{HOME}/{held.pk}/")
    expect(page.get_by_role("button", name="Cancel this appointment")).to_have_count(0)
    assert_no_axe_violations(page)
    assert_fits(page)
