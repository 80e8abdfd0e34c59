"""The reviewer console's pages: sign-in, the queue, the request page, lists."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.django_db


def test_it_asks_for_a_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_a_local_account_signs_in_and_sees_what_waits_for_it(client, agent_api, reviewer, outsider):
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"})
    page = client.post(
        "/accounts/login/",
        {"username": reviewer.user.email, "password": "correct horse battery staple"},
    )
    assert page.status_code == 302
    queue = client.get("/")
    assert b"cluster.restart" in queue.content
    assert b"etl-bot" in queue.content


def test_the_owner_does_not_see_their_agents_request_in_their_queue(client, agent_api, agent_owner):
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"})
    client.force_login(agent_owner.user)
    assert b"cluster.restart" not in client.get("/").content
    assert b"Nothing is waiting for you" in client.get("/").content


def test_a_reviewed_request_leaves_the_queue(client, agent_api, reviewer):
    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    Api(reviewer.token).approve(action_id)
    client.force_login(reviewer.user)
    assert b"cluster.restart" not in client.get("/").content


def test_a_wrong_password_is_refused(client, reviewer):
    page = client.post("/accounts/login/", {"username": reviewer.user.email, "password": "nope"})
    assert page.status_code == 200
    assert b"did not match" in page.content


def test_approving_in_the_console_goes_through_the_same_gate(client, agent_api, reviewer):
    from approvals.models import ActionRequest
    from audit.models import AuditEvent

    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    client.force_login(reviewer.user)
    page = client.get(f"/actions/{action_id}/")
    assert b'id="approve-button"' in page.content
    response = client.post(f"/actions/{action_id}/approve", {"comment": "ship it"})
    assert response.status_code == 302
    assert ActionRequest.objects.get(pk=action_id).status == "approved"
    assert AuditEvent.objects.get(event_type="action.reviewed").data["via"] == "console"


def test_self_approval_in_the_console_is_refused_and_audited(client, agent_api, agent_owner):
    from approvals.models import ActionRequest
    from audit.models import AuditEvent

    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    client.force_login(agent_owner.user)
    page = client.get(f"/actions/{action_id}/")
    assert b'id="approve-button"' not in page.content
    assert b"cannot approve their own action" in page.content
    # A hand-made POST meets the same refusal as the API.
    response = client.post(f"/actions/{action_id}/approve", follow=True)
    assert b"cannot approve their own action" in response.content
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    refused = AuditEvent.objects.get(event_type="action.review_refused")
    assert refused.data == {"verdict": "approve", "code": "self_approval", "via": "console"}


def test_denying_in_the_console_needs_a_reason(client, agent_api, reviewer):
    from approvals.models import ActionRequest

    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    client.force_login(reviewer.user)
    response = client.post(f"/actions/{action_id}/deny", {"reason": "  "}, follow=True)
    assert b"a reason is required to deny" in response.content
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    client.post(f"/actions/{action_id}/deny", {"reason": "not during the freeze"})
    assert ActionRequest.objects.get(pk=action_id).status == "denied"


def test_an_outsider_cannot_open_or_decide_a_request(client, agent_api, outsider):
    from approvals.models import ActionRequest

    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    client.force_login(outsider.user)
    assert client.get(f"/actions/{action_id}/").status_code == 404
    client.post(f"/actions/{action_id}/approve")
    assert ActionRequest.objects.get(pk=action_id).status == "pending"


def test_console_posts_need_csrf(agent_api, reviewer):
    from django.test import Client

    from approvals.models import ActionRequest

    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer.user)
    assert client.post(f"/actions/{action_id}/approve").status_code == 403
    assert ActionRequest.objects.get(pk=action_id).status == "pending"


def test_every_page_carries_a_strict_content_security_policy(client, reviewer):
    client.force_login(reviewer.user)
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert client.get("/api/v1/actions")["Content-Security-Policy"] == policy
    # drf-spectacular's Swagger page bootstraps with an inline script: only it is relaxed.
    assert "'unsafe-inline'" in client.get("/api/docs/")["Content-Security-Policy"]


def test_the_oidc_provider_is_an_allowed_form_target(client, settings):
    settings.OIDC = {**settings.OIDC, "SERVER_URL": "https://idp.example.com/realms/x"}
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "form-action 'self' https://idp.example.com;" in policy


def test_my_requests_lists_what_i_answer_for(client, agent_api, agent_owner, reviewer):
    agent_api.file({"action": "cluster.restart", "resource": "k8s://mine"})
    Api(reviewer.token).file({"action": "key.rotate", "resource": "kms://carols"})
    client.force_login(agent_owner.user)
    page = client.get("/mine/")
    assert b"k8s://mine" in page.content
    assert b"kms://carols" not in page.content


def test_history_filters_what_i_may_see(client, agent_api, reviewer, outsider):
    agent_api.file({"action": "data.export", "resource": "pg://customers"})
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"})
    client.force_login(reviewer.user)
    assert b"pg://customers" in client.get("/history/").content
    filtered = client.get("/history/", {"action": "data.*"}).content
    assert b"pg://customers" in filtered
    assert b"k8s://prod" not in filtered
    assert b"k8s://prod" in client.get("/history/", {"q": "k8s"}).content
    assert b"k8s://prod" not in client.get("/history/", {"status": "approved"}).content
    client.force_login(outsider.user)
    assert b"pg://customers" not in client.get("/history/").content


def test_the_audit_browser_is_for_auditors(client, agent_api, auditor, reviewer):
    agent_api.file({"action": "data.export", "resource": "pg://customers"})
    client.force_login(reviewer.user)
    assert client.get("/audit/").status_code == 404
    client.force_login(auditor.user)
    page = client.get("/audit/", {"type": "action.created"})
    assert page.status_code == 200
    assert b"agent:etl-bot" in page.content
    assert b"token.created" not in page.content


def test_lists_are_paginated(client, agent_api, agent_owner):
    for index in range(55):
        agent_api.file({"action": "x.y", "resource": f"r://{index}"})
    client.force_login(agent_owner.user)
    first = client.get("/mine/").content
    assert b"Page 1 of 2" in first
    assert b"r://54" in first
    assert b"r://0<" in client.get("/mine/", {"page": 2}).content


# --- masked payloads and reveal -------------------------------------------------------

REVEAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
PII = {"action": "data.export", "resource": "db://crm", "payload": {"to": "lee.chan@example.com"}}


def test_the_request_page_shows_the_masked_payload_and_asks_a_reason_to_reveal(
    client, agent_api, reviewer, settings
):
    settings.PAYLOAD_ENCRYPTION_KEY = REVEAL_KEY
    action_id = agent_api.file(PII).json()["id"]
    client.force_login(reviewer.user)
    page = client.get(f"/actions/{action_id}/").content.decode()
    assert "&lt;EMAIL_ADDRESS&gt;" in page
    assert "lee.chan" not in page
    assert 'id="reveal-reason"' in page
    assert "required" in page

    refused = client.post(f"/actions/{action_id}/reveal", {"reason": ""}, follow=True)
    assert "lee.chan" not in refused.content.decode()
    assert "a reason is required" in refused.content.decode()

    shown = client.post(f"/actions/{action_id}/reveal", {"reason": "verify the recipient"})
    assert shown.status_code == 200
    assert shown["Cache-Control"] == "no-store"
    assert "lee.chan@example.com" in shown.content.decode()
    # Shown once: the page itself still shows only the masked copy.
    assert "lee.chan" not in client.get(f"/actions/{action_id}/").content.decode()


def test_the_owner_is_not_offered_reveal_and_cannot_force_it(
    client, agent_api, agent_owner, settings
):
    settings.PAYLOAD_ENCRYPTION_KEY = REVEAL_KEY
    action_id = agent_api.file(PII).json()["id"]
    client.force_login(agent_owner.user)
    assert 'id="reveal-form"' not in client.get(f"/actions/{action_id}/").content.decode()
    forced = client.post(f"/actions/{action_id}/reveal", {"reason": "mine"}, follow=True)
    assert "lee.chan" not in forced.content.decode()


def test_without_a_key_the_page_says_the_original_is_not_kept(client, agent_api, reviewer):
    action_id = agent_api.file(PII).json()["id"]
    client.force_login(reviewer.user)
    page = client.get(f"/actions/{action_id}/").content.decode()
    assert "The original is not kept" in page
    assert 'id="reveal-form"' not in page
