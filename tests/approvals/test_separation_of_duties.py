"""Nobody approves what they asked for, by any path the API offers; every blocked
attempt is in the audit log."""

from __future__ import annotations

import pytest

from accounts.services import upsert_user
from approvals import services
from approvals.exceptions import AlreadyReviewed, NotAReviewer, NotPending, SelfApproval
from approvals.models import ActionRequest, Review
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import apply_policy, make_agent, make_person, quorum_policy

pytestmark = pytest.mark.django_db


def refusals(action_id: str) -> list[dict]:
    return [
        {"actor": e.actor, **e.data}
        for e in AuditEvent.objects.filter(
            event_type="action.review_refused", target=f"action:{action_id}"
        )
    ]


def file(api: Api, **fields) -> str:
    response = api.file({"action": "iam.role.grant", "resource": "aws://iam/admin", **fields})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_the_agents_owner_cannot_approve(agent_api, agent_owner):
    action_id = file(agent_api)
    response = Api(agent_owner.token).approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    assert refusals(action_id) == [
        {
            "actor": "user:owner@example.com",
            "verdict": "approve",
            "code": "self_approval",
            "via": "api",
        }
    ]


def test_the_on_behalf_of_person_cannot_approve(agent_api, reviewer):
    action_id = file(agent_api, on_behalf_of="CAROL@example.com")
    response = Api(reviewer.token).approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"
    assert refusals(action_id)[0]["code"] == "self_approval"


def test_a_person_who_filed_cannot_approve(reviewer):
    api = Api(reviewer.token)
    action_id = file(api)
    response = api.approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"
    assert refusals(action_id)[0]["actor"] == "user:carol@example.com"


def test_the_agent_itself_cannot_approve(agent_api):
    action_id = file(agent_api)
    response = agent_api.approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"
    assert refusals(action_id)[0]["actor"] == "agent:etl-bot"


def test_another_agent_cannot_review(agent_api, agent_owner):
    action_id = file(agent_api)
    other = make_agent(agent_owner.user, name="other-bot")
    response = Api(other.token).approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_reviewer"


def test_the_owner_at_filing_time_stays_barred_after_the_agent_changes_hands(
    agent_api, requester_agent, agent_owner, reviewer
):
    action_id = file(agent_api)
    requester_agent.agent.owner = make_person("new-owner@example.com").user
    requester_agent.agent.save()
    response = Api(agent_owner.token).approve(action_id)
    assert response.json()["error"]["code"] == "self_approval"


def test_the_new_owner_is_barred_too(agent_api, requester_agent, reviewer):
    action_id = file(agent_api)
    requester_agent.agent.owner = reviewer.user
    requester_agent.agent.save()
    response = Api(reviewer.token).approve(action_id)
    assert response.json()["error"]["code"] == "self_approval"


