"""Fixtures for browser tests: the site in a uvicorn process, one chromium for them all, and a
fresh context and page per test.

Every test here is marked `browser`. Pages open on the site as production serves it: its ASGI
application run by uvicorn in a process of its own (tests/serving.py), started once for the
browser tests. `page.goto("/")` works: the context's base URL is the server. Pages can reach
nothing else, so the NHS fonts on assets.nhs.uk fail at once instead of waiting on a network
this machine may not have. The Content Security Policy stays enforced, so a test sees what a
patient's browser would refuse.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.helpers import BrowserProblems, KeyboardUser, open_site_context
from tests.serving import SiteServer, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    f"{CHROMIUM} is missing, so the browser tests were SKIPPED. "
    "Install Debian's chromium: `make browser-deps` (as root) or `apt-get install chromium`."
)
BROWSER_TESTS = Path(__file__).parent
# The server and where its log stood when a test began, to show what it printed if it fails.
SERVER_LOG_AT_START = pytest.StashKey[tuple[SiteServer, int]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Called with the whole run's items, not only this folder's.
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and SERVER_LOG_AT_START in item.stash:
        server, offset = item.stash[SERVER_LOG_AT_START]
        output = server.output_since(offset)
        report.sections.append(("uvicorn output during the test", output or "(nothing)"))
    return report


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


@pytest.fixture(scope="package")
def site_server(django_db_setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    """uvicorn serving the site on the test database, started once for the browser tests.

    It depends on `django_db_setup` so that it stops before the test database is dropped
    (PostgreSQL refuses to drop a database that still has connections), and, like `browser`,
    it ends with the last browser test.
    """
    with serving(tmp_path_factory.mktemp("uvicorn")) as server:
        yield server


@pytest.fixture
def site(
    site_server: SiteServer, transactional_db, settings, request: pytest.FixtureRequest
) -> SiteServer:
    """The site's server (`site.url`), with the test sharing its cache, emptied first.

    The server's searches are cached; every test re-creates practices with the same ODS codes,
    so a search left from an earlier test must not be found. Data the test makes is committed,
    and flushed after it, so the server sees it and the next test does not.
    """
    settings.CACHES = site_server.caches
    cache.clear()
    request.node.stash[SERVER_LOG_AT_START] = (site_server, site_server.log_size())
    return site_server


@pytest.fixture
def browser_problems() -> BrowserProblems:
    """Script errors, console errors and CSP violations from every page of the test:
    `browser_problems.assert_none()` after the page has done its work."""
    return BrowserProblems()


@pytest.fixture
def new_context(
    browser: Browser, site: SiteServer, browser_problems: BrowserProblems
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a browser context on the site; keyword arguments go to `browser.new_context`.
    For a second person in the same test (another patient, a member of staff)."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = open_site_context(browser, site.url, browser_problems, **options)
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
