"""What grants cost: signing and verifying one, the fast path with and without a
grant in its answer, a redemption end to end, and the postgres_role broker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_bench_grants \\
        python benchmarks/grants.py -n 500

Needs a scratch database whose name contains "bench" (created if missing, migrated,
its action tables emptied). In-process: Django's test client against the real
views, middleware and PostgreSQL (no HTTP server), so the figures are the server's
own cost. The broker figures use a throwaway database ``<name>_warehouse`` on the
same server, dropped at the end. Prints medians and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("AIRLOCK_RATE_LIMIT", "1000000/min")
os.environ.setdefault("AUDIT_SIGNING_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
os.environ.setdefault("GRANT_SIGNING_KEY", "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")

import django
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

url = os.environ.get("DATABASE_URL", "")
if "bench" not in url:
    sys.exit("DATABASE_URL must name a scratch database whose name contains 'bench'")
name = conninfo_to_dict(url)["dbname"]
with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as _conn:
    if not _conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        _conn.execute(f'CREATE DATABASE "{name}"')

django.setup()
# A refused redemption is logged by Django at WARNING; thousands of them are noise here.
logging.getLogger("django.request").setLevel(logging.ERROR)
logging.getLogger("approvals").setLevel(logging.ERROR)

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import create_agent  # noqa: E402
from approvals import brokers, grants  # noqa: E402
from approvals.grants import keys, tokens  # noqa: E402
from approvals.models import ActionRequest  # noqa: E402
from policies.services import propose  # noqa: E402

POLICY = """
rules:
  - name: reads-are-self-service
    match: {action: "*.read"}
    effect: allow
  - name: reads-without-grant
    match: {action: "*.peek"}
    effect: allow
    grant: {audience: nobody-redeems-this}
"""


def measure(label: str, n: int, call: Callable[[], Any]) -> None:
    for _ in range(min(20, n)):
        call()  # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"  {label:<58} p50 {statistics.median(times):8.3f}  p95 {p95:8.3f}  (n={n})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--no-broker", action="store_true", help="skip the broker figures")
    args = parser.parse_args()
    n = args.n
    call_command("migrate", verbosity=0)
    ActionRequest.objects.all().delete()
    propose(document=POLICY, actor="system", single_admin=True)
    owner, _ = User.objects.get_or_create(email="bench-owner@example.com")
    suffix = str(int(time.time()))
    _, agent_token = create_agent(name=f"bench-agent-{suffix}", owner_email=owner.email)
    _, executor_token = create_agent(name=f"bench-exec-{suffix}", owner_email=owner.email)
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
    executor = Client(HTTP_AUTHORIZATION=f"Bearer {executor_token}")
    body = {"action": "metrics.read", "resource": "prom://prod", "payload": {"n": 1}}

    print(f"machine: {os.cpu_count()} cores; PostgreSQL; in-process test client")
    print("grant tokens (pure functions, no database):")
    filed = agent.post("/api/v1/actions", body, content_type="application/json").json()
    action = (
        ActionRequest.objects.select_related("requester_agent")
        .prefetch_related("reviews__reviewer")
        .get(pk=filed["id"])
    )
    claims = grants.claims_for(action)
    key = keys.signing_key()
    assert claims is not None
    assert key is not None
    token = tokens.sign(claims, key)
    print(f"  a grant is {len(token)} bytes")
    measure(
        "claims_for (build the claims of an approved request)",
        n * 10,
        lambda: grants.claims_for(action),
    )
    measure("sign (EdDSA)", n * 10, lambda: tokens.sign(claims, key))
    verification = keys.verification_keys()
    measure(
        "verify (header, EdDSA, claims)",
        n * 10,
        lambda: tokens.verify(
            token, keys=verification, audience="airlock", issuer=settings.GRANTS["ISSUER"]
        ),
    )

    print("the fast path: POST /api/v1/actions answered approved, as the agent:")

    def file(action_name: str) -> dict[str, Any]:
        response = agent.post(
            "/api/v1/actions", {**body, "action": action_name}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    assert file("metrics.read")["grant"] is not None
    measure("with the grant in the answer (signed on read)", n, lambda: file("metrics.read"))
    saved = settings.GRANTS["SIGNING_KEY"]
    settings.GRANTS["SIGNING_KEY"] = ""
    assert file("metrics.read")["grant"] is None
    measure(
        "without a signing key (no grant: the cost before grants)", n, lambda: file("metrics.read")
    )
    settings.GRANTS["SIGNING_KEY"] = saved

    print("redemption: POST /api/v1/grants/redeem by an executor (first use, 200):")
    fresh = [file("metrics.read")["grant"] for _ in range(n + 20)]

    def redeem() -> None:
        response = executor.post(
            "/api/v1/grants/redeem", {"grant": fresh.pop()}, content_type="application/json"
        )
        assert response.status_code == 200, response.content

    measure("redeem (verify, lock, insert the jti, audit)", n, redeem)
    replayed = file("metrics.read")["grant"]
    executor.post("/api/v1/grants/redeem", {"grant": replayed}, content_type="application/json")

    def replay() -> None:
        response = executor.post(
            "/api/v1/grants/redeem", {"grant": replayed}, content_type="application/json"
        )
        assert response.status_code == 409

    measure("a replay (409 already_redeemed, audited)", n, replay)

    if args.no_broker:
        return
    print("postgres_role broker on the same server (a throwaway database):")
    warehouse = f"{name}_warehouse"
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{warehouse}"')
        conn.execute(f'CREATE DATABASE "{warehouse}"')
    try:
        with psycopg.connect(make_conninfo(url, dbname=warehouse), autocommit=True) as conn:
            conn.execute("CREATE TABLE public.customers (id int)")
        settings.GRANTS["POSTGRES_DSN"] = url
        broker = brokers.get("postgres_role")
        context = brokers.GrantContext(
            jti=claims["jti"],
            request_id=str(action.pk),
            agent=action.requester_agent.name,
            action="data.export",
            resource=f"postgres://{warehouse}/customers",
            expires_at=timezone.now().replace(microsecond=0) + timedelta(minutes=5),
        )
        issued: list[brokers.Issued] = []
        count = max(20, n // 10)
        measure(
            "mint (CREATE ROLE, GRANT CONNECT/USAGE/SELECT)",
            count,
            lambda: issued.append(broker.mint(context, {"privileges": ["SELECT"]})),
        )
        measure(
            "revoke (NOLOGIN, end sessions, REVOKE, DROP ROLE)",
            len(issued) - 20,
            lambda: (lambda c: broker.revoke(c.handle, c.scope, expired=True))(issued.pop()),
        )
    finally:
        for credential in issued:
            broker.revoke(credential.handle, credential.scope, expired=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{warehouse}"')


if __name__ == "__main__":
    main()
