"""The token look-up is compiled once per thread (airlock.prepared); what it returns
must be what the ORM returns, converted the same way, and a revocation must count
on the very next look-up."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import pytest
from django.db import connection

from accounts.models import Agent
from accounts.selectors import principal_for_token
from accounts.services import revoke_agent
from tests.factories import make_agent, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_prepared_look_up_returns_what_the_orm_returns():
    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    found = principal_for_token(identity.token)
    expected = Agent.objects.select_related("owner").get(name="etl-bot")
    assert isinstance(found, Agent)
    for field in Agent._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(found.pk, uuid.UUID)  # converted as the ORM converts, on SQLite too
    assert isinstance(found.created_at, datetime)
    assert found.created_at.tzinfo is not None
    assert found.owner.email == "owner@example.com"  # the join, without another query
    assert found._state.adding is False


def test_revocation_counts_on_the_next_look_up_and_every_thread_sees_it():
    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    assert principal_for_token(identity.token) is not None
    answers: list[object] = []

    def look_up() -> None:
        from django.db import connection

        try:
            answers.append(principal_for_token(identity.token))
        finally:
            connection.close()

    thread = threading.Thread(target=look_up)
    thread.start()
    thread.join()
    assert isinstance(answers[0], Agent)  # another thread compiles its own statement
    revoke_agent(name="etl-bot")
    assert principal_for_token(identity.token) is None
    assert principal_for_token(identity.token.replace("alk_agt_", "alk_agt_x")) is None


def test_the_prepared_insert_stores_what_save_would():
    from approvals.models import ActionRequest
    from approvals.services import submit

    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    filed = submit(
        actor=identity.agent,
        data={
            "action": "orders.read",
            "resource": "db/orders",
            "environment": "prod",
            "context": {"run": "r-1"},
            "justification": "nightly",
        },
    ).action
    stored = ActionRequest.objects.get(pk=filed.pk)
    for field in ActionRequest._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(filed, field.attname), field.name
    assert stored.context == {"run": "r-1"}  # JSON prepared by the field, as save does


def test_the_prepared_multi_row_insert_of_a_model_with_database_ids():
    from approvals.models import ActionReviewerGroup
    from approvals.services import submit
    from tests.factories import apply_policy

    apply_policy(
        "default: {effect: require_approval, approvals: 1, reviewers: [ops, dba], timeout: 1h}\n"
    )
    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    filed = submit(actor=identity.agent, data={"action": "db.drop", "resource": "db/x"}).action
    stored = ActionReviewerGroup.objects.filter(action_id=filed.pk)
    assert sorted(stored.values_list("name", flat=True)) == ["dba", "ops"]
    assert all(group.pk is not None for group in stored)


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _token_statements() -> list[str]:
    return [s for s in _prepared_statements() if '"accounts_agent"."token_hash"' in s]


@postgres_only
def test_on_postgresql_the_look_up_is_prepared_once_per_connection():
    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    assert isinstance(principal_for_token(identity.token), Agent)
    assert len(_token_statements()) == 1  # parsed and planned once, on first use
    for _ in range(3):
        assert isinstance(principal_for_token(identity.token), Agent)
    assert len(_token_statements()) == 1  # then only executed
    revoke_agent(name="etl-bot")
    assert principal_for_token(identity.token) is None  # the same statement, new answer


@postgres_only
def test_a_rollback_or_a_schema_change_on_the_connection_does_not_break_it():
    from django.db import transaction

    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    assert isinstance(principal_for_token(identity.token), Agent)
    # psycopg deallocates its statements after a rollback; the next use prepares again.

    def look_up_and_roll_back() -> None:
        with transaction.atomic():
            assert isinstance(principal_for_token(identity.token), Agent)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        look_up_and_roll_back()
    assert isinstance(principal_for_token(identity.token), Agent)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_agent ADD COLUMN scratch integer")
    try:
        assert isinstance(principal_for_token(identity.token), Agent)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE accounts_agent DROP COLUMN scratch")
    assert isinstance(principal_for_token(identity.token), Agent)


@postgres_only
def test_with_prepared_statements_off_nothing_is_prepared(monkeypatch):
    owner = make_person("owner@example.com")
    identity = make_agent(owner.user, name="etl-bot")
    # What DB_PREPARED_STATEMENTS=0 leaves out of the options.
    monkeypatch.delitem(connection.settings_dict["OPTIONS"], "prepare_threshold")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # whatever an earlier test left on this connection
    assert isinstance(principal_for_token(identity.token), Agent)
    assert _token_statements() == []
