"""The staff availability preview in a real browser: with JavaScript (practices arrive one by
one), with the keyboard alone, and without JavaScript. Every state reached is checked with axe.

The site reaches the provider sandbox over real HTTP at the server's own address, as it
would reach a practice.
"""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from booking_site.accounts.models import User
from booking_site.availability.services import practice_staff_group
from booking_site.practices.models import Federation
from booking_site.practices.models import Practice as SitePractice
from gp_sandbox import factories as sandbox
from tests.browser.helpers import BrowserProblems, KeyboardUser, assert_no_axe_violations
from tests.serving import SiteServer

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE = " - Book a GP appointment - NHS"
TITLE = "Preview appointment availability"
FEDERATION = "North Riverside GP Federation"


def next_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


def next_week_label() -> str:
    monday = next_monday()
    sunday = monday + datetime.timedelta(days=6)
    return f"{monday:%A} {monday.day} {monday:%B} to {sunday:%A} {sunday.day} {sunday:%B %Y}"


class Federation_:
    """Three sandbox practices in one federation (one of them down), the site's directory
    entries for them, and a member of staff at the first."""

    def __init__(self, site_url: str) -> None:
        federation = Federation.objects.create(name=FEDERATION)
        for ods, name, switches in [
            ("A20047", "Riverside Medical Practice", {}),
            ("B86019", "Kirkstall Lane Surgery", {}),
            ("B86128", "Headingley Park Surgery", {"unavailable": True}),
        ]:
            sandbox.make_practice(ods, name=name, **switches)
            SitePractice.objects.create(
                ods_code=ods,
                name=name,
                federation=federation,
                base_url=f"{site_url}/sandbox/{ods}/FHIR/STU3/",
            )
        riverside = sandbox.make_schedule(sandbox.Practice.objects.get(ods_code="A20047"))
        monday = next_monday()
        sandbox.make_slots(riverside, sandbox.uk(f"{monday} 09:00"), 2)
        sandbox.make_slot(
            riverside, sandbox.uk(f"{monday} 14:00"), service_type="Slot 1", delivery_channel=""
        )
        self.staff = User.objects.create_user(
            username="staff@example.com", email="staff@example.com", first_name="Sam"
        )
        self.staff.groups.add(practice_staff_group())
        self.staff.staff_practices.set([SitePractice.objects.get(ods_code="A20047")])


@pytest.fixture
def federation(site: SiteServer) -> Federation_:
    return Federation_(site.url)


