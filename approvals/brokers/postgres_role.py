"""``postgres_role``: a temporary PostgreSQL login role per redeemed grant.

The approved resource names the table: ``postgres://<database>/<schema>.<table>``
(or ``.../<table>`` in ``public``). The role can log in until the grant's expiry
(``VALID UNTIL``), holds exactly the privileges the rule names on that table (and
``USAGE`` on its schema), and is dropped at expiry by the sweep or on revocation.

The password is sent to the server only as a SCRAM verifier computed here, so the
plain secret never appears in PostgreSQL's statement log either. The broker's own
login (``GRANT_BROKER_POSTGRES_DSN``) needs CREATEROLE and the right to grant those
privileges (the table's owner, or WITH GRANT OPTION).

Note that ``VALID UNTIL`` is enforced only for password logins: a server that trusts
the network (``trust`` in pg_hba.conf) lets the role in until the sweep drops it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
from django.conf import settings
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from approvals.brokers import BrokerError, GrantContext, Issued

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
ROLE = re.compile(r"^airlock_[0-9a-f]{16}_[0-9a-f]{8}$")
PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
)


def parse_resource(resource: str) -> tuple[str, str, str]:
    """(database, schema, table) of ``postgres://db/schema.table``, or BrokerError."""
    parts = urlsplit(resource)
    path = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or not parts.netloc or "/" in path:
        raise BrokerError("the resource is not postgres://<database>/<schema>.<table>")
    schema, _, table = path.rpartition(".")
    schema = schema or "public"
    for name in (parts.netloc, schema, table):
        if not IDENTIFIER.match(name):
            raise BrokerError(f"{name!r} is not a plain PostgreSQL identifier")
    return parts.netloc, schema, table


def _dsn(database: str) -> str:
    admin = settings.GRANTS["POSTGRES_DSN"]
    if not admin:
        raise BrokerError("GRANT_BROKER_POSTGRES_DSN is not configured")
    return make_conninfo(admin, dbname=database, connect_timeout=5)


class PostgresRoleBroker:
    kind = "postgres_role"

    def mint(self, grant: GrantContext, options: dict[str, Any]) -> Issued:
        database, schema, table = parse_resource(grant.resource)
        privileges = [p for p in options.get("privileges", []) if p in PRIVILEGES]
        if not privileges:
            raise BrokerError("the rule names no privileges")
        role = f"airlock_{grant.jti.replace('-', '')[:16]}_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        dsn = _dsn(database)
        try:
            with psycopg.connect(dsn, autocommit=False) as conn:
                verifier = conn.pgconn.encrypt_password(
                    password.encode(), role.encode(), b"scram-sha-256"
                ).decode()
                target = sql.Identifier(schema, table)
                statements = [
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOINHERIT CONNECTION LIMIT 8"
                        " PASSWORD {} VALID UNTIL {}"
                    ).format(
                        sql.Identifier(role),
                        sql.Literal(verifier),
                        sql.Literal(grant.expires_at.isoformat()),
                    ),
                    sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        sql.Identifier(database), sql.Identifier(role)
                    ),
                    sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                        sql.Identifier(schema), sql.Identifier(role)
                    ),
                    sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                        sql.SQL(", ").join(sql.SQL(p) for p in privileges),
                        target,
                        sql.Identifier(role),
                    ),
                ]
                with conn.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
                conn.commit()
        except psycopg.Error as exc:
            raise _error(exc) from None
        info = conninfo_to_dict(dsn)
        host, port = str(info.get("host") or "localhost"), str(info.get("port") or "5432")
        return Issued(
            handle=role,
            scope=f"{database}/{schema}.{table}",
            expires_at=grant.expires_at,
            secret={
                "kind": self.kind,
                "host": host,
                "port": int(port),
                "database": database,
                "username": role,
                "password": password,
                "dsn": f"postgresql://{role}:{quote(password, safe='')}@{host}:{port}/{database}",
                "privileges": privileges,
                "table": f"{schema}.{table}",
                "expires_at": grant.expires_at.isoformat(),
            },
        )

    def revoke(self, handle: str, scope: str, *, expired: bool = False) -> None:
        """Drop the role (idempotent): no more logins, its sessions ended, exactly
        what ``mint`` granted taken back, then the role itself."""
        if not ROLE.match(handle):
            raise BrokerError("not a role this broker made")
        database, _, qualified = scope.partition("/")
        schema, _, table = qualified.partition(".")
        role = sql.Identifier(handle)
        try:
            with psycopg.connect(_dsn(database), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", [handle]
                ).fetchone()
                if not exists:
                    return
                conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(role))
                # Without pg_signal_backend a session lives out its statement.
                with contextlib.suppress(psycopg.Error):
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                        [handle],
                    )
                with conn.transaction():
                    for statement in (
                        "REVOKE ALL ON TABLE {} FROM {}",
                        "REVOKE ALL ON SCHEMA {} FROM {}",
                        "REVOKE ALL ON DATABASE {} FROM {}",
                    ):
                        target = {
                            "TABLE": sql.Identifier(schema, table),
                            "SCHEMA": sql.Identifier(schema),
                            "DATABASE": sql.Identifier(database),
                        }[statement.split()[3]]
                        conn.execute(sql.SQL(statement).format(target, role))
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        except psycopg.Error as exc:
            raise _error(exc) from None


def _error(exc: psycopg.Error) -> BrokerError:
    # The server's primary message names objects and privileges, never the verifier.
    primary = exc.diag.message_primary if exc.diag else None
    return BrokerError(f"postgres_role: {type(exc).__name__} {exc.sqlstate}: {primary or ''}")
