"""airlock.db.relaxed_update: an outbox's bookkeeping UPDATE as its own transaction
without waiting for the WAL flush, in one round trip on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from airlock.db import relaxed_update, relaxed_update_row
from approvals.models import OutboxEvent
from tests.conftest import Api


def _event(agent_api: Api) -> OutboxEvent:
    agent_api.file()  # a held request: one outbox event
    return OutboxEvent.objects.get()


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_it_updates_and_counts_in_one_query_outside_a_transaction(agent_api):
    event = _event(agent_api)
    later = timezone.now() + timedelta(minutes=5)
    with CaptureQueriesContext(connection) as queries:
        updated = relaxed_update(OutboxEvent.objects.filter(pk=event.pk), next_attempt_at=later)
        none = relaxed_update(OutboxEvent.objects.filter(pk=-1), next_attempt_at=later)
    assert (updated, none) == (1, 0)
    event.refresh_from_db()
    assert event.next_attempt_at == later
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 2
        assert all(
            q["sql"].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE")
            for q in queries.captured_queries
        )
        # LOCAL: gone with the query's own transaction.
        assert _synchronous_commit() == "on"


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_it_joins_it_and_rolls_back_with_it(agent_api):
    event = _event(agent_api)
    later = timezone.now() + timedelta(minutes=5)
    counted: list[int] = []

    def change_that_fails() -> None:
        with transaction.atomic():
            counted.append(
                relaxed_update(OutboxEvent.objects.filter(pk=event.pk), next_attempt_at=later)
            )
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert counted == [1]
    event.refresh_from_db()
    assert event.next_attempt_at != later


@pytest.mark.django_db(transaction=True)
def test_the_row_form_updates_one_row_by_its_key_with_a_statement_built_once(agent_api):
    event = _event(agent_api)
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        updated = relaxed_update_row(
            OutboxEvent, event.pk, delivered_at=now, attempts=3, last_error=""
        )
        again = relaxed_update_row(
            OutboxEvent, event.pk, delivered_at=now, attempts=4, last_error=""
        )
        none = relaxed_update_row(OutboxEvent, -1, delivered_at=now, attempts=1, last_error="")
    assert (updated, again, none) == (1, 1, 0)
    event.refresh_from_db()
    assert (event.delivered_at, event.attempts, event.last_error) == (now, 4, "")
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 3
        table = OutboxEvent._meta.db_table
        assert all(
            q["sql"].startswith(f'SET LOCAL synchronous_commit TO OFF; UPDATE "{table}" SET')
            for q in queries.captured_queries
        )
        assert _synchronous_commit() == "on"


@pytest.mark.django_db(transaction=True)
def test_the_row_form_inside_a_transaction_rolls_back_with_it(agent_api):
    event = _event(agent_api)

    def change_that_fails() -> None:
        with transaction.atomic():
            assert relaxed_update_row(OutboxEvent, event.pk, attempts=7) == 1
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    event.refresh_from_db()
    assert event.attempts != 7
