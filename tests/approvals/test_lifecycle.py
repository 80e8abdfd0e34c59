"""The life of a request over the API: the contract of API.md, state by state."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import rfc8785
from django.utils import timezone

from approvals import services
from approvals.models import ActionRequest
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import make_agent, make_person

pytestmark = pytest.mark.django_db

BODY = {
    "action": "data.export",
    "resource": "postgres://warehouse/customers",
    "environment": "production",
    "payload": {"query": "select * from customers", "destination": "s3://team-bucket/x.csv"},
    "justification": "weekly churn analysis",
    "on_behalf_of": "alice@example.com",
    "callback_url": "https://agent.example.com/hooks/airlock",
    "context": {"run_id": "r-123", "model": "gpt-x"},
}


def test_filing_returns_the_representation_of_api_md(agent_api):
    response = agent_api.file(BODY)
    assert response.status_code == 201
    filed = response.json()
    # Answered before any worker has read the payload: nothing of it is shown yet.
    assert filed["status"] == "screening"
    assert filed["payload"] is None
    assert filed["screened_at"] is None
    body = agent_api.get(f"/api/v1/actions/{filed['id']}").json()
    assert body["status"] == "pending"
    assert body["screened_at"] is not None
    assert body["requester"] == {"type": "agent", "id": "etl-bot", "owner": "owner@example.com"}
    assert body["on_behalf_of"] == "alice@example.com"
    assert body["payload"] == BODY["payload"]
    assert body["findings"] == []
    assert body["policy"] == {
        "version": None,
        "rules": [],
        "effect": "require_approval",
        "message": "",
    }
    assert body["approvals_required"] == 1
    assert body["reviewer_groups"] == ["reviewers"]
    assert body["reviews"] == []
    assert body["decided_at"] is None
    assert body["grant"] is None
    # The hour runs from the decision, made once the payload was screened.
    screened = timezone.datetime.fromisoformat(body["screened_at"])
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) <= expires - screened - timedelta(hours=1) < timedelta(seconds=5)
    stored = ActionRequest.objects.get(pk=body["id"])
    assert stored.payload_sha256 == hashlib.sha256(rfc8785.dumps(BODY["payload"])).hexdigest()


def test_filing_is_audited_without_the_payload(agent_api):
    action_id = agent_api.file(BODY).json()["id"]
    event = AuditEvent.objects.get(event_type="action.created", target=f"action:{action_id}")
    assert event.actor == "agent:etl-bot"
    assert event.data["payload_sha256"]
    assert "select * from customers" not in str(event.data)


def test_a_person_can_file_with_a_personal_token(reviewer):
    response = Api(reviewer.token).file(BODY)
    assert response.status_code == 201
    assert response.json()["requester"] == {
        "type": "person",
        "id": "carol@example.com",
        "owner": None,
    }


def test_a_revoked_agent_is_401(agent_api, requester_agent):
    from accounts.services import revoke_agent

    revoke_agent(name=requester_agent.agent.name)
    assert agent_api.file(BODY).status_code == 401


def test_approval_is_audited_as_review_then_transition(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    Api(reviewer.token).approve(action_id, "ok")
    types = list(
        AuditEvent.objects.filter(target=f"action:{action_id}").values_list("event_type", flat=True)
    )
    assert types == [
        "action.created",
        "action.screened",
        "action.pending",
        "action.reviewed",
        "action.approved",
    ]
    approved = AuditEvent.objects.get(event_type="action.approved", target=f"action:{action_id}")
    assert approved.data["from"] == "pending"
    assert approved.actor == "user:carol@example.com"


# --- cancel -------------------------------------------------------------------------


def test_the_requesting_agent_can_cancel(agent_api):
    action_id = agent_api.file(BODY).json()["id"]
    response = agent_api.post(f"/api/v1/actions/{action_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert AuditEvent.objects.filter(event_type="action.cancelled").count() == 1


def test_nobody_else_can_cancel(agent_api, agent_owner, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    other_agent = make_agent(agent_owner.user, name="sibling-bot")
    for token in (agent_owner.token, reviewer.token, other_agent.token):
        response = Api(token).post(f"/api/v1/actions/{action_id}/cancel")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_requester"
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    assert AuditEvent.objects.filter(event_type="action.cancel_refused").count() == 3


def test_a_decided_request_cannot_be_cancelled(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    Api(reviewer.token).approve(action_id)
    response = agent_api.post(f"/api/v1/actions/{action_id}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_pending"


def test_a_cancelled_request_cannot_be_approved(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    agent_api.post(f"/api/v1/actions/{action_id}/cancel")
    assert Api(reviewer.token).approve(action_id).json()["error"]["code"] == "not_pending"


# --- outcome ------------------------------------------------------------------------


def test_the_agent_reports_the_outcome_once(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    Api(reviewer.token).approve(action_id)
    url = f"/api/v1/actions/{action_id}/outcome"
    response = agent_api.post(url, {"result": "succeeded", "detail": {"rows": 10}})
    assert response.status_code == 200
    assert response.json()["outcome"]["result"] == "succeeded"
    again = agent_api.post(url, {"result": "failed"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reported"
    event = AuditEvent.objects.get(event_type="action.outcome_reported")
    assert event.data["result"] == "succeeded"
    assert "rows" not in str(event.data)


def test_an_outcome_needs_an_approved_request(agent_api):
    action_id = agent_api.file(BODY).json()["id"]
    response = agent_api.post(f"/api/v1/actions/{action_id}/outcome", {"result": "succeeded"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_approved"


def test_an_outcome_is_validated(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    Api(reviewer.token).approve(action_id)
    response = agent_api.post(f"/api/v1/actions/{action_id}/outcome", {"result": "maybe"})
    assert response.status_code == 400
    assert "result" in response.json()["error"]["details"]


def test_only_the_requester_reports_an_outcome(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    Api(reviewer.token).approve(action_id)
    response = Api(reviewer.token).post(
        f"/api/v1/actions/{action_id}/outcome", {"result": "succeeded"}
    )
    assert response.status_code == 403


# --- expiry -------------------------------------------------------------------------


def test_an_overdue_request_expires_and_is_never_approved(agent_api, reviewer):
    action_id = agent_api.file(BODY).json()["id"]
    ActionRequest.objects.filter(pk=action_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Api(reviewer.token).approve(action_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_pending"
    assert ActionRequest.objects.get(pk=action_id).status == "expired"
    assert AuditEvent.objects.get(event_type="action.expired").actor == "system"


def test_the_sweep_expires_only_overdue_requests(agent_api):
    overdue = agent_api.file(BODY).json()["id"]
    fresh = agent_api.file(BODY).json()["id"]
    ActionRequest.objects.filter(pk=overdue).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    from approvals.tasks import expire_overdue

    assert expire_overdue.apply().get() == 1
    assert ActionRequest.objects.get(pk=overdue).status == "expired"
    assert ActionRequest.objects.get(pk=fresh).status == "pending"
    assert services.expire_overdue() == 0


# --- reading ------------------------------------------------------------------------


def test_detail_is_404_for_someone_who_may_not_see_it(agent_api, outsider, agent_owner):
    action_id = agent_api.file(BODY).json()["id"]
    assert Api(outsider.token).get(f"/api/v1/actions/{action_id}").status_code == 404
    other_agent = make_agent(agent_owner.user, name="nosy-bot")
    assert Api(other_agent.token).get(f"/api/v1/actions/{action_id}").status_code == 404
    assert Api(agent_owner.token).get(f"/api/v1/actions/{action_id}").status_code == 200


def test_an_auditor_sees_every_request(agent_api, auditor):
    action_id = agent_api.file(BODY).json()["id"]
    assert Api(auditor.token).get(f"/api/v1/actions/{action_id}").status_code == 200


def test_the_list_is_scoped_and_filtered(agent_api, reviewer, outsider, agent_owner):
    agent_api.file({**BODY, "action": "data.export"})
    agent_api.file({**BODY, "action": "data.delete"})
    agent_api.file({**BODY, "action": "iam.role.grant"})
    other = make_agent(make_person("other@example.com").user, name="other-bot")
    Api(other.token).file({**BODY, "action": "data.read"})

    mine = agent_api.get("/api/v1/actions")
    assert {a["action"] for a in mine.json()["results"]} == {
        "data.export",
        "data.delete",
        "iam.role.grant",
    }
    data = Api(reviewer.token).get("/api/v1/actions", action="data.*", status="pending")
    assert {a["action"] for a in data.json()["results"]} == {
        "data.export",
        "data.delete",
        "data.read",
    }
    assert Api(outsider.token).get("/api/v1/actions").json()["results"] == []
    exact = Api(reviewer.token).get("/api/v1/actions", action="data.export")
    assert [a["action"] for a in exact.json()["results"]] == ["data.export"]
    by_agent = Api(reviewer.token).get("/api/v1/actions", agent="other-bot")
    assert [a["action"] for a in by_agent.json()["results"]] == ["data.read"]


def test_a_glob_does_not_match_as_a_regex(agent_api, reviewer):
    agent_api.file({**BODY, "action": "dataxexport"})
    response = Api(reviewer.token).get("/api/v1/actions", action="data.export")
    assert response.json()["results"] == []


def test_an_unknown_status_filter_is_400(reviewer):
    response = Api(reviewer.token).get("/api/v1/actions", status="pending,bogus")
    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_the_list_is_cursor_paginated(agent_api):
    for n in range(7):
        agent_api.file({**BODY, "resource": f"db://t{n}"})
    seen: list[str] = []
    page = agent_api.get("/api/v1/actions", limit=3).json()
    while True:
        seen += [a["resource"] for a in page["results"]]
        if not page["next"]:
            break
        page = agent_api.client.get(page["next"]).json()
    assert seen == [f"db://t{n}" for n in reversed(range(7))]


def test_the_expire_overdue_command_sweeps(agent_api):
    from io import StringIO

    from django.core.management import call_command

    overdue = agent_api.file(BODY).json()["id"]
    ActionRequest.objects.filter(pk=overdue).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    out = StringIO()
    call_command("expire_overdue", stdout=out)
    assert out.getvalue().strip() == "1 expired"
    assert ActionRequest.objects.get(pk=overdue).status == "expired"


def test_a_mixed_case_email_cannot_dodge_the_on_behalf_of_check(agent_api):
    from accounts.models import User

    person = make_person(groups=["reviewers"])
    User.objects.filter(pk=person.user.pk).update(email="Alice@Example.com")
    person.user.email = "Alice@Example.com"
    person.user.save()  # any later save brings it back to one spelling
    assert User.objects.get(pk=person.user.pk).email == "alice@example.com"
    action_id = agent_api.file({**BODY, "on_behalf_of": "alice@example.com"}).json()["id"]
    assert Api(person.token).approve(action_id).json()["error"]["code"] == "self_approval"
