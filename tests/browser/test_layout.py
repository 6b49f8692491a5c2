"""The page layout every screen shares, as a patient's browser sees it."""

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import BrowserProblems, KeyboardUser, assert_no_axe_violations

HOME_TITLE = "Book a GP appointment online - Book a GP appointment - NHS"


def test_home_page_has_the_nhs_header_and_footer_and_runs_its_scripts_cleanly(
    page: Page, browser_problems: BrowserProblems
):
    # Given a patient whose browser runs JavaScript
    # When they open the home page
    page.goto("/")

    # Then they see the NHS header, the page and the footer
    expect(page).to_have_title(HOME_TITLE)
    expect(page.get_by_role("banner")).to_contain_text("Book a GP appointment")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a GP appointment online")
    expect(page.get_by_role("contentinfo")).to_contain_text("Accessibility statement")
    # And the NHS.UK frontend knows it may run its scripts, and has started its components
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs-enabled\b"))
    expect(page.locator("body")).to_have_class(re.compile(r"\bnhsuk-frontend-supported\b"))
    expect(page.locator(".nhsuk-skip-link")).to_have_attribute("data-nhsuk-skip-link-init", "")
    # And htmx has started with our configuration, without adding styles the CSP would refuse
    page.wait_for_function("() => window.htmx")
    indicator_styles = page.evaluate("() => htmx.config.includeIndicatorStyles")
    assert indicator_styles is False, "htmx would add a <style> the CSP refuses"
    expect(page.locator("style")).to_have_count(0)
    # And nothing was refused by the Content Security Policy or failed in a script
    browser_problems.assert_none()
    assert_no_axe_violations(page)


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(
    keyboard_user: KeyboardUser,
):
    # Given a patient using the keyboard alone, on the home page
    page = keyboard_user.page
    page.goto("/")

    # When they press Tab once
    keyboard_user.tab()

    # Then the skip link has focus
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # When they press Enter on it
    keyboard_user.press("Enter")

    # Then focus is on the main content
    expect(page.locator("main#maincontent")).to_be_focused()
    assert_no_axe_violations(page)


def test_unknown_address_shows_the_nhs_page_not_found(
    page: Page, browser_problems: BrowserProblems
):
    # Given an address that is not part of the service
    # When a patient opens it
    response = page.goto("/no-such-page/")

    # Then they get the NHS "Page not found" page, with a 404 status
    assert response is not None
    assert response.status == 404
    expect(page).to_have_title("Page not found - Book a GP appointment - NHS")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    start_link = page.get_by_role("link", name="Go to the start of Book a GP appointment")
    expect(start_link).to_be_visible()
    browser_problems.assert_none()
    assert_no_axe_violations(page)


def test_home_page_works_without_javascript(no_js_page: Page, browser_problems: BrowserProblems):
    # Given a patient whose browser does not run JavaScript
    # When they open the home page
    no_js_page.goto("/")

    # Then the page is all there
    expect(no_js_page).to_have_title(HOME_TITLE)
    expect(no_js_page.get_by_role("banner")).to_contain_text("Book a GP appointment")
    expect(no_js_page.get_by_role("heading", level=1)).to_have_text("Book a GP appointment online")
    expect(no_js_page.get_by_role("contentinfo")).to_contain_text("Accessibility statement")
    # And no script ran (so this test really is without JavaScript)
    expect(no_js_page.locator("html")).not_to_have_class(re.compile(r"\bjs-enabled\b"))
    browser_problems.assert_none()
    assert_no_axe_violations(no_js_page)


def test_skip_link_works_without_javascript(no_js_keyboard_user: KeyboardUser):
    # Given a keyboard-only patient without JavaScript, on the home page
    page = no_js_keyboard_user.page
    page.goto("/")

    # When they follow the skip link and press Tab again
    no_js_keyboard_user.tab()
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    no_js_keyboard_user.press("Enter")
    no_js_keyboard_user.tab()

    # Then they are on the first link in the main content, past the header
    expect(page).to_have_url(re.compile(r"#maincontent$"))
    expect(page.locator("#maincontent a").first).to_be_focused()
    assert_no_axe_violations(page)


def test_htmx_requests_carry_the_csrf_token_django_expects(
    page: Page, browser_problems: BrowserProblems
):
    # Given a patient on a page of the service
    page.goto("/")
    page.wait_for_function("() => window.htmx")
    headers = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")
    assert headers.get("X-CSRFToken")

    # When a plain POST without the token reaches Django, it is refused as forgery
    assert page.request.post("/").status == 403

    # When htmx makes the same POST
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.evaluate("() => htmx.ajax('POST', '/', {target: '#maincontent', swap: 'none'})")

    # Then it gets past the CSRF check to the view, which only answers GET (405, not 403)
    assert posted.value.request.header_value("X-CSRFToken") == headers["X-CSRFToken"]
    assert posted.value.status == 405
    assert browser_problems.csp_violations == []
    assert_no_axe_violations(page)
