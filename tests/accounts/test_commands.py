"""The operator commands of API.md, run as an operator runs them."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Agent, ApiToken, User
from accounts.tokens import token_digest
from audit.models import AuditEvent
from tests.conftest import Api

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        old, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            call_command(*args, stdout=out)
        finally:
            sys.stdin = old
    else:
        call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_creates_then_updates_and_prints_nothing():
    assert run("create_user", "Carol@Example.com", "--groups", "reviewers,privacy") == ""
    user = User.objects.get(email="carol@example.com")
    assert user.group_names() == {"reviewers", "privacy"}
    assert not user.has_usable_password()
    assert run("create_user", "carol@example.com", "--groups", "airlock-auditors") == ""
    user = User.objects.get(email="carol@example.com")
    assert set(user.groups.values_list("name", flat=True)) == {"airlock-auditors"}
    assert User.objects.count() == 1
    assert [e.event_type for e in AuditEvent.objects.all()] == ["user.created", "user.updated"]


def test_create_user_without_groups_keeps_the_groups():
    run("create_user", "carol@example.com", "--groups", "reviewers")
    run("create_user", "carol@example.com")
    assert User.objects.get().group_names() == {"reviewers"}


def test_create_user_reads_a_password_from_stdin(client):
    run("create_user", "bob@example.com", "--password-stdin", stdin="s3cret-passphrase\n")
    user = User.objects.get(email="bob@example.com")
    assert user.check_password("s3cret-passphrase")
    assert "s3cret" not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_create_user_refuses_a_bad_email():
    with pytest.raises(CommandError):
        run("create_user", "not-an-email")


def test_create_agent_prints_a_working_token_once():
    run("create_user", "bob@example.com")
    token = run("create_agent", "etl-bot", "--owner", "bob@example.com").strip()
    assert token.startswith("alk_agt_")
    agent = Agent.objects.get(name="etl-bot")
    assert agent.owner.email == "bob@example.com"
    assert agent.token_hash == token_digest(token)
    assert token not in str(agent.__dict__)
    response = Api(token).file({"action": "a.b", "resource": "r"})
    assert response.status_code == 201


def test_create_agent_needs_an_existing_owner_and_a_new_valid_name():
    with pytest.raises(CommandError, match="create them first"):
        run("create_agent", "etl-bot", "--owner", "nobody@example.com")
    run("create_user", "bob@example.com")
    run("create_agent", "etl-bot", "--owner", "bob@example.com")
    with pytest.raises(CommandError, match="exists"):
        run("create_agent", "etl-bot", "--owner", "bob@example.com")
    with pytest.raises(CommandError):
        run("create_agent", "Bad Name!", "--owner", "bob@example.com")


def test_rotating_an_agent_token_revokes_the_old_one():
    run("create_user", "bob@example.com")
    old = run("create_agent", "etl-bot", "--owner", "bob@example.com").strip()
    new = run("create_agent", "etl-bot", "--owner", "bob@example.com", "--rotate").strip()
    assert old != new
    assert Api(old).get("/api/v1/actions").status_code == 401
    assert Api(new).get("/api/v1/actions").status_code == 200


def test_revoke_agent_stops_its_token():
    run("create_user", "bob@example.com")
    token = run("create_agent", "etl-bot", "--owner", "bob@example.com").strip()
    run("revoke_agent", "etl-bot")
    assert Api(token).get("/api/v1/actions").status_code == 401
    assert AuditEvent.objects.filter(event_type="agent.revoked").exists()


def test_create_token_gives_a_person_api_access():
    run("create_user", "carol@example.com", "--groups", "reviewers")
    token = run("create_token", "carol@example.com").strip()
    assert token.startswith("alk_usr_")
    assert ApiToken.objects.get().token_hash == token_digest(token)
    assert Api(token).get("/api/v1/actions").status_code == 200


def test_create_token_for_nobody_fails():
    with pytest.raises(CommandError):
        run("create_token", "nobody@example.com")


def test_a_deactivated_persons_tokens_stop_working():
    run("create_user", "bob@example.com")
    person_token = run("create_token", "bob@example.com").strip()
    agent_token = run("create_agent", "etl-bot", "--owner", "bob@example.com").strip()
    User.objects.filter(email="bob@example.com").update(is_active=False)
    assert Api(person_token).get("/api/v1/actions").status_code == 401
    assert Api(agent_token).get("/api/v1/actions").status_code == 401


def test_an_agent_token_cannot_pass_as_a_personal_one():
    run("create_user", "bob@example.com")
    token = run("create_agent", "etl-bot", "--owner", "bob@example.com").strip()
    forged = "alk_usr_" + token.removeprefix("alk_agt_")
    assert Api(forged).get("/api/v1/actions").status_code == 401
