"""The browser test helpers catch what they are there to catch, under the site's real CSP.

Each probe page is served at an address of the site by the test itself, with the Content
Security Policy header the site sends, so the helpers are shown failing on a real breach.
"""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import BrowserProblems, assert_no_axe_violations

PROBE = "/__probe__/"


def _serve_probe(context: BrowserContext, page: Page, body: str) -> None:
    policy = page.request.get("/").headers["content-security-policy"]
    context.route(
        f"**{PROBE}",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": policy},
            body=body,
        ),
    )


def test_inline_script_is_refused_and_reported_as_a_csp_violation(
    context: BrowserContext, page: Page, browser_problems: BrowserProblems
):
    # Given a page with an inline script, served with the site's Content Security Policy
    _serve_probe(
        context,
        page,
        '<!DOCTYPE html><html lang="en"><head><title>Probe</title></head><body>'
        "<script>document.title = 'inline script ran'</script></body></html>",
    )

    # When it loads
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.goto(PROBE)

    # Then the script did not run, and the browser problems say why
    expect(page).to_have_title("Probe")
    assert len(browser_problems.csp_violations) == 1
    with pytest.raises(AssertionError, match=r"CSP violation: .*inline script"):
        browser_problems.assert_none()


def test_script_errors_are_reported(page: Page, browser_problems: BrowserProblems):
    # Given the home page
    page.goto("/")

    # When a script throws
    with page.expect_event("pageerror"):
        page.evaluate("() => setTimeout(() => { throw new Error('probe failure') })")

    # Then the browser problems report it
    with pytest.raises(AssertionError, match=r"Script error: .*probe failure"):
        browser_problems.assert_none()


def test_axe_finds_violations_under_the_sites_csp(context: BrowserContext, page: Page):
    # Given a page with an image that has no text alternative, served with the site's CSP
    _serve_probe(
        context,
        page,
        '<!DOCTYPE html><html lang="en"><head><title>Probe</title></head><body><main>'
        '<img src="/static/nhsuk/assets/images/nhsuk-icon-180.png"></main></body></html>',
    )
    page.goto(PROBE)

    # When axe checks it, then it fails and says what, how bad and where
    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page)
    assert "- image-alt (critical): Images must have alternative text" in str(failure.value)
    assert "    at img" in str(failure.value)


def test_axe_runs_on_pages_without_javascript(no_js_context: BrowserContext, no_js_page: Page):
    # Given the same page, in a browser that does not run JavaScript
    _serve_probe(
        no_js_context,
        no_js_page,
        '<!DOCTYPE html><html lang="en"><head><title>Probe</title></head><body><main>'
        '<img src="/static/nhsuk/assets/images/nhsuk-icon-180.png"></main></body></html>',
    )
    no_js_page.goto(PROBE)

    # When axe checks it, then it still finds the problem
    with pytest.raises(AssertionError, match="image-alt"):
        assert_no_axe_violations(no_js_page)
