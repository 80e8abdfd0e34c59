"""The postgres_role broker end to end, against a real PostgreSQL: file, approve,
redeem, log in with the returned credential, read the approved table and nothing
else; after expiry (the sweep) or a revocation the login fails and the role is gone.

The test runs its own throwaway PostgreSQL cluster (this machine's binaries, a
temporary directory, a free port, password authentication): the shared server trusts
every loopback login, which would make a password and VALID UNTIL meaningless. The
broker logs in as a role with CREATEROLE that owns the tables, not as a superuser.
"""

from __future__ import annotations

import glob
import logging
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from approvals.models import BrokeredCredential
from approvals.services import grants as grant_services
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import apply_policy
from tests.grants.conftest import redeem

POLICY = """
rules:
  - name: warehouse-reads
    match: {action: data.export, resource: "postgres://warehouse/*"}
    effect: require_approval
    approvals: 1
    reviewers: [reviewers]
    grant_ttl: 5m
    grant: {audience: warehouse-executor, broker: postgres_role, privileges: [SELECT]}
"""
RESOURCE = "postgres://warehouse/sales.customers"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries on this machine")
    root = Path(tempfile.mkdtemp(prefix="airlock-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    superuser_password = secrets.token_urlsafe(16)
    (root / "pw").write_text(superuser_password)
    if as_user:
        shutil.chown(root / "pw", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(  # noqa: S603 - our own arguments
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
         "scram-sha-256", f"--pwfile={root / 'pw'}", "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(  # noqa: S603 - our own arguments
        [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
         "-l", str(root / "log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    admin = f"postgresql://postgres:{superuser_password}@127.0.0.1:{port}/postgres"
    broker_password = secrets.token_urlsafe(16)
    try:
        yield from _prepared(admin, broker_password, port)
    finally:
        subprocess.run(  # noqa: S603 - our own arguments
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _prepared(admin: str, broker_password: str, port: int):
    """The warehouse database, its tables, and the broker's own login."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE warehouse")
        conn.execute(f"CREATE ROLE airlock_broker LOGIN CREATEROLE PASSWORD '{broker_password}'")
        conn.execute("GRANT pg_signal_backend TO airlock_broker")
    with psycopg.connect(admin.rsplit("/", 1)[0] + "/warehouse", autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales AUTHORIZATION airlock_broker")
        conn.execute("SET ROLE airlock_broker")
        conn.execute("CREATE TABLE sales.customers (id int, email text)")
        conn.execute("INSERT INTO sales.customers VALUES (1, 'a@x.example'), (2, 'b@x.example')")
        conn.execute("CREATE TABLE sales.orders (id int, total int)")
        conn.execute("INSERT INTO sales.orders VALUES (1, 10)")
    yield {
        "admin": admin,
        "broker": f"postgresql://airlock_broker:{broker_password}@127.0.0.1:{port}/postgres",
    }


@pytest.fixture
def broker_settings(settings, cluster, db):
    settings.GRANTS = {**settings.GRANTS, "POSTGRES_DSN": cluster["broker"]}
    apply_policy(POLICY)
    return cluster


def _role_exists(cluster, role: str) -> bool:
    with psycopg.connect(cluster["admin"].rsplit("/", 1)[0] + "/warehouse") as conn:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    return found is not None


def _approve_and_redeem(agent_api, reviewer, executor_api):
    filed = agent_api.file({"action": "data.export", "resource": RESOURCE})
    action_id = filed.json()["id"]
    assert Api(reviewer.token).approve(action_id).status_code == 200
    token = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"]
    response = redeem(executor_api, token)
    assert response.status_code == 200, response.json()
    return action_id, response.json()


def test_the_credential_reads_the_approved_table_only_until_it_expires(
    broker_settings, agent_api, reviewer, executor_api, caplog
):
    caplog.set_level(logging.DEBUG)
    action_id, body = _approve_and_redeem(agent_api, reviewer, executor_api)
    credential = body["credential"]
    assert credential["kind"] == "postgres_role"
    assert credential["privileges"] == ["SELECT"]
    role, password = credential["username"], credential["password"]

    with psycopg.connect(credential["dsn"], autocommit=True) as conn:
        rows = conn.execute("SELECT id FROM sales.customers ORDER BY id").fetchall()
        assert rows == [(1,), (2,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM sales.orders")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO sales.customers VALUES (3, 'c@example.com')")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(credential["dsn"].replace(password, "x" + password[1:])).close()

    # VALID UNTIL is the grant's expiry, so the server itself refuses it after that.
    with psycopg.connect(broker_settings["admin"]) as conn:
        valid_until = conn.execute(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", [role]
        ).fetchone()[0]
    stored = BrokeredCredential.objects.get(action_id=action_id)
    assert valid_until == stored.expires_at
    assert int(stored.expires_at.timestamp()) == body["claims"]["exp"]

    # Not yet expired: the sweep leaves it alone.
    assert grant_services.sweep_credentials(now=stored.expires_at - timedelta(seconds=1)) == 0
    # At expiry the beat sweep drops the role.
    assert grant_services.sweep_credentials(now=stored.expires_at) == 1
    assert not _role_exists(broker_settings, role)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(credential["dsn"]).close()
    state = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant_state"]
    assert state["broker"] == "postgres_role"

    events = AuditEvent.objects.filter(target=f"action:{action_id}")
    issued = events.get(event_type="credential.issued")
    assert issued.data["handle"] == role
    assert issued.data["scope"] == "warehouse/sales.customers"
    assert events.get(event_type="credential.revoked").data["reason"] == "expired"
    # The secret is in no audit event and no log line.
    assert not any(password in e.canonical for e in AuditEvent.objects.all())
    assert password not in caplog.text


def test_revoking_the_grant_drops_the_role_at_once(
    broker_settings, agent_api, reviewer, executor_api, agent_owner
):
    action_id, body = _approve_and_redeem(agent_api, reviewer, executor_api)
    role = body["credential"]["username"]
    with psycopg.connect(body["credential"]["dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM sales.customers").fetchone() == (2,)
    revoked = Api(agent_owner.token).post(
        f"/api/v1/actions/{action_id}/grant/revoke", {"reason": "leaked in a CI log"}
    )
    assert revoked.status_code == 200
    assert revoked.json()["grant_state"]["status"] == "revoked"
    assert not _role_exists(broker_settings, role)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(body["credential"]["dsn"]).close()
    event = AuditEvent.objects.get(target=f"action:{action_id}", event_type="credential.revoked")
    assert event.data["reason"] == "grant revoked"


def test_a_broker_outage_leaves_the_grant_unused(
    broker_settings, settings, agent_api, reviewer, executor_api
):
    settings.GRANTS = {
        **settings.GRANTS,
        "POSTGRES_DSN": f"postgresql://airlock_broker:x@127.0.0.1:{_free_port()}/postgres",
    }
    filed = agent_api.file({"action": "data.export", "resource": RESOURCE})
    Api(reviewer.token).approve(filed.json()["id"])
    token = agent_api.get(f"/api/v1/actions/{filed.json()['id']}").json()["grant"]
    down = redeem(executor_api, token)
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "broker_unavailable"
    settings.GRANTS = {**settings.GRANTS, "POSTGRES_DSN": broker_settings["broker"]}
    again = redeem(executor_api, token)
    assert again.status_code == 200
    assert again.json()["credential"]["username"].startswith("airlock_")
    grant_services.sweep_credentials(
        now=BrokeredCredential.objects.get(action_id=filed.json()["id"]).expires_at
    )
