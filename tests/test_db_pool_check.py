"""The pool's check (airlock.postgresql): free for a healthy connection, and a
connection the server has closed is refused before a request gets it."""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db import connection

from airlock.postgresql.base import check_when_signalled

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend's pool"
)


def _connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.mark.django_db
def test_a_healthy_idle_connection_passes_without_a_query():
    conn = _connect()
    try:
        conn.execute("SELECT 1").fetchone()
        check_when_signalled(conn)
        # Nothing was sent: the server has no answer waiting to be read.
        assert select.select([conn.fileno()], [], [], 0.05)[0] == []
        check_when_signalled(conn)
    finally:
        conn.close()


@pytest.mark.django_db
def test_a_connection_the_server_terminated_is_refused():
    conn = _connect()
    try:
        pid = conn.info.backend_pid
        with _connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert select.select([conn.fileno()], [], [], 5)[0], "the server said nothing"
        with pytest.raises(psycopg.OperationalError):
            check_when_signalled(conn)
    finally:
        conn.close()


@pytest.mark.django_db
def test_the_pool_uses_it():
    connection.ensure_connection()
    assert connection.pool is not None
    assert connection.pool._check is check_when_signalled
