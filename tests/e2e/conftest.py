"""Fixtures of the browser tests: a real ASGI server on the test database, one
Chromium per test, and a console full of the requests a reviewer meets."""

from __future__ import annotations

import pytest

from tests.live import running_server


@pytest.fixture
def server():
    with running_server() as url:
        yield url


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def console():
    """Made before the browser starts: Playwright's sync API runs an event loop in
    this thread, and Django refuses database calls from one."""
    from tests.e2e.scenario import build

    return build()
