"""The console in a real browser: Debian's Chromium driven by Playwright, against a
real ASGI server (uvicorn) on the test database. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.browser import ARTIFACTS, axe_violations, sign_in, watched
from tests.factories import make_agent, make_person

from playwright.sync_api import expect  # isort: skip  (after the skip in browser)

pytestmark = pytest.mark.django_db(transaction=True)


def file_action(server: str, token: str, action: str, **extra: object) -> str:
    response = httpx.post(
        f"{server}/api/v1/actions",
        json={"action": action, "resource": "k8s://prod/api", "justification": "rollout", **extra},
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


def test_a_reviewer_sees_a_new_request_arrive_and_approves_it(server, people, browser):
    _, reviewer, agent = people
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page()
    errors = watched(page)
    sign_in(page, server, reviewer.user.email)
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("Live")

    action_id = file_action(server, agent.token, "cluster.restart", environment="production")
    row = page.locator(f'tr[data-action-id="{action_id}"]')
    expect(row).to_be_visible(timeout=5000)  # arrived over the websocket: no reload
    expect(row).to_contain_text("deploy-bot")
    expect(row).to_contain_text("owner owner@example.com")
    expect(row.locator(".badge-prod")).to_have_text(re.compile("production", re.IGNORECASE))
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

    page = browser.new_page()
    errors = watched(page)
    sign_in(page, server, owner.user.email)
    expect(page.locator(f'tr[data-action-id="{action_id}"]')).to_have_count(0)
    page.goto(f"{server}/actions/{action_id}/")
    expect(page.get_by_role("heading", name="cluster.restart")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.locator("#why-not")).to_contain_text("cannot approve their own action")
    page.screenshot(path=str(ARTIFACTS / "own-request.png"), full_page=True)
    assert errors == []


# --- with the full scenario (tests/e2e/scenario.py) ------------------------------------


def test_queue_filters_keys_and_live_updates(server, console, browser):
    page = browser.new_page()
    errors = watched(page)
    sign_in(page, server, console.reviewer.user.email)
    rows = page.locator("#queue-rows tr.row")
    expect(rows).to_have_count(4)

    # Filters: environment, then data class, rule and agent; each one reloads the page.
    page.get_by_label("Environment", exact=True).select_option("production")
    expect(rows).to_have_count(2)
    expect(page.locator("#queue-rows")).not_to_contain_text("cluster.restart")
    page.get_by_label("Data class", exact=True).select_option("EMAIL_ADDRESS")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("data.export")
    page.goto(f"{server}/?rule=personal-data")
    expect(rows).to_have_count(1)
    page.goto(f"{server}/?agent=deploy-bot&sort=newest")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("cluster.restart")  # newest of deploy-bot's
    # Not an entity type (they are upper case): ignored. (A NUL in any query string is
    # refused with 400 before a view runs: tests/test_bad_input.py.)
    page.goto(f"{server}/?data_class=email")
    expect(rows).to_have_count(4)

    # Sort by expiry (the default): the old DNS change expires first.
    page.goto(f"{server}/")
    expect(rows.first).to_contain_text("dns.update")
    expect(page.locator("#live-status")).to_contain_text("Live")

    # Keys: j/k move, Enter opens, a and d open with the decision in focus.
    page.keyboard.press("j")
    expect(rows.nth(0).locator("a.request-link")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows.nth(2).locator("a.request-link")).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(1).locator("a.request-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    page.go_back()
    expect(page.locator("#live-status")).to_contain_text("Live")
    page.keyboard.press("j")
    page.keyboard.press("d")
    expect(page.locator("#reason")).to_be_focused()
    page.go_back()
    expect(page.locator("#live-status")).to_contain_text("Live")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.get_by_role("button", name="Approve")).to_be_focused()

    # Live updates keep the filters: a staging filing does not show under production.
    page.goto(f"{server}/?environment=production")
    expect(page.locator("#live-status")).to_contain_text("Live")
    staging = file_action(
        server, console.deploy.token, "cache.flush", environment="staging", resource="redis://s"
    )
    prod = file_action(server, console.deploy.token, "cache.flush", environment="production")
    expect(page.locator(f'tr[data-action-id="{prod}"]')).to_be_visible(timeout=5000)
    expect(page.locator(f'tr[data-action-id="{staging}"]')).to_have_count(0)
    assert axe_violations(page) == []
    assert errors == []


def test_a_production_request_with_personal_data_reads_at_a_glance(server, console, browser):
    page = browser.new_page()
    errors = watched(page)
    sign_in(page, server, console.reviewer.user.email)
    page.goto(f"{server}/actions/{console.ids['export']}/")

    expect(page.get_by_role("heading", name="data.export")).to_be_visible()
    summary = page.locator("section.summary")
    expect(summary.locator(".badge-prod")).to_contain_text("production")
    expect(summary.locator(".badge-pii")).to_have_text(["email address", "phone number"])
    expect(page.locator("#requester")).to_contain_text("etl-bot")
    expect(page.locator("#justification")).to_contain_text("FIN-2231")
    # Human times, the exact time in the reader's zone on hover.
    filed = summary.locator("dd time[data-local]").first
    expect(filed).to_have_text(re.compile(r"just now|\d+ min ago"))
    expect(filed).to_have_attribute("title", re.compile(r"\d{4}.*\d\d:\d\d:\d\d"))
    expect(summary.locator("time[data-expires]")).to_have_text(re.compile(r"^1h 59m \d\ds left$"))
    # The masked payload: placeholders marked by type; nothing of the original.
    expect(page.locator("#payload mark.finding-pii")).to_have_count(2)
    expect(page.locator("#payload")).not_to_contain_text("lee.chan")
    # Long lines wrap inside the box.
    wraps = "() => { const p = document.getElementById('payload'); "
    wraps += "return p.scrollWidth <= p.clientWidth; }"
    assert page.evaluate(wraps)
    # Context, per-requirement progress, and the change since the approved export.
    expect(page.locator("#context")).to_contain_text("run-7f3a9c")
    expect(page.locator("#context")).to_contain_text("gpt-4.1")
    expect(page.locator("#requirements li")).to_have_count(2)
    expect(page.locator("#requirements")).to_contain_text("production-changes: 0 of 2")
    expect(page.locator("#requirements")).to_contain_text("personal-data: 0 of 1")
    expect(page.locator("#changes .add")).to_contain_text(['"rows": 50000'])
    expect(page.locator("#changes .del")).to_contain_text(['"rows": 1000'])
    assert axe_violations(page) == []

    # Approve and Deny are distinct; denying asks for its reason inline.
    approve, deny = page.locator("#approve-button"), page.locator("#deny-button")
    assert approve.evaluate("b => getComputedStyle(b).backgroundColor") != deny.evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    deny.click()  # no reason: the browser holds the form
    expect(page.locator("#reason")).to_be_focused()
    assert page.locator("#reason").evaluate("t => t.validity.valueMissing")
    page.locator("#reason").fill("Too many rows for a churn study.")
    deny.click()
    expect(page.get_by_text("Denied.")).to_be_visible()
    page.goto(f"{server}/actions/{console.ids['export']}/")
    expect(page.locator("section.summary .badge-status-denied")).to_have_text("denied")
    expect(page.locator("#reviews")).to_contain_text("Too many rows")
    assert errors == []


def test_the_dashboard_and_the_audit_browser(server, console, browser):
    page = browser.new_page()
    errors = watched(page)
    sign_in(page, server, console.admin.user.email)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator("#self-approvals")).to_have_text("1")
    expect(page.locator("#pending-total")).to_have_text("4")
    expect(page.locator("#total-requests")).to_have_text("10")
    expect(page.locator("svg.chart rect.seg-approved")).not_to_have_count(0)
    expect(page.locator("svg.chart rect.seg-denied")).not_to_have_count(0)
    expect(page.locator("#top-agents li").first).to_contain_text("deploy-bot")
    expect(page.locator("#decision-p50")).to_contain_text("min")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#chain-ok")).to_contain_text("Verified")
    expect(page.locator("#checkpoint")).to_contain_text("signature verifies")
    refused = page.locator("#events tr", has_text="action.review_refused").first
    expect(refused).to_contain_text('"code": "self_approval"')
    refused.locator("td[data-label=Target] a").first.click()
    expect(page.get_by_role("heading", name="cluster.restart")).to_be_visible()
    assert errors == []

    # A reviewer is offered neither page, and cannot open them.
    reviewer = browser.new_page()
    sign_in(reviewer, server, console.reviewer.user.email)
    expect(reviewer.get_by_role("link", name="Dashboard")).to_have_count(0)
    assert reviewer.goto(f"{server}/dashboard/").status == 404
    assert reviewer.goto(f"{server}/audit/").status == 404
