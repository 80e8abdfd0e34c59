"""airlock.prepared: statements compiled once must read and write exactly what the
ORM's own calls do."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from airlock.prepared import PreparedAll, insert_returning_pk
from approvals.models import OutboxEvent
from notifications.models import Channel
from notifications.services import channels_for
from tests.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)


def _channel(name: str, groups: list[str]) -> Channel:
    return Channel.objects.create(
        kind="webhook", name=name, target="https://hooks.example.com/x", groups=groups
    )


def test_every_row_in_the_querysets_order_as_the_orm_builds_them():
    for name, groups in [("b", ["reviewers"]), ("a", ["sre"]), ("c", ["reviewers", "sre"])]:
        _channel(name, groups)
    every = PreparedAll(lambda: Channel.objects.order_by("pk"))
    found = every.all()
    expected = list(Channel.objects.order_by("pk"))
    assert [c.pk for c in found] == [c.pk for c in expected]
    for got, want in zip(found, expected, strict=True):
        for field in Channel._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
        assert isinstance(got.created_at, datetime)
        assert got.created_at.tzinfo is not None
        assert isinstance(got.groups, list)  # the JSON converter ran, on SQLite too
        assert got._state.adding is False
    # Compiled once: the second call only runs the statement, and sees new rows.
    _channel("d", ["reviewers"])
    with CaptureQueriesContext(connection) as queries:
        assert len(every.all()) == 4
    assert len(queries.captured_queries) == 1


def test_channels_for_a_group_are_those_that_name_it():
    _channel("b", ["reviewers"])
    _channel("a", ["sre"])
    _channel("c", ["reviewers", "sre"])
    assert [c.name for c in channels_for(("reviewers",))] == ["b", "c"]
    assert [c.name for c in channels_for({"nobody"})] == []


def test_each_thread_compiles_for_its_own_connection():
    _channel("a", ["sre"])
    every = PreparedAll(lambda: Channel.objects.order_by("pk"))
    assert [c.name for c in every.all()] == ["a"]
    seen: list[list[str]] = []

    def other() -> None:
        try:
            seen.append([c.name for c in every.all()])
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert seen == [["a"]]


def test_an_insert_returning_its_key_stores_what_create_stores(agent_api: Api):
    agent_api.file()  # a request to point at
    template = OutboxEvent.objects.get()
    now = timezone.now()
    row = OutboxEvent(
        kind="status",
        action_id=template.action_id,
        status="approved",
        previous="pending",
        consumers=["notifications"],
        created_at=now,
        next_attempt_at=now,
    )
    pk = insert_returning_pk(row)
    assert pk == row.pk
    assert isinstance(pk, int)
    assert pk > template.pk
    assert row._state.adding is False
    stored = OutboxEvent.objects.get(pk=pk)
    for field in OutboxEvent._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(row, field.attname), field.name
    assert stored.attempts == 0
    assert stored.delivered_at is None


def test_a_none_is_written_as_null_not_bound(agent_api: Api):
    from airlock.prepared import insert_statement, inserted

    agent_api.file()
    template = OutboxEvent.objects.get()
    now = timezone.now()
    rows = [
        OutboxEvent(
            kind="status",
            action_id=template.action_id,
            status=status,
            consumers=["notifications"],
            created_at=now,
            next_attempt_at=now,
            delivered_at=None if status == "approved" else now,
        )
        for status in ("approved", "denied")
    ]
    sql, params = insert_statement(*rows)
    assert None not in params
    assert sql.count("%s") == len(params)
    assert sql.count("NULL") == 1  # the first row's delivered_at
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    inserted(*rows)
    stored = {e.status: e for e in OutboxEvent.objects.exclude(pk=template.pk)}
    assert stored["approved"].delivered_at is None
    assert stored["denied"].delivered_at == now
    assert stored["denied"].consumers == ["notifications"]
