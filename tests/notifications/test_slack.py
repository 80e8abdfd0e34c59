"""Slack end to end: the real slack-sdk WebClient against a local fake Slack Web API,
and signed interaction payloads posted to the real endpoint."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client, TestCase

from approvals import services
from approvals.models import ActionRequest
from audit.models import AuditEvent
from notifications.models import Delivery, SlackMessage
from notifications.services import link_chat_user
from tests.conftest import Api
from tests.factories import apply_policy, make_agent, make_person, quorum_policy
from tests.notifications.conftest import (
    TEAM,
    click,
    interaction_body,
    post_signed,
    signed_headers,
    slack_channel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(fake_slack, agent_api, reviewer):
    """A request pending for `reviewers`, announced in Slack; carol is linked."""
    apply_policy(quorum_policy(1))
    slack_channel()
    link_chat_user(
        email=reviewer.user.email,
        provider="slack",
        team_id=TEAM,
        chat_user_id="UCAROL",
        actor="system",
    )
    response = agent_api.file(
        {
            "action": "data.export",
            "resource": "pg://customers",
            "environment": "production",
            "justification": "weekly churn <!channel>",
            "on_behalf_of": "alice@example.com",
            "payload": {"query": "select 1"},
        }
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _message_ts(action_id: str) -> str:
    return SlackMessage.objects.get(action_id=action_id).ts


def _buttons(blocks) -> list[str]:
    return [
        element.get("action_id")
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_pending_request_arrives_in_slack_with_approve_and_deny(pending, fake_slack):
    [post] = fake_slack.of("chat.postMessage")
    assert post.params["channel"] == "C0REVIEWS"
    assert post.headers["Authorization"] == "Bearer xoxb-test-token"
    assert _buttons(post.params["blocks"]) == ["approve", "deny", "open"]
    text = str(post.params["blocks"])
    for fact in (
        "data.export",
        "pg://customers",
        "production",
        "agent etl-bot",
        "owner@example.com",
        "alice@example.com",
        "0 of 1 from reviewers",
    ):
        assert fact in text
    # User text cannot mention the channel; the payload is the masked excerpt only.
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert '{"query": "select 1"}' in text
    delivery = Delivery.objects.get(kind="slack_post")
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_linked_reviewer_approves_by_click_and_the_message_is_updated(pending, fake_slack):
    response = post_signed(click(pending, user="UCAROL", ts=_message_ts(pending)))
    assert response.status_code == 200
    action = ActionRequest.objects.get(pk=pending)
    assert action.status == "approved"
    assert action.reviews.get().via == "slack"
    [update] = fake_slack.of("chat.update")
    assert update.params["ts"] == _message_ts(pending)
    assert _buttons(update.params["blocks"]) == []
    assert "Approved by carol@example.com at" in str(update.params["blocks"])
    [told] = fake_slack.of("chat.postEphemeral")
    assert (told.params["user"], told.params["text"]) == ("UCAROL", "You approved this request.")


def test_a_console_approval_updates_the_slack_message(pending, fake_slack, reviewer):
    response = Api(reviewer.token).approve(pending, "fine")
    assert response.status_code == 200
    [update] = fake_slack.of("chat.update")
    assert _buttons(update.params["blocks"]) == []
    assert "Approved by carol@example.com" in update.params["text"]


@pytest.mark.parametrize("who", ["owner", "on_behalf_of"])
def test_the_owner_and_the_on_behalf_of_person_are_refused_with_self_approval(
    pending, fake_slack, who
):
    email = "owner@example.com" if who == "owner" else "alice@example.com"
    make_person(email, groups=["reviewers"])
    link_chat_user(
        email=email, provider="slack", team_id=TEAM, chat_user_id="USELF", actor="system"
    )
    response = post_signed(click(pending, user="USELF", ts=_message_ts(pending)))
    assert response.status_code == 200
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    [told] = fake_slack.of("chat.postEphemeral")
    assert told.params["text"].startswith("Refused (self_approval)")
    refused = AuditEvent.objects.get(event_type="action.review_refused")
    assert refused.actor == f"user:{email}"
    assert refused.data == {"verdict": "approve", "code": "self_approval", "via": "slack"}
    assert fake_slack.of("chat.update") == []


def test_an_outsider_is_refused_as_not_a_reviewer(pending, fake_slack, outsider):
    link_chat_user(
        email=outsider.user.email,
        provider="slack",
        team_id=TEAM,
        chat_user_id="UMAL",
        actor="system",
    )
    post_signed(click(pending, user="UMAL", ts=_message_ts(pending)))
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    assert (
        fake_slack.of("chat.postEphemeral")[0].params["text"].startswith("Refused (not_a_reviewer)")
    )


def test_a_clicker_from_another_team_is_refused_even_with_a_linked_id(pending, fake_slack):
    # The same user id in another workspace (Slack Connect) is somebody else.
    response = post_signed(click(pending, user="UCAROL", team="T0OTHER", ts=_message_ts(pending)))
    assert response.status_code == 200
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    refused = AuditEvent.objects.get(event_type="chat.click_refused")
    assert refused.data["reason"] == "other_team"
    assert "not connected" in fake_slack.of("chat.postEphemeral")[0].params["text"]


def test_an_unlinked_clicker_gets_a_link_and_no_review(pending, fake_slack, second_reviewer):
    post_signed(click(pending, user="UDAVE", ts=_message_ts(pending)))
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    text = fake_slack.of("chat.postEphemeral")[0].params["text"]
    link = text.rsplit(" ", 1)[-1]
    assert "/notifications/link/slack?token=" in link
    # Following it, signed in, binds that Slack id to whoever confirms.
    browser = Client()
    browser.force_login(second_reviewer.user)
    path = link.split("127.0.0.1:8000", 1)[1]
    assert browser.get(path).status_code == 200
    token = path.split("token=", 1)[1]
    browser.post("/notifications/link/slack", {"token": token})
    post_signed(click(pending, user="UDAVE", ts=_message_ts(pending)))
    assert ActionRequest.objects.get(pk=pending).status == "approved"


def test_deny_opens_a_modal_that_requires_a_reason(pending, fake_slack):
    ts = _message_ts(pending)
    post_signed(click(pending, user="UCAROL", which="deny", ts=ts))
    [opened] = fake_slack.of("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "deny_reason"

    def submit(reason: str):
        return post_signed(
            {
                "type": "view_submission",
                "team": {"id": TEAM},
                "user": {"id": "UCAROL", "team_id": TEAM},
                "view": {
                    "id": "V0MODAL",
                    "type": "modal",
                    "callback_id": "deny_reason",
                    "private_metadata": view["private_metadata"],
                    "state": {
                        "values": {
                            "reason": {"reason": {"type": "plain_text_input", "value": reason}}
                        }
                    },
                },
            }
        )

    empty = submit("   ")
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "A reason is required to deny."},
    }
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    assert submit("exports of customers need a ticket").status_code == 200
    action = ActionRequest.objects.get(pk=pending)
    assert action.status == "denied"
    assert action.reviews.get().comment == "exports of customers need a ticket"
    assert "Denied by carol@example.com" in fake_slack.of("chat.update")[0].params["text"]


def _refusals() -> list[str]:
    return list(
        AuditEvent.objects.filter(event_type="integration.signature_refused").values_list(
            "data__reason", flat=True
        )
    )


def test_forged_expired_and_replayed_signatures_are_refused_and_audited(pending, fake_slack):
    payload = click(pending, user="UCAROL", ts=_message_ts(pending))
    assert post_signed(payload, secret="not-the-signing-secret").status_code == 401
    assert post_signed(payload, timestamp=int(time.time()) - 6 * 60).status_code == 401
    body = interaction_body(payload)
    headers = signed_headers(body)
    junk = {**headers, "HTTP_X_SLACK_REQUEST_TIMESTAMP": "soon"}
    assert post_signed(payload, headers=junk).status_code == 401
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    assert post_signed(payload, headers=headers).status_code == 200  # the genuine one
    assert post_signed(payload, headers=headers).status_code == 401  # the same, again
    assert _refusals() == ["forged", "expired", "malformed", "replayed"]
    assert ActionRequest.objects.get(pk=pending).reviews.count() == 1


def test_a_link_mode_channel_offers_only_open_and_refuses_a_click(fake_slack, agent_api, reviewer):
    apply_policy(quorum_policy(1))
    slack_channel(mode="link")
    link_chat_user(
        email=reviewer.user.email,
        provider="slack",
        team_id=TEAM,
        chat_user_id="UCAROL",
        actor="system",
    )
    action_id = agent_api.file({"action": "key.rotate", "resource": "kms://k"}).json()["id"]
    [post] = fake_slack.of("chat.postMessage")
    assert _buttons(post.params["blocks"]) == ["open"]
    post_signed(click(action_id, user="UCAROL", ts=_message_ts(action_id)))
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    assert AuditEvent.objects.get(event_type="chat.click_refused").data["reason"] == "link_only"


def test_a_review_short_of_the_quorum_rewrites_the_progress_and_keeps_the_buttons(
    fake_slack, agent_api, reviewer, second_reviewer
):
    apply_policy(quorum_policy(2))
    slack_channel()
    action_id = agent_api.file({"action": "key.rotate", "resource": "kms://k"}).json()["id"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.approve(action_id=action_id, actor=reviewer.user)
    [update] = fake_slack.of("chat.update")
    assert "1 of 2 from reviewers" in str(update.params["blocks"])
    assert _buttons(update.params["blocks"]) == ["approve", "deny", "open"]


def test_a_request_that_becomes_pending_after_screening_is_announced(fake_slack, reviewer):
    apply_policy(
        "default: {effect: allow}\nrules:\n  - name: pii\n"
        "    match: {data_classes: [EMAIL_ADDRESS]}\n"
        "    effect: require_approval\n    reviewers: [reviewers]\n"
    )
    slack_channel()
    agent = make_agent(make_person("owner@example.com").user, "etl-bot")
    response = Api(agent.token).file(
        {"action": "data.export", "resource": "db://x", "payload": {"to": "dana.smith@example.com"}}
    )
    assert response.json()["status"] == "screening"  # the response predates the worker
    assert ActionRequest.objects.get(pk=response.json()["id"]).status == "pending"
    [post] = fake_slack.of("chat.postMessage")
    text = str(post.params["blocks"])
    assert "EMAIL_ADDRESS" in text
    assert "<EMAIL_ADDRESS>" in text.replace("&lt;", "<").replace("&gt;", ">")
    assert "dana.smith" not in text


def test_the_events_endpoint_answers_slacks_url_verification_when_signed(fake_slack):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
    response = Client().post(
        "/integrations/slack/events",
        body,
        content_type="application/json",
        **signed_headers(body),
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}
    unsigned = Client().post("/integrations/slack/events", body, content_type="application/json")
    assert unsigned.status_code == 401


def test_expiry_and_cancellation_rewrite_the_message_too(pending, fake_slack, agent_api):
    from datetime import timedelta

    from django.utils import timezone

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.expire_overdue(now=timezone.now() + timedelta(days=2)) == 1
    [update] = fake_slack.of("chat.update")
    assert update.params["text"].startswith("Expired at ")
    assert _buttons(update.params["blocks"]) == []
    assert update.params["blocks"][0]["text"]["text"] == "Expired: data.export on pg://customers"

    other = agent_api.file({"action": "key.rotate", "resource": "kms://k"}).json()["id"]
    agent_api.post(f"/api/v1/actions/{other}/cancel")
    cancelled = fake_slack.of("chat.update")[-1]
    assert cancelled.params["text"].startswith("Cancelled by agent etl-bot at ")
