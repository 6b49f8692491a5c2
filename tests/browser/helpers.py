"""What browser tests use besides the fixtures: an axe check, a record of the browser's
complaints (script errors, console errors, CSP violations) and a keyboard-only user."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils.csp import CSP, build_policy
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Response,
    Route,
    WebError,
    expect,
)

# The standard we are held to: WCAG 2.2 AA, which includes the 2.0 and 2.1 A and AA criteria.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_AXE = Axe()
# axe-core's option format. Asking for violations only keeps the reply small and quick.
_AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

# How Chromium words a Content Security Policy refusal in the console, whatever was refused.
_CSP_REFUSAL = "Content Security Policy directive"
_FAILED_LOAD = "Failed to load resource"


# Contexts whose pages run no JavaScript, so that axe knows to check a copy (see below).
_JAVASCRIPT_OFF: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


def open_site_context(
    browser: Browser, site_url: str, problems: BrowserProblems, **options
) -> BrowserContext:
    """A browser context for the site at `site_url` (its base URL, so `page.goto("/")` works).

    Requests anywhere else (the NHS fonts on assets.nhs.uk, say) are refused at once rather than
    left to time out, and whatever the browser complains about goes into `problems`. Keyword
    arguments go to `browser.new_context`; `java_script_enabled=False` for a browser without it.
    """
    context = browser.new_context(
        base_url=site_url, locale="en-GB", timezone_id="Europe/London", **options
    )
    # Short enough that a missing element fails fast, long enough for a busy shared machine.
    context.set_default_timeout(5_000)
    context.route(lambda url: not _same_origin(url, site_url), problems.block)
    problems.watch(context)
    if options.get("java_script_enabled") is False:
        _JAVASCRIPT_OFF.add(context)
    return context


def assert_no_axe_violations(page: Page, *, within: str | None = None) -> None:
    """Run axe-core on the page as it is now (or on the part matched by the CSS selector
    `within`) against WCAG 2.2 A and AA, and fail with a readable list of what it found.

    axe goes in through Playwright's evaluate, which the page's Content Security Policy does not
    govern (Chromium runs it as it would a DevTools console command), so axe runs with the CSP
    still enforced and the site's own scripts under test still held to it.
    """
    if page.context in _JAVASCRIPT_OFF:
        violations = _axe_copy_of_page_without_javascript(page, within)
    else:
        violations = _run_axe(page, within)
    assert not violations, _describe_violations(page.url, violations)


def _run_axe(page: Page, within: str | None) -> list[dict]:
    return _AXE.run(page, context=within, options=_AXE_OPTIONS).response["violations"]


def _axe_copy_of_page_without_javascript(page: Page, within: str | None) -> list[dict]:
    """axe needs timers and promises, which never run in a page with JavaScript off: there it
    would wait forever. So it checks a copy: the page's DOM as rendered without JavaScript, served
    at the same address, in a context whose CSP refuses every script of the page (only axe, which
    the CSP does not govern, runs). The rest of the site's policy applies, as it did to the page.
    """
    address = page.url.split("#", 1)[0]
    html = page.content()
    policy = build_policy({**settings.SECURE_CSP, "script-src": [CSP.NONE]})
    copy_context = page.context.browser.new_context(
        viewport=page.viewport_size, locale="en-GB", timezone_id="Europe/London"
    )
    try:
        copy_context.route(lambda url: not _same_origin(url, address), lambda route: route.abort())
        copy_context.route(
            lambda url: url == address,
            lambda route: route.fulfill(
                body=html,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": policy},
            ),
        )
        copy = copy_context.new_page()
        copy.goto(page.url)
        return _run_axe(copy, within)
    finally:
        copy_context.close()


def _same_origin(url: str, other: str) -> bool:
    first, second = urlsplit(url), urlsplit(other)
    return (first.scheme, first.netloc) == (second.scheme, second.netloc)


def _describe_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe found {len(violations)} WCAG 2.2 AA violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            # A target is a list of selectors: more than one when the element is in a frame.
            lines.append(f"    at {' >> '.join(node['target'])}")
        lines.append(f"    see {violation['helpUrl']}")
    return "\n".join(lines)


@dataclass
class BrowserProblems:
    """Everything the browser complained about while a test ran, across all of its pages.

    Requests the test setup blocks on purpose (anything not on the site's server, such as the NHS
    fonts on assets.nhs.uk) and error pages served on purpose (a 404 document) are not problems.
    """

    script_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    blocked_urls: set[str] = field(default_factory=set)
    error_documents: set[str] = field(default_factory=set)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", self._on_script_error)
        context.on("response", self._on_response)

    def block(self, route: Route) -> None:
        """A route handler that refuses a request and remembers it was refused on purpose."""
        self.blocked_urls.add(route.request.url)
        route.abort("blockedbyclient")

    def assert_none(self) -> None:
        """Fail if a script threw, the console showed an error, or the CSP refused anything."""
        found = [
            *(f"CSP violation: {text}" for text in self.csp_violations),
            *(f"Script error: {text}" for text in self.script_errors),
            *(f"Console error: {text}" for text in self.console_errors),
        ]
        assert not found, "The browser reported problems:\n" + "\n".join(found)

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if _CSP_REFUSAL in text:
            self.csp_violations.append(text)
            return
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if text.startswith(_FAILED_LOAD) and url in self.blocked_urls | self.error_documents:
            return
        self.console_errors.append(f"{text} ({url}:{message.location.get('lineNumber', 0)})")

    def _on_script_error(self, error: WebError) -> None:
        self.script_errors.append(str(error.error))

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.status >= 400:
            self.error_documents.add(response.url)


class KeyboardUser:
    """Someone using the site with a keyboard alone: Tab, Shift+Tab, Enter, Space and typing.

    A test written with this never clicks, so a control that cannot be reached or worked with
    the keyboard fails it. Use `page` (or `no_js_page`) directly only to look, never to act.
    """

    MAX_TABS = 60

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def focused(self) -> Locator:
        """The element that has focus now."""
        return self.page.locator(":focus")

    def tab(self, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press("Tab")

    def shift_tab(self, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press("Shift+Tab")

    def press(self, key: str) -> None:
        """Press a key on whatever has focus: "Enter" follows a link or submits, "Space" ticks."""
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        """Type into whatever has focus."""
        self.page.keyboard.type(text)

    def tab_to(self, target: Locator) -> None:
        """Press Tab until `target` has focus; fail if it is not in the tab order."""
        expect(target).to_have_count(1)
        for _ in range(self.MAX_TABS):
            self.tab()
            if self._has_focus(target):
                return
        raise AssertionError(f"{target} never got focus in {self.MAX_TABS} presses of Tab")

    def follow(self, target: Locator) -> None:
        """Tab to a link or button and press Enter on it."""
        self.tab_to(target)
        self.press("Enter")

    @staticmethod
    def _has_focus(target: Locator) -> bool:
        return target.evaluate("element => element === document.activeElement")
