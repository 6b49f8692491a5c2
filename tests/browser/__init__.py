"""Browser tests: Playwright driving Debian's chromium against the site served by uvicorn."""
