"""Fixtures for browser tests: one chromium for them all, a fresh context and page per test.

Every test here is marked `browser`. Pages open on pytest-django's live server (`page.goto("/")`
works: the context's base URL is the server) and can reach nothing else, so the NHS fonts on
assets.nhs.uk fail at once instead of waiting on a network this machine may not have.
The Content Security Policy stays enforced, so a test sees what a patient's browser would refuse.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.helpers import BrowserProblems, KeyboardUser, open_site_context

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    f"{CHROMIUM} is missing, so the browser tests were SKIPPED. "
    "Install Debian's chromium: `make browser-deps` (as root) or `apt-get install chromium`."
)
BROWSER_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Called with the whole run's items, not only this folder's.
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter) -> None:
    # A skip is easy to miss among passes: say it once more, in red, at the very end.
    skipped = sum(
        1
        for report in terminalreporter.stats.get("skipped", [])
        if CHROMIUM_MISSING in str(report.longrepr)
    )
    if skipped:
        terminalreporter.write_sep("!", "BROWSER TESTS NOT RUN", red=True, bold=True)
        terminalreporter.write_line(f"{skipped} skipped: {CHROMIUM_MISSING}", red=True)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's headless chromium (`playwright install` cannot download browsers here), started
    once for all the browser tests and stopped after the last of them.

    All browser tests live in this package, so "package" means once per run, like "session",
    but ends with them: Playwright's sync API keeps an asyncio event loop running on the main
    thread while it is open, and the tests after ours must not find one there (asyncio.run
    refuses to start inside it).
    """
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Django sees that running loop in the thread where tests make ORM calls and refuses
        # them (SynchronousOnlyOperation), though nothing here is async. Django documents this
        # variable for such cases, and Playwright's maintainers point Django users to it. It is
        # set only while the browser is open, so the check stays on for every other test.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def sandbox_over_http(settings, live_server) -> None:
    """The site asks the sandbox at the live server, over HTTP as it would a practice, with
    limits short enough for a test."""
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 2
    settings.GPCONNECT_DEADLINE_SECONDS = 3
    settings.GPCONNECT_RETRIES = 0
    settings.SANDBOX_HANG_SECONDS = 3


@pytest.fixture
def browser_problems() -> BrowserProblems:
    """Script errors, console errors and CSP violations from every page of the test:
    `browser_problems.assert_none()` after the page has done its work."""
    return BrowserProblems()


@pytest.fixture
def new_context(
    browser: Browser, live_server, browser_problems: BrowserProblems
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a browser context on the live server; keyword arguments go to `browser.new_context`.
    For a second person in the same test (another patient, a member of staff)."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = open_site_context(browser, live_server.url, browser_problems, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A browser context with JavaScript on."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page with JavaScript on."""
    return context.new_page()


@pytest.fixture
def no_js_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A browser context with JavaScript off: the site must still work in it."""
    return new_context(java_script_enabled=False)


@pytest.fixture
def no_js_page(no_js_context: BrowserContext) -> Page:
    """A page with JavaScript off."""
    return no_js_context.new_page()


@pytest.fixture
def keyboard_user(page: Page) -> KeyboardUser:
    """A keyboard-only user of `page` (JavaScript on)."""
    return KeyboardUser(page)


@pytest.fixture
def no_js_keyboard_user(no_js_page: Page) -> KeyboardUser:
    """A keyboard-only user of `no_js_page` (JavaScript off)."""
    return KeyboardUser(no_js_page)
