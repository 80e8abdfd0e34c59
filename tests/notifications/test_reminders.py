"""Reminders and escalation per policy rule: they notify, once each, and never
decide anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, TestCase

from approvals.models import ActionRequest
from audit.models import AuditEvent
from notifications import reminders, tasks
from notifications.models import Channel, SlackMessage
from policies.document import PolicyDocumentError, parse_document
from tests.conftest import Api
from tests.factories import apply_policy, make_person
from tests.notifications.conftest import slack_channel

pytestmark = pytest.mark.django_db

POLICY = """
default: {effect: allow}
rules:
  - name: key-rotation
    match: {action: key.rotate}
    effect: require_approval
    reviewers: [reviewers]
    timeout: 4h
    remind_after: 30m
    escalate_after: {after: 1h, to: [oncall]}
"""


def _run(now) -> list[int]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        ids = reminders.remind_due(now=now)
        tasks.enqueue(ids)
    return ids


def _buttons(blocks) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_reminder_then_an_escalation_each_once_and_never_a_decision(
    fake_slack, agent_api, reviewer
):
    apply_policy(POLICY)
    slack_channel()
    Channel.objects.create(kind="slack", name="oncall", target="C0ONCALL", groups=["oncall"])
    make_person("pager@example.com", groups=["oncall"])
    action_id = agent_api.file({"action": "key.rotate", "resource": "kms://k"}).json()["id"]
    filed = ActionRequest.objects.get(pk=action_id).created_at
    assert len(fake_slack.of("chat.postMessage")) == 1

    assert _run(filed + timedelta(minutes=29)) == []
    assert len(_run(filed + timedelta(minutes=31))) == 1
    assert _run(filed + timedelta(minutes=45)) == []  # once
    reminder = fake_slack.of("chat.postMessage")[1]
    assert reminder.params["thread_ts"] == SlackMessage.objects.get(channel__name="reviews").ts
    assert reminder.params["channel"] == "C0REVIEWS"
    assert reminder.params["text"].startswith("Reminder:")

    assert len(_run(filed + timedelta(minutes=61))) == 1
    assert _run(filed + timedelta(minutes=90)) == []
    escalation = fake_slack.of("chat.postMessage")[2]
    assert escalation.params["channel"] == "C0ONCALL"
    # oncall is told, not made a reviewer: a link, not buttons that would be refused.
    assert _buttons(escalation.params["blocks"]) == ["open"]
    assert "Escalated" in str(escalation.params["blocks"])

    action = ActionRequest.objects.get(pk=action_id)
    assert action.status == "pending"
    assert not action.reviews.exists()
    assert AuditEvent.objects.get(event_type="action.reminded").data == {
        "groups": ["reviewers"],
        "after_seconds": 1800,
    }
    assert AuditEvent.objects.get(event_type="action.escalated").data == {
        "groups": ["oncall"],
        "after_seconds": 3600,
    }
    console = Client()
    console.force_login(reviewer.user)
    assert "action.escalated" in console.get(f"/actions/{action_id}/").content.decode()

    # A decision rewrites every message about the request, the escalated one too.
    Api(reviewer.token).approve(action_id)
    assert {u.params["channel"] for u in fake_slack.of("chat.update")} == {"C0REVIEWS", "C0ONCALL"}
    assert _run(filed + timedelta(hours=3)) == []


def test_requests_without_timers_are_left_alone(fake_slack, agent_api):
    apply_policy("default: {effect: require_approval, reviewers: [reviewers]}\n")
    slack_channel()
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    filed = ActionRequest.objects.get().created_at
    assert _run(filed + timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ("remind_after: soon", "rules[0].remind_after"),
        ("escalate_after: {after: 1h}", "rules[0].escalate_after.to"),
        ("escalate_after: {after: 1h, to: [oncall], when: x}", "rules[0].escalate_after.when"),
        ("escalate_after: {after: 5s, to: [oncall]}", "rules[0].escalate_after.after"),
    ],
)
def test_bad_timers_are_refused_with_their_key(rule, key):
    document = (
        f"rules:\n  - name: r\n    match: {{action: x}}\n    effect: require_approval\n    {rule}\n"
    )
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document(document)
    assert key in [p.key for p in caught.value.problems]


def test_timers_only_mean_something_on_an_approval_rule():
    with pytest.raises(PolicyDocumentError, match="only meaningful"):
        parse_document(
            "rules:\n  - name: r\n    match: {action: x}\n    effect: allow\n"
            "    remind_after: 30m\n"
        )
    parsed = parse_document(POLICY)
    assert parsed["rules"][0]["remind_after"] == 1800
    assert parsed["rules"][0]["escalate_after"] == {"after": 3600, "to": ["oncall"]}
