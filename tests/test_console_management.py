"""Console pages for agents, personal tokens and policies."""

from __future__ import annotations

import re

import pytest

from accounts.models import Agent, ApiToken
from audit.models import AuditEvent
from policies.models import PolicyVersion
from tests.conftest import Api
from tests.factories import apply_policy, make_agent, make_person

pytestmark = pytest.mark.django_db

POLICY = "rules:\n  - {name: reads, match: {action: '*.read'}, effect: allow}\n"


def shown_token(content: bytes) -> str:
    found = re.search(rb'<pre id="new-token">([^<]+)</pre>', content)
    assert found, "no token on the page"
    return found.group(1).decode()


def test_an_admin_creates_an_agent_and_sees_its_token_once(client, agent_owner):
    admin = make_person("root@example.com", groups=["airlock-admins"])
    client.force_login(admin.user)
    created = client.post("/agents/", {"name": "nightly-etl", "owner": agent_owner.user.email})
    token = shown_token(created.content)
    assert created["Cache-Control"].startswith("max-age=0")
    assert Agent.objects.get(name="nightly-etl").owner == agent_owner.user
    assert Api(token).file({"action": "a.b", "resource": "r"}).status_code == 201
    assert token.encode() not in client.get("/agents/").content  # never shown again


def test_only_admins_create_agents(client, reviewer):
    client.force_login(reviewer.user)
    assert client.post("/agents/", {"name": "sneaky"}).status_code == 404
    assert not Agent.objects.filter(name="sneaky").exists()


def test_an_owner_sees_and_revokes_their_own_agents_only(client, agent_owner, requester_agent):
    other = make_agent(make_person("other@example.com").user, name="not-mine")
    client.force_login(agent_owner.user)
    page = client.get("/agents/").content
    assert b"etl-bot" in page
    assert b"not-mine" not in page
    assert client.post(f"/agents/{other.agent.name}/revoke").status_code == 404
    client.post(f"/agents/{requester_agent.agent.name}/revoke")
    assert Api(requester_agent.token).get("/api/v1/actions").status_code == 401
    assert AuditEvent.objects.filter(
        event_type="agent.revoked", actor="user:owner@example.com"
    ).exists()


def test_a_person_manages_their_personal_tokens(client, reviewer):
    client.force_login(reviewer.user)
    token = shown_token(client.post("/tokens/", {"name": "laptop"}).content)
    assert Api(token).get("/api/v1/actions").status_code == 200
    created = ApiToken.objects.get(name="laptop")
    client.post(f"/tokens/{created.pk}/revoke")
    assert Api(token).get("/api/v1/actions").status_code == 401


def test_nobody_revokes_someone_elses_token(client, reviewer, outsider):
    client.force_login(outsider.user)
    theirs = ApiToken.objects.filter(user=reviewer.user).first()
    assert client.post(f"/tokens/{theirs.pk}/revoke").status_code == 404
    assert Api(reviewer.token).get("/api/v1/actions").status_code == 200


def test_policies_are_proposed_diffed_and_approved_by_two_admins(client):
    apply_policy(POLICY)
    alice = make_person("alice-admin@example.com", groups=["airlock-admins"])
    bob = make_person("bob-admin@example.com", groups=["airlock-admins"])
    client.force_login(alice.user)
    draft = POLICY + "  - {name: no-drops, match: {action: schema.drop}, effect: deny}\n"
    response = client.post("/policies/", {"intent": "propose", "document": draft}, follow=True)
    assert b"Version 2 is proposed." in response.content
    assert b"+  - {name: no-drops" in response.content  # the diff against v1
    assert b"Approve and activate" not in response.content  # not for the author
    client.force_login(bob.user)
    assert b"Approve and activate" in client.get("/policies/2/").content
    client.post("/policies/2/approve")
    assert PolicyVersion.objects.get(version=2).status == "active"


def test_a_self_approval_by_post_is_refused(client):
    alice = make_person("alice-admin@example.com", groups=["airlock-admins"])
    client.force_login(alice.user)
    client.post("/policies/", {"intent": "propose", "document": POLICY})
    response = client.post("/policies/1/approve", follow=True)
    assert b"the author of a policy version cannot approve it" in response.content
    assert PolicyVersion.objects.get(version=1).status == "proposed"


def test_the_simulator_shows_a_decision(client, auditor):
    apply_policy(POLICY)
    client.force_login(auditor.user)
    response = client.post(
        "/policies/", {"intent": "simulate", "request": '{"action": "db.read", "resource": "r"}'}
    )
    assert re.search(rb"<dt>Effect</dt><dd>allow</dd>", response.content)
    bad = client.post("/policies/", {"intent": "simulate", "request": "not json"})
    assert b"not valid JSON" in bad.content


def test_policies_are_for_admins_and_auditors(client, reviewer):
    client.force_login(reviewer.user)
    assert client.get("/policies/").status_code == 404


def test_a_reviewer_is_told_what_the_agents_page_shows_them(client, reviewer, requester_agent):
    """Issue 11: a reviewer saw "No agents." though agents exist."""
    client.force_login(reviewer.user)
    page = client.get("/agents/").content.decode()
    assert "No agents." not in page
    assert "lists only the agents <strong>you own</strong>" in page
    assert "only airlock-admins see and create every agent" in page
    assert "You own no agents." in page
    assert "etl-bot" not in page  # still not theirs to see


def test_an_owner_and_an_admin_are_told_their_scope(client, agent_owner, requester_agent):
    client.force_login(agent_owner.user)
    page = client.get("/agents/").content.decode()
    assert "you own</strong> (1)" in page
    assert "etl-bot" in page
    admin = make_person("root@example.com", groups=["airlock-admins"])
    client.force_login(admin.user)
    assert "every agent is listed" in client.get("/agents/").content.decode()
