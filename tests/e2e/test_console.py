"""The console in a real browser: Debian's Chromium driven by Playwright, against a
real ASGI server (uvicorn) on the test database. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from tests.factories import make_agent, make_person
from tests.live import running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "correct horse battery staple"

playwright_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else None
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium for the browser tests")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    with running_server() as url:
        yield url


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


def sign_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Waiting for your review")).to_be_visible()


def file_action(server: str, token: str, action: str) -> str:
    response = httpx.post(
        f"{server}/api/v1/actions",
        json={"action": action, "resource": "k8s://prod/api", "justification": "rollout"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def people():
    """Made before the browser starts: Playwright's sync API runs an event loop in
    this thread, and Django refuses database calls from one."""
    owner = make_person("owner@example.com", groups=["reviewers"])
    reviewer = make_person("carol@example.com", groups=["reviewers"])
    agent = make_agent(owner.user, name="deploy-bot")
    return owner, reviewer, agent


def watched_page(browser):
    """A page whose console errors (CSP violations among them) fail the test."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def test_a_reviewer_sees_a_new_request_arrive_and_approves_it(server, people, browser):
    _, reviewer, agent = people
    ARTIFACTS.mkdir(exist_ok=True)

    page, errors = watched_page(browser)
    sign_in(page, server, reviewer.user.email)
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("Live")

    action_id = file_action(server, agent.token, "cluster.restart")
    row = page.locator(f'tr[data-action-id="{action_id}"]')
    expect(row).to_be_visible(timeout=5000)  # arrived over the websocket: no reload
    expect(row).to_contain_text("deploy-bot (owner owner@example.com)")
    expect(row.locator("time[data-expires]")).to_have_text(re.compile(r"^(59m|1h 0m) \d\ds$"))
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

    row.get_by_role("link", name="cluster.restart").click()
    expect(page.get_by_role("heading", name="cluster.restart")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "request.png"), full_page=True)
    page.keyboard.press("a")  # the shortcut puts the focus on Approve
    expect(page.get_by_role("button", name="Approve")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Approved.")).to_be_visible()
    expect(page.locator(f'tr[data-action-id="{action_id}"]')).to_have_count(0)
    status = httpx.get(
        f"{server}/api/v1/actions/{action_id}",
        headers={"Authorization": f"Bearer {agent.token}"},
        timeout=10,
    ).json()["status"]
    assert status == "approved"
    assert errors == []  # no script errors, no Content-Security-Policy violations


def test_the_owner_sees_why_they_cannot_approve_their_own_request(server, people, browser):
    owner, _, agent = people
    action_id = file_action(server, agent.token, "cluster.restart")

    page, errors = watched_page(browser)
    sign_in(page, server, owner.user.email)
    expect(page.locator(f'tr[data-action-id="{action_id}"]')).to_have_count(0)
    page.goto(f"{server}/actions/{action_id}/")
    expect(page.get_by_role("heading", name="cluster.restart")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.locator("#why-not")).to_contain_text("cannot approve their own action")
    page.screenshot(path=str(ARTIFACTS / "own-request.png"), full_page=True)
    assert errors == []
