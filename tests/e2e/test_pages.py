"""Every console page in Chromium at desktop and phone width, in light and dark mode:
axe-core finds no serious or critical violation, no script error or CSP violation
happens, and a screenshot is taken (to tests/artifacts/screens, or to the folder in
SCREENSHOTS_DIR: ``SCREENSHOTS_DIR=docs/screenshots`` refreshes the README's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.browser import ARTIFACTS, axe_violations, sign_in, watched

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SCHEMES = ("light", "dark")


def pages(console) -> list[tuple[str, str, str]]:
    """(name, who signs in, path)."""
    reviewer, admin, auditor = (
        console.reviewer.user.email,
        console.admin.user.email,
        console.auditor.user.email,
    )
    return [
        ("queue", reviewer, "/"),
        ("request", reviewer, f"/actions/{console.ids['export']}/"),
        ("request-secret", reviewer, f"/actions/{console.ids['rotate']}/"),
        ("own-request", console.owner.user.email, f"/actions/{console.ids['restart']}/"),
        ("my-requests", console.owner.user.email, "/mine/"),
        ("history", reviewer, "/history/"),
        ("agents-reviewer", reviewer, "/agents/"),
        ("agents-admin", admin, "/agents/"),
        ("tokens", reviewer, "/tokens/"),
        ("dashboard", admin, "/dashboard/"),
        ("audit", auditor, "/audit/"),
        ("policies", auditor, "/policies/"),
        ("policy", auditor, "/policies/1/"),
    ]


def shots_dir() -> Path:
    chosen = os.environ.get("SCREENSHOTS_DIR")
    folder = Path(chosen) if chosen else ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.timeout(600)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_is_accessible_and_photographed(server, console, browser, viewport, scheme):
    folder = shots_dir()
    by_person: dict[str, list[tuple[str, str]]] = {}
    for name, email, path in pages(console):
        by_person.setdefault(email, []).append((name, path))
    problems: dict[str, list] = {}
    all_errors: list[str] = []

    login = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
    page = login.new_page()
    all_errors += watched(page)
    page.goto(f"{server}/accounts/login/")
    if found := axe_violations(page):
        problems["login"] = found
    page.screenshot(path=str(folder / f"login-{viewport}-{scheme}.png"), full_page=True)
    login.close()

    for email, visits in by_person.items():
        context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
        page = context.new_page()
        all_errors += watched(page)
        sign_in(page, server, email)
        for name, path in visits:
            page.goto(f"{server}{path}")
            page.wait_for_load_state("networkidle")
            if found := axe_violations(page):
                problems[name] = found
            page.screenshot(path=str(folder / f"{name}-{viewport}-{scheme}.png"), full_page=True)
        context.close()
    assert problems == {}
    assert all_errors == []