def test_a_session_login_cannot_self_approve_either(agent_api, agent_owner, client):
    """The console path: a signed-in session, not a token, gets the same answer."""
    action_id = file(agent_api)
    client.force_login(agent_owner.user)
    response = client.post(
        f"/api/v1/actions/{action_id}/approve", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_approval"


def test_a_session_needs_a_csrf_token(agent_api, reviewer):
    from django.test import Client

    action_id = file(agent_api)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer.user)
    response = client.post(
        f"/api/v1/actions/{action_id}/approve", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert ActionRequest.objects.get(pk=action_id).status == "pending"


def test_an_outsider_is_not_a_reviewer(agent_api, outsider):
    action_id = file(agent_api)
    response = Api(outsider.token).approve(action_id)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_reviewer"
    assert refusals(action_id)[0]["code"] == "not_a_reviewer"


def test_an_admin_or_superuser_is_no_reviewer_without_the_group(agent_api):
    boss = make_person("boss@example.com", groups=["airlock-admins"])
    boss.user.is_superuser = True
    boss.user.save()
    action_id = file(agent_api)
    response = Api(boss.token).approve(action_id)
    assert response.json()["error"]["code"] == "not_a_reviewer"


def test_the_same_reviewer_twice_is_409(agent_api, reviewer):
    apply_policy(quorum_policy(2))
    action_id = file(agent_api)
    api = Api(reviewer.token)
    assert api.approve(action_id).status_code == 200
    response = api.approve(action_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_reviewed"
    assert Review.objects.filter(action_id=action_id).count() == 1
    assert refusals(action_id)[0]["code"] == "already_reviewed"


def test_approving_a_decided_request_is_409(agent_api, reviewer, second_reviewer):
    action_id = file(agent_api)
    assert Api(reviewer.token).approve(action_id).json()["status"] == "approved"
    response = Api(second_reviewer.token).approve(action_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_pending"
    assert refusals(action_id)[0]["code"] == "not_pending"


def test_a_quorum_needs_distinct_people(agent_api, reviewer, second_reviewer):
    apply_policy(quorum_policy(2))
    action_id = file(agent_api)
    first = Api(reviewer.token).approve(action_id, "looks fine")
    assert first.json()["status"] == "pending"
    second = Api(second_reviewer.token).approve(action_id)
    body = second.json()
    assert body["status"] == "approved"
    assert [r["reviewer"] for r in body["reviews"]] == ["carol@example.com", "dave@example.com"]
    assert body["reviews"][0]["comment"] == "looks fine"
    assert body["decided_at"] is not None


def test_one_deny_denies(agent_api, reviewer, second_reviewer):
    apply_policy(quorum_policy(2))
    action_id = file(agent_api)
    Api(reviewer.token).approve(action_id)
    response = Api(second_reviewer.token).deny(action_id, "not during the freeze")
    assert response.json()["status"] == "denied"
    assert response.json()["reviews"][1] == {
        **response.json()["reviews"][1],
        "verdict": "deny",
        "comment": "not during the freeze",
    }


def test_deny_needs_a_reason(agent_api, reviewer):
    action_id = file(agent_api)
    api = Api(reviewer.token)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = api.post(f"/api/v1/actions/{action_id}/deny", body)
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["details"]
    assert ActionRequest.objects.get(pk=action_id).status == "pending"


def test_the_owner_may_deny_their_own_agents_request_when_a_reviewer(agent_api, agent_owner):
    """Denying is the safe direction: an owner who sees their agent misbehave stops it."""
    action_id = file(agent_api)
    response = Api(agent_owner.token).deny(action_id, "my bot is misbehaving")
    assert response.status_code == 200
    assert response.json()["status"] == "denied"


def test_an_inactive_person_cannot_review(agent_api, reviewer):
    action_id = file(agent_api)
    reviewer.user.is_active = False
    reviewer.user.save()
    assert Api(reviewer.token).approve(action_id).status_code == 401


def test_losing_the_group_removes_the_right_to_review(agent_api, reviewer):
    action_id = file(agent_api)
    upsert_user(email=reviewer.user.email, groups=["marketing"])
    response = Api(reviewer.token).approve(action_id)
    assert response.json()["error"]["code"] == "not_a_reviewer"


def test_the_service_is_the_same_gate(agent_api, requester_agent, agent_owner, reviewer, outsider):
    """Chat and console paths call the service directly; it refuses the same way."""
    action_id = file(agent_api)
    with pytest.raises(SelfApproval):
        services.approve(action_id=action_id, actor=agent_owner.user, via="slack")
    with pytest.raises(SelfApproval):
        services.approve(action_id=action_id, actor=requester_agent.agent, via="teams")
    with pytest.raises(NotAReviewer):
        services.approve(action_id=action_id, actor=outsider.user, via="console")
    services.approve(action_id=action_id, actor=reviewer.user, via="console")
    with pytest.raises(AlreadyReviewed):
        services.approve(action_id=action_id, actor=reviewer.user, via="console")
    with pytest.raises(NotPending):
        services.deny(
            action_id=action_id, actor=make_person(groups=["reviewers"]).user, reason="late"
        )
    assert [r["via"] for r in refusals(action_id)] == [
        "slack",
        "teams",
        "console",
        "console",
        "api",
    ]


def test_blocked_attempts_never_change_the_request(agent_api, agent_owner, outsider):
    action_id = file(agent_api)
    before = ActionRequest.objects.get(pk=action_id)
    Api(agent_owner.token).approve(action_id)
    Api(outsider.token).approve(action_id)
    after = ActionRequest.objects.get(pk=action_id)
    assert (after.status, after.decided_at) == (before.status, before.decided_at)
    assert not Review.objects.filter(action_id=action_id).exists()
