"""Django's PostgreSQL backend, with a pool check that costs no round trip for a
healthy connection.

With ``CONN_HEALTH_CHECKS`` Django has psycopg's pool check every connection it hands
out with an empty query: one round trip more on every request, the fast path's
cheapest statement. A connection the server has closed while it sat in the pool (a
restart's "terminating connection due to administrator command", an idle timeout)
has that message or the end of the stream waiting on its socket; a healthy idle
connection has nothing to read. So the socket is polled (no wait) and only a
connection with something to read gets the empty query, and is replaced if it
fails it. A peer that vanished without a word (no FIN) is caught by neither check
until TCP gives up; the request then fails and the broken connection is discarded.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base

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


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        pool = super().pool
        if pool is not None and self.settings_dict["CONN_HEALTH_CHECKS"]:
            # Django passes psycopg's own check (an empty query) when health checks
            # are on; the pool keeps it as its one check callback.
            pool._check = check_when_signalled
        return pool
