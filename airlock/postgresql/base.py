"""Django's PostgreSQL backend, with a pool check that costs no round trip for a
healthy connection, and prepared statements for the few hot reads that ask.

With ``CONN_HEALTH_CHECKS`` Django has psycopg's pool check every connection it hands
out with an empty query: one round trip more on every request, the fast path's
cheapest statement. A connection the server has closed while it sat in the pool (a
restart's "terminating connection due to administrator command", an idle timeout)
has that message or the end of the stream waiting on its socket; a healthy idle
connection has nothing to read. So the socket is polled (no wait) and only a
connection with something to read gets the empty query, and is replaced if it
fails it. A peer that vanished without a word (no FIN) is caught by neither check
until TCP gives up; the request then fails and the broken connection is discarded.

Django binds parameters on the client (``ClientCursor``), so PostgreSQL parses and
plans every statement afresh. For the bearer token's look-up, run on every API call,
planning the join took 0.24 ms against 0.05 ms to run it (``pg_stat_statements``
under load); prepared, the look-up takes 262 us instead of 540 (docs/performance.md).
``prepared_cursor`` is a cursor with server-side binding, on which psycopg prepares
a statement the first time a connection runs it (``prepare_threshold``, set from
``DB_PREPARED_STATEMENTS`` in the settings) and from then on only executes it:
``airlock.prepared`` runs its statements there. Every other query keeps Django's
client-side binding (a ``ClientCursor`` never prepares). With
``DB_PREPARED_STATEMENTS=0`` (for a pooler that cannot keep prepared statements,
such as PgBouncer in transaction mode before 1.21) this cursor is Django's own.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base, operations
from psycopg import errors

__all__ = ["DatabaseWrapper", "check_when_signalled"]


def check_when_signalled(conn: Any) -> None:
    """The pool's check: raise if ``conn`` cannot be used, with a round trip only
    when the server has sent something since it was last used."""
    from psycopg_pool import ConnectionPool

    if conn.closed or conn.broken:
        raise conn.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """What a logged query was, also from a ``prepared_cursor``: as Django says it
        with server-side binding, or the statement itself where its parameters cannot
        be quoted (only asked where queries are logged: DEBUG, tests)."""
        found: str | None
        if isinstance(cursor, base.ServerBindingCursor):
            try:
                found = self.compose_sql(sql, params)
            except errors.DataError:
                found = None
        else:
            found = super().last_executed_query(cursor, sql, params)
        return sql if found is None else str(found)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def prepared_cursor(self) -> Any:
        """A cursor whose statements psycopg prepares on this connection (see the
        module's docstring); Django's ordinary cursor when prepared statements are
        off. Wrapped as Django wraps every cursor: its errors are Django's, and it
        is logged where queries are."""
        if self.settings_dict["OPTIONS"].get("prepare_threshold") is None:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()
        with self.wrap_database_errors:
            raw: Any = base.ServerBindingCursor(self.connection)  # type: ignore[call-arg]
        return self.make_debug_cursor(raw) if self.queries_logged else self.make_cursor(raw)

    @property
    def pool(self) -> Any:
        pool = super().pool
        if pool is not None and self.settings_dict["CONN_HEALTH_CHECKS"]:
            # Django passes psycopg's own check (an empty query) when health checks
            # are on; the pool keeps it as its one check callback.
            pool._check = check_when_signalled
        return pool
