"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def relaxed_commit() -> Iterator[None]:
    """A transaction for an outbox's own bookkeeping (claims, attempts, "delivered").
    On PostgreSQL it does not wait for the WAL flush: a crash can lose the last few
    such writes, and then a side effect is handed on again, which at-least-once
    delivery with stable ids allows for. It saves an fsync per write. Never for a
    change of state that must be durable (a request, a review, an audit event)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
