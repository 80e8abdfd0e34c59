"""The screening pipeline: policy decides with what screening finds; the original is
kept only sealed, and revealed only to an eligible reviewer, with a reason, audited."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import TestCase

from approvals import services
from approvals.models import ActionRequest
from approvals.services import screening as screening_service
from approvals.tasks import resume_stuck_screening
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import apply_policy, make_person

pytestmark = pytest.mark.django_db

PII_POLICY = """
default: {effect: allow}
rules:
  - name: exports-with-pii
    match:
      action: data.export
      data_classes: [EMAIL_ADDRESS, PERSON, CREDIT_CARD]
    effect: require_approval
    approvals: 1
    reviewers: [reviewers]
    timeout: 30m
"""
KEY = base64.b64encode(bytes(range(32))).decode()


def body(payload):
    return {"action": "data.export", "resource": "db://crm/customers", "payload": payload}


def current(api: Api, action_id: str) -> dict:
    return api.get(f"/api/v1/actions/{action_id}").json()


def test_findings_decide_a_request_that_depends_on_them(agent_api):
    apply_policy(PII_POLICY)
    filed = agent_api.file(body({"rows": [{"email": "lee.chan@example.com"}]})).json()
    assert filed["status"] == "screening"
    assert filed["payload"] is None
    shown = current(agent_api, filed["id"])
    assert shown["status"] == "pending"
    assert shown["policy"]["rules"] == ["exports-with-pii"]
    assert shown["payload"] == {"rows": [{"email": "<EMAIL_ADDRESS>"}]}
    assert shown["findings"] == [
        {"path": "$.rows[0].email", "entity": "EMAIL_ADDRESS", "score": 1.0, "start": 0, "end": 20}
    ]
    assert shown["expires_at"] is not None


def test_without_those_data_classes_the_same_rule_lets_it_through(agent_api):
    apply_policy(PII_POLICY)
    filed = agent_api.file(body({"query": "select count(*) from orders"})).json()
    assert filed["status"] == "screening"
    shown = current(agent_api, filed["id"])
    assert shown["status"] == "approved"
    assert shown["payload"] == {"query": "select count(*) from orders"}
    types = AuditEvent.objects.filter(target=f"action:{filed['id']}").values_list(
        "event_type", flat=True
    )
    assert list(types) == ["action.created", "action.screened", "action.approved"]


def test_a_reviewer_who_could_review_it_can_open_it_while_it_is_screened(
    requester_agent, reviewer, outsider
):
    apply_policy(PII_POLICY)
    # Filed in the test's transaction: the screening task waits for a commit that
    # never comes, so the request stays in screening.
    action = services.submit(
        actor=requester_agent.agent, data=body({"rows": [{"email": "lee.chan@example.com"}]})
    ).action
    assert action.status == "screening"
    seen = Api(reviewer.token).get(f"/api/v1/actions/{action.pk}")
    assert seen.status_code == 200
    assert (seen.json()["status"], seen.json()["payload"]) == ("screening", None)
    assert Api(outsider.token).get(f"/api/v1/actions/{action.pk}").status_code == 404
    # Screening finds the e-mail address: pending, for the groups of the deciding rule.
    screening_service.complete_screening(action_id=action.pk)
    decided = ActionRequest.objects.get(pk=action.pk)
    assert decided.status == "pending"
    assert sorted(g.name for g in decided.reviewer_groups.all()) == ["reviewers"]


def test_screening_replaces_the_groups_that_could_review_with_the_deciding_ones(
    requester_agent, reviewer
):
    apply_policy(PII_POLICY)
    action = services.submit(
        actor=requester_agent.agent, data=body({"query": "select count(*) from orders"})
    ).action
    assert [g.name for g in action.reviewer_groups.all()] == ["reviewers"]
    screening_service.complete_screening(action_id=action.pk)
    decided = ActionRequest.objects.get(pk=action.pk)
    assert decided.status == "approved"
    assert list(decided.reviewer_groups.all()) == []
    assert Api(reviewer.token).get(f"/api/v1/actions/{action.pk}").status_code == 404


def test_a_fast_path_decision_is_answered_at_once_and_masked_after(agent_api):
    apply_policy("default: {effect: allow}\n")
    filed = agent_api.file(body({"to": "lee.chan@example.com"})).json()
    assert filed["status"] == "approved"
    assert filed["payload"] is None  # not yet screened: nothing shown
    assert current(agent_api, filed["id"])["payload"] == {"to": "<EMAIL_ADDRESS>"}


def test_a_payload_over_its_budget_is_withheld_and_held_for_review(agent_api, settings):
    apply_policy(PII_POLICY)
    settings.SCREENING = {**settings.SCREENING, "MAX_TEXT_CHARS": 10}
    filed = agent_api.file(body({"notes": "a long free text the budget cannot take"})).json()
    shown = current(agent_api, filed["id"])
    assert shown["status"] == "pending"  # the allow default did not pass it unscreened
    assert shown["payload"] is None
    assert shown["policy"]["rules"] == ["screening-incomplete"]
    assert "could not be screened" in shown["policy"]["message"]
    assert "over 10" in shown["screening_note"]
    event = AuditEvent.objects.get(event_type="action.screened", target=f"action:{filed['id']}")
    assert event.data["complete"] is False


def test_a_deny_is_final_without_waiting_for_screening(agent_api):
    apply_policy(
        "default: {effect: allow}\n"
        "rules:\n  - {name: no-exports, match: {action: data.*}, effect: deny}\n"
    )
    filed = agent_api.file(body({"to": "lee.chan@example.com"})).json()
    assert filed["status"] == "denied"


def _file_without_running_the_worker(actor, payload) -> ActionRequest:
    """A filing whose screening task never ran: its worker died, or the message was lost."""
    with TestCase.captureOnCommitCallbacks(execute=False), transaction.atomic():
        return services.submit(actor=actor, data=body(payload)).action


def test_the_sweep_screens_what_a_dead_worker_left(requester_agent):
    apply_policy(PII_POLICY)
    action = _file_without_running_the_worker(requester_agent.agent, {"to": "x.y@example.com"})
    assert ActionRequest.objects.get(pk=action.pk).status == "screening"
    # A worker started it and died: the attempt was counted, nothing else happened.
    ActionRequest.objects.filter(pk=action.pk).update(screening_attempts=1)
    assert resume_stuck_screening(older_than=timedelta(hours=1)) == 0
    assert resume_stuck_screening(older_than=timedelta(0)) == 1
    stored = ActionRequest.objects.get(pk=action.pk)
    assert stored.status == "pending"
    assert stored.payload == {"to": "<EMAIL_ADDRESS>"}
    assert stored.screening_attempts == 2
    assert stored.payload_sealed is None  # no reveal key: the original is gone


def test_after_too_many_dead_workers_it_is_held_unscreened(requester_agent, settings):
    apply_policy(PII_POLICY)
    action = _file_without_running_the_worker(requester_agent.agent, {"to": "x.y@example.com"})
    ActionRequest.objects.filter(pk=action.pk).update(
        screening_attempts=settings.SCREENING["MAX_ATTEMPTS"]
    )
    screening_service.complete_screening(action_id=action.pk)
    stored = ActionRequest.objects.get(pk=action.pk)
    assert stored.status == "pending"
    assert stored.payload is None
    assert "did not finish in 3 attempts" in stored.screening_note


def test_screening_twice_changes_nothing(requester_agent):
    apply_policy(PII_POLICY)
    action = _file_without_running_the_worker(requester_agent.agent, {"to": "x.y@example.com"})
    screening_service.complete_screening(action_id=action.pk)
    assert screening_service.complete_screening(action_id=action.pk) is None
    assert AuditEvent.objects.filter(event_type="action.screened").count() == 1


def test_a_payload_filed_before_screening_existed_is_masked_by_the_sweep(requester_agent):
    action = _file_without_running_the_worker(requester_agent.agent, {"x": 1})
    ActionRequest.objects.filter(pk=action.pk).update(
        payload={"to": "old.row@example.com"}, payload_sealed=None, screened_at=None
    )
    resume_stuck_screening(older_than=timedelta(0))
    assert ActionRequest.objects.get(pk=action.pk).payload == {"to": "<EMAIL_ADDRESS>"}


# --- reveal ---------------------------------------------------------------------------


@pytest.fixture
def kept(settings, agent_api):
    """A pending request whose original is kept under a reveal key."""
    settings.PAYLOAD_ENCRYPTION_KEY = KEY
    apply_policy(PII_POLICY)
    return agent_api.file(body({"to": "lee.chan@example.com", "n": 7})).json()["id"]


def reveal(api: Api, action_id: str, reason: str = "checking the recipient"):
    return api.post(f"/api/v1/actions/{action_id}/reveal", {"reason": reason})


def test_an_eligible_reviewer_reveals_the_original_with_a_reason(kept, reviewer):
    response = reveal(Api(reviewer.token), kept)
    assert response.status_code == 200
    assert response.json()["payload"] == {"to": "lee.chan@example.com", "n": 7}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(event_type="action.revealed")
    assert event.actor == "user:carol@example.com"
    assert event.data["reason"] == "checking the recipient"
    assert "lee.chan" not in str(event.data)


def test_a_reveal_needs_a_reason(kept, reviewer):
    response = reveal(Api(reviewer.token), kept, reason="  ")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(event_type="action.revealed").exists()


@pytest.mark.parametrize("who", ["agent_owner", "requester_agent"])
def test_the_requester_side_cannot_reveal(kept, who, request):
    identity = request.getfixturevalue(who)
    response = reveal(Api(identity.token), kept)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_reviewer"
    assert AuditEvent.objects.filter(event_type="action.reveal_refused").count() == 1


def test_someone_outside_the_reviewer_groups_cannot_see_or_reveal_it(kept, outsider):
    assert reveal(Api(outsider.token), kept).status_code == 404
    privacy = make_person("pat@example.com", groups=["privacy"])
    assert reveal(Api(privacy.token), kept).status_code == 404


def test_policy_can_forbid_reveal(settings, agent_api, reviewer):
    settings.PAYLOAD_ENCRYPTION_KEY = KEY
    apply_policy(PII_POLICY.replace("    timeout: 30m\n", "    timeout: 30m\n    reveal: false\n"))
    action_id = agent_api.file(body({"to": "lee.chan@example.com"})).json()["id"]
    response = reveal(Api(reviewer.token), action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reveal_forbidden"
    assert current(agent_api, action_id)["reveal_allowed"] is False


def test_without_a_key_the_original_is_not_kept(agent_api, reviewer):
    apply_policy(PII_POLICY)
    action_id = agent_api.file(body({"to": "lee.chan@example.com"})).json()["id"]
    assert ActionRequest.objects.get(pk=action_id).payload_sealed is None
    response = reveal(Api(reviewer.token), action_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "original_not_kept"


def test_a_sealed_original_does_not_open_on_another_request(kept, agent_api, reviewer):
    other = agent_api.file(body({"to": "someone.else@example.com"})).json()["id"]
    ActionRequest.objects.filter(pk=other).update(
        payload_sealed=ActionRequest.objects.get(pk=kept).payload_sealed
    )
    response = reveal(Api(reviewer.token), other)
    assert response.status_code == 409
    assert "tampered or moved" in response.json()["error"]["message"]


# --- nothing raw is stored, shown, audited or logged --------------------------------

SEEDED = {
    "customer": {"full_name": "Bartholomew Quince", "email": "b.quince@mail.example.com"},
    "note": "called Bartholomew Quince about the refund",
    "card": "4539 1488 0343 6467",
    "phone": "+1 415 555 0142",
    "database_url": "postgres://etl:Sup3rS3cretPw@db.internal/crm",
    "ci": "token ghp_" + "Zq8Lw2Vx5Nt9Rk3Pm7Hs1Jd4Fc6Bg0Ya2Ue8",
    "api_key": "sk_" + "live_0123456789abcdefghijklmn",
}
RAW = [
    "Bartholomew",
    "Quince",
    "b.quince",
    "4539 1488 0343 6467",
    "4539148803436467",
    "415 555 0142",
    "Sup3rS3cretPw",
    "Zq8Lw2Vx5Nt9Rk3Pm7Hs1Jd4Fc6Bg0Ya2Ue8",
    "0123456789abcdefghijklmn",
]


def database_text() -> str:
    """Every row of every table, as text (bytes too, as they are)."""
    from django.apps import apps

    chunks = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            chunks.append(repr(row))
            chunks.extend(
                bytes(v).decode("latin-1")
                for v in row.values()
                if isinstance(v, bytes | memoryview)
            )
    return "\n".join(chunks)


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "reveal-key"])
def test_seeded_raw_values_appear_nowhere(with_key, settings, agent_api, reviewer, caplog, client):
    if with_key:
        settings.PAYLOAD_ENCRYPTION_KEY = KEY
    apply_policy(PII_POLICY)
    caplog.set_level(logging.DEBUG)
    responses = []
    filed = agent_api.file(body(SEEDED))
    responses.append(filed.content.decode())
    action_id = filed.json()["id"]
    reviewer_api = Api(reviewer.token)
    responses.append(agent_api.get(f"/api/v1/actions/{action_id}").content.decode())
    responses.append(reviewer_api.get("/api/v1/actions").content.decode())
    responses.append(reviewer_api.approve(action_id, "fine").content.decode())
    responses.append(reviewer_api.get("/api/v1/audit/events").content.decode())
    responses.append(reviewer_api.get("/api/v1/audit/export").content.decode())
    client.force_login(reviewer.user)
    responses.append(client.get(f"/actions/{action_id}/").content.decode())
    responses.append(client.get("/history/").content.decode())

    stored = ActionRequest.objects.get(pk=action_id)
    assert stored.status == "approved"
    entities = {f["entity"] for f in stored.findings}
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD", "PHONE_NUMBER"} <= entities
    assert {"CONNECTION_PASSWORD", "GITHUB_TOKEN", "SECRET"} <= entities
    places = {
        "database": database_text(),
        "api": "\n".join(responses),
        "audit": "\n".join(repr(e.data) for e in AuditEvent.objects.all()),
        "logs": caplog.text,
    }
    for where, text in places.items():
        for raw in RAW:
            at = text.find(raw)
            assert at < 0, f"{raw!r} found in the {where}: ...{text[max(0, at - 300) : at + 50]}"
    assert (stored.payload_sealed is not None) is with_key
