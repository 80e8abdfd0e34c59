"""Role rules live in accounts.roles and the services enforce them, whoever calls."""

from __future__ import annotations

import pytest

from accounts.models import ADMINS_GROUP, AUDITORS_GROUP
from accounts.services import (
    create_agent,
    create_personal_token,
    revoke_agent,
    revoke_personal_token,
    rotate_agent_token,
)
from airlock.errors import Forbidden, NotFound
from tests.factories import make_agent, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "admin": make_person("admin@example.com", groups=[ADMINS_GROUP]).user,
        "auditor": make_person("audit@example.com", groups=[AUDITORS_GROUP]).user,
        "owner": make_person("owner@example.com", groups=["reviewers"]).user,
        "other": make_person("other@example.com", groups=["reviewers"]).user,
    }


def test_only_admins_create_agents(people):
    for name in ("auditor", "owner", "other"):
        with pytest.raises(Forbidden):
            create_agent(name=f"bot-{name}", owner_email="owner@example.com", actor=people[name])
    agent, _ = create_agent(name="bot", owner_email="owner@example.com", actor=people["admin"])
    assert agent.owner == people["owner"]


def test_an_agent_is_revoked_or_rotated_by_its_owner_or_an_admin_only(people):
    agent = make_agent(people["owner"], "etl-bot").agent
    for name in ("auditor", "other"):
        with pytest.raises(Forbidden):
            revoke_agent(name="etl-bot", actor=people[name])
        with pytest.raises(Forbidden):
            rotate_agent_token(name="etl-bot", actor=people[name])
    agent.refresh_from_db()
    assert agent.revoked_at is None
    rotate_agent_token(name="etl-bot", actor=people["owner"])
    assert revoke_agent(name="etl-bot", actor=people["owner"]).revoked_at is not None
    make_agent(people["owner"], "other-bot")
    assert revoke_agent(name="other-bot", actor=people["admin"]).revoked_at is not None


def test_a_personal_token_is_made_by_its_owner_and_revoked_by_them_or_an_admin(people):
    with pytest.raises(Forbidden):
        create_personal_token(email="owner@example.com", actor=people["other"])
    token, _ = create_personal_token(email="owner@example.com", actor=people["owner"])
    with pytest.raises(NotFound):
        revoke_personal_token(token_id=token.pk, actor=people["other"])
    with pytest.raises(NotFound):
        revoke_personal_token(token_id=token.pk, actor=people["auditor"])
    token.refresh_from_db()
    assert token.revoked_at is None
    assert revoke_personal_token(token_id=token.pk, actor=people["admin"]).revoked_at is not None
