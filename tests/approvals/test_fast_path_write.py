"""The self-service fast path writes a request and its audit events in one query.

With the deferred sequencer (PostgreSQL's production default) a request that policy
allows at once, with no reviewer and no side effect, is stored with its two audit
events in one multi-statement query sent outside any transaction: PostgreSQL runs
it as one transaction. These tests hold it to what the four-round-trip transaction
promised: both or neither, the idempotency race answered as a replay, and the
chain intact once sequenced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from approvals import services
from approvals.models import ActionRequest, ActionReviewerGroup, ActionStatus, OutboxEvent
from audit import sequencer
from audit.models import AuditEvent
from audit.verification import verify_database
from tests.conftest import racing_retries
from tests.factories import apply_policy

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-query write is PostgreSQL's"
)

POLICY = """\
default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}
rules:
  - name: reads-are-self-service
    match: {action: ["*.read"]}
    effect: allow
"""
ALLOWED = {"action": "orders.read", "resource": "db/orders", "environment": "prod"}


@pytest.fixture
def deferred(settings):
    settings.AUDIT = {**settings.AUDIT, "SEQUENCER": sequencer.DEFERRED}
    apply_policy(POLICY)
    return settings


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_an_allowed_request_and_its_events_are_one_query(deferred, requester_agent):
    with CaptureQueriesContext(connection) as queries:
        submission = services.submit(actor=requester_agent.agent, data=dict(ALLOWED))
    assert submission.action.status == ActionStatus.APPROVED
    writes = _writes(queries)
    assert len(writes) == 1, writes
    assert 'INSERT INTO "approvals_actionrequest"' in writes[0]
    assert "INSERT INTO audit_auditevent" in writes[0]
    assert not any(q["sql"] in ("BEGIN", "COMMIT") for q in queries.captured_queries)
    stored = ActionRequest.objects.get(pk=submission.action.pk)
    assert (stored.status, stored.decided_at) == (ActionStatus.APPROVED, stored.created_at)
    events = list(
        AuditEvent.objects.filter(target=stored.audit_target)
        .order_by("id")
        .values_list("event_type", "seq")
    )
    assert events == [("action.created", None), ("action.approved", None)]
    assert sequencer.sequence_all() >= 2
    assert verify_database().ok


@pytest.mark.django_db(transaction=True)
def test_a_held_request_and_its_outbox_row_are_one_query(deferred, requester_agent):
    with CaptureQueriesContext(connection) as queries:
        submission = services.submit(
            actor=requester_agent.agent, data={**ALLOWED, "action": "orders.export"}
        )
    assert submission.action.status == ActionStatus.PENDING
    sql = [q["sql"] for q in queries.captured_queries]
    writes = _writes(queries)
    # The request, its reviewer groups, its outbox row and its event: one query, its
    # own transaction (no BEGIN, no COMMIT).
    assert len(writes) == 1, writes
    for table in ("approvals_actionrequest", "approvals_actionreviewergroup"):
        assert f'INSERT INTO "{table}"' in writes[0]
    assert 'INSERT INTO "approvals_outboxevent"' in writes[0]
    assert "INSERT INTO audit_auditevent" in writes[0]
    assert not any(s in ("BEGIN", "COMMIT") for s in sql)
    # The outbox row is stored with the id the query returned, and handed on after
    # commit: its receipt-less delivery marked it delivered.
    event = OutboxEvent.objects.get(action_id=submission.action.pk)
    assert event.kind == "filed"
    assert event.delivered_at is not None
    # The hand-off after commit (no channel, no callback) needs no read of the request:
    # its domain event says what the consumers need.
    assert not any(s.startswith("SELECT") and '"approvals_actionrequest"' in s for s in sql)


@contextmanager
def inserts_refused(table: str) -> Iterator[None]:
    """A trigger that refuses every INSERT into ``table``, for the block's length."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_refuse ON {table}")
            cursor.execute("DROP FUNCTION test_refuse()")


@pytest.mark.django_db(transaction=True)
def test_when_the_outbox_row_cannot_be_written_nothing_is_stored(deferred, requester_agent):
    """Both or neither, with the side effects' row too: a refused outbox INSERT takes
    the request, its reviewer groups and its audit events with it."""
    events_before = AuditEvent.objects.count()
    with (
        inserts_refused("approvals_outboxevent"),
        pytest.raises(DatabaseError, match="refused by the test"),
    ):
        services.submit(actor=requester_agent.agent, data={**ALLOWED, "action": "x.export"})
    assert not ActionRequest.objects.filter(action="x.export").exists()
    assert not ActionReviewerGroup.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db(transaction=True)
def test_when_the_events_cannot_be_written_the_request_is_not_stored(deferred, requester_agent):
    """Both or neither: a refused audit INSERT takes the request's INSERT with it."""
    before = ActionRequest.objects.count()
    with inserts_refused("audit_auditevent"):
        with pytest.raises(DatabaseError, match="refused by the test"):
            services.submit(actor=requester_agent.agent, data=dict(ALLOWED))
        assert ActionRequest.objects.count() == before
        # The connection is usable afterwards: the failed query was its own transaction.
        assert ActionRequest.objects.filter(resource="db/orders").count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_an_allowed_request_create_one(deferred, requester_agent):
    """The unique key refuses the one query of every retry but one; the rest are
    answered as replays, and no orphan event is left by a refused one."""
    results = racing_retries(requester_agent.token, ALLOWED, "retry-storm")
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert len({action_id for _, action_id in results}) == 1
    action = ActionRequest.objects.get()
    assert AuditEvent.objects.filter(target=action.audit_target).count() == 2
