"""Playwright against pytest-django's live server, driving Debian's Chromium.

Never runs ``playwright install``: the browser is the system one (tests.services.CHROMIUM);
the root conftest skips ``browser``-marked tests, and reports it, where it is missing.
"""

import os
from pathlib import Path

import pytest

from tests import services

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse
# the ORM calls the tests (and the live server's fixtures) make from it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def pytest_collection_modifyitems(config, items):
    """The live server reads the dashboards from the read-replica alias (voc.core.db_routers:
    outside a transaction, as a browser's requests are; tests/settings.py mirrors it onto the
    test database), so every browser test may use it beside the default database."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(
                pytest.mark.django_db(transaction=True, databases="__all__"), append=False
            )


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    if problem := services.browser_problem():  # direct runs without the marker still skip
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=services.CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh context (no cookies, no storage) and page per test, aimed at the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