def sign_in_as(context: BrowserContext, user, site: SiteServer) -> None:
    """Give the browser the session cookie of a signed-in member of staff."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": site.url}]
    )


def section(page: Page, ods: str):
    return page.locator(f"#practice-{ods}")


def morning_cell(page: Page):
    """The "show slots" control of next Monday morning at Riverside."""
    return section(page, "A20047").locator("summary").filter(has_text=re.compile(r", morning\s*$"))


def expect_results(page: Page) -> None:
    expect(section(page, "A20047")).to_contain_text("Answered")
    expect(section(page, "A20047")).to_contain_text("Slots with label problems 1")
    expect(section(page, "B86019")).to_contain_text("No free slots")
    expect(section(page, "B86128")).to_contain_text("Could not be checked")
    expect(page.get_by_role("link", name="Download these free slots (CSV)")).to_be_visible()


def expect_morning_open(page: Page) -> None:
    slots = section(page, "A20047").locator("details[open] .app-slot-list > li")
    expect(slots).to_have_count(2)
    expect(slots.first).to_contain_text("9am to 9:10am (10 minutes)")
    expect(slots.first).to_contain_text("Job role")
    expect(slots.first).to_contain_text("General Medical Practitioner (R0260)")


def test_staff_preview_their_federation_with_practices_arriving_one_by_one(
    page: Page, federation: Federation_, site: SiteServer, browser_problems: BrowserProblems
):
    # Given a member of staff, signed in, on the preview page
    sign_in_as(page.context, federation.staff, site)
    page.goto("/staff/availability/")
    expect(page).to_have_title(TITLE + SERVICE)
    assert_no_axe_violations(page)

    # When they ask about every practice in their federation next week
    page.get_by_role("radio", name=f"Every practice in {FEDERATION}").check()
    page.get_by_role("radio", name=next_week_label()).check()
    page.get_by_role("button", name="Show availability").click()

    # Then each practice's section arrives on its own, announced in the live region
    expect(page).to_have_url(re.compile(r"[?&]js=1(&|$)"))
    expect_results(page)
    expect(page.locator("#preview-announcer")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#preview-announcer")).to_have_text(
        re.compile(r"^3 of 3 practices checked\. \S.*: .+\.$")
    )
    expect(section(page, "A20047").get_by_role("table")).to_have_count(2)
    assert_no_axe_violations(page)

    # When they open Monday morning's slots
    morning_cell(page).click()

    # Then every slot is listed with its fields
    expect_morning_open(page)
    assert_no_axe_violations(page)
    browser_problems.assert_none()


def test_a_keyboard_user_chooses_practices_and_a_week_and_opens_a_cell(
    page: Page,
    keyboard_user: KeyboardUser,
    federation: Federation_,
    site: SiteServer,
    browser_problems: BrowserProblems,
):
    # Given a member of staff using the keyboard alone, on the preview page
    sign_in_as(page.context, federation.staff, site)
    page.goto("/staff/availability/")

    # When they move to "Practices I choose" and tick Riverside with Space
    keyboard_user.tab_to(page.get_by_role("radio", name=f"Every practice in {FEDERATION}"))
    keyboard_user.press("ArrowDown")
    expect(page.get_by_role("radio", name="Practices I choose")).to_be_checked()
    keyboard_user.tab_to(page.get_by_role("checkbox", name="Riverside Medical Practice"))
    keyboard_user.press("Space")
    expect(page.get_by_role("checkbox", name="Riverside Medical Practice")).to_be_checked()

    # And move from this week to next week, and press Enter on "Show availability"
    keyboard_user.tab_to(page.get_by_role("radio", name=re.compile(r"^This week")))
    keyboard_user.press("ArrowDown")
    expect(page.get_by_role("radio", name=next_week_label())).to_be_checked()
    keyboard_user.follow(page.get_by_role("button", name="Show availability"))

    # Then Riverside's results arrive, and focus was not moved for them
    expect(section(page, "A20047")).to_contain_text("Answered")
    expect(page.locator("#practice-B86019")).to_have_count(0)
    assert page.evaluate("() => document.activeElement === document.body")
    assert_no_axe_violations(page)

    # When they tab to Monday morning's cell and open it with Enter
    keyboard_user.tab_to(morning_cell(page))
    keyboard_user.press("Enter")

    # Then its slots are shown; Space closes it again
    expect_morning_open(page)
    keyboard_user.press("Space")
    expect(section(page, "A20047").locator("details[open]")).to_have_count(0)
    assert_no_axe_violations(page)
    browser_problems.assert_none()


def test_the_preview_works_without_javascript(
    no_js_page: Page, federation: Federation_, site: SiteServer, browser_problems: BrowserProblems
):
    page = no_js_page
    sign_in_as(page.context, federation.staff, site)
    page.goto("/staff/availability/")

    # When they ask without choosing anything
    page.get_by_role("button", name="Show availability").click()

    # Then the error summary says what to do, each message linked to its question
    expect(page).to_have_title("Error: " + TITLE + SERVICE)
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("link", name="Select which practices to check")).to_have_attribute(
        "href", "#id_who"
    )
    expect(summary.get_by_role("link", name="Select a week, or choose dates")).to_be_visible()
    assert_no_axe_violations(page)

    # When they choose every practice and next week
    page.get_by_role("radio", name=f"Every practice in {FEDERATION}").check()
    page.get_by_role("radio", name=next_week_label()).check()
    page.get_by_role("button", name="Show availability").click()

    # Then the page waited for every practice, and shows them all
    expect(page).to_have_title(TITLE + SERVICE)
    expect(page).to_have_url(re.compile(r"[?&]js=(&|$)"))
    expect_results(page)
    assert_no_axe_violations(page)

    # And a cell opens without JavaScript
    morning_cell(page).click()
    expect_morning_open(page)
    assert_no_axe_violations(page)
    browser_problems.assert_none()
