"""Notifications: latency to Slack, and delivery throughput of the outbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_notify \\
        python benchmarks/notify.py --latency 200 --requests 1000 --channels 3 --workers 1,4

Runs in one process against a local fake Slack Web API (the real slack-sdk
WebClient talks to it over loopback HTTP). The database must be a scratch one
(its name contains "notify" or "bench"): it is migrated, and the tables this
writes are emptied first. Prints:

- latency: from ``submit`` of a request that policy holds for review to the fake
  Slack receiving its ``chat.postMessage`` (p50/p95/max), with the same submit
  without any channel as the baseline. Celery runs eagerly here, so the message
  is sent in the after-commit hand-off, as the embedded default does;
- throughput: ``--requests`` pending requests fanned out to ``--channels`` Slack
  channels each. The rows are planned with the send task disabled (as when the
  broker is down), then drained by ``--workers`` concurrent sweeps (threads with
  their own connections, as sweep workers would be): deliveries per second, and
  a check that every message arrived exactly once.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ.setdefault("AIRLOCK_RATE_LIMIT", "1000000/min")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from airlock.celery import app  # noqa: E402
from approvals.models import ActionRequest, OutboxEvent  # noqa: E402
from approvals.services import submit  # noqa: E402
from notifications import services, slack_app, tasks  # noqa: E402
from notifications.models import Channel, Delivery, SlackMessage  # noqa: E402
from tests.factories import apply_policy, make_agent, make_person, quorum_policy  # noqa: E402
from tests.notifications.fakes import start_fake_slack  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def scratch() -> None:
    name = Path(str(settings.DATABASES["default"]["NAME"])).name
    if "notify" not in name and "bench" not in name:
        raise SystemExit(f"refusing to write to {name!r}: use a scratch database")
    call_command("migrate", verbosity=0)
    Delivery.objects.all().delete()
    SlackMessage.objects.all().delete()
    Channel.objects.all().delete()
    OutboxEvent.objects.all().delete()


def latency(agent, count: int, fake) -> dict[str, float]:
    received: dict[str, float] = {}
    fake.on_call = lambda call: (
        received.setdefault(call.params["blocks"][1]["fields"][1]["text"], time.perf_counter())
        if call.method == "chat.postMessage"
        else None
    )
    baseline, waits = [], []
    for n in range(count):
        started = time.perf_counter()
        submit(actor=agent, data={"action": "key.rotate", "resource": f"kms://base{n}"})
        baseline.append(time.perf_counter() - started)
    channel = Channel.objects.create(
        kind="slack", name="bench-latency", target="C0BENCH", groups=["reviewers"]
    )
    for n in range(count):
        resource = f"kms://lat{n}"
        started = time.perf_counter()
        submit(actor=agent, data={"action": "key.rotate", "resource": resource})
        waits.append(received[f"*Resource*\n{resource}"] - started)
    channel.delete()
    fake.on_call = None
    return {
        "submit p50 ms (no channel)": pct(baseline, 50),
        "submit p95 ms (no channel)": pct(baseline, 95),
        "pending -> chat.postMessage p50 ms": pct(waits, 50),
        "pending -> chat.postMessage p95 ms": pct(waits, 95),
        "pending -> chat.postMessage max ms": max(waits) * 1000,
    }


def throughput(agent, requests: int, channels: int, workers: int, fake) -> dict[str, float]:
    Delivery.objects.all().delete()
    Channel.objects.all().delete()
    for n in range(channels):
        Channel.objects.create(
            kind="slack", name=f"bench-{n}", target=f"C0BENCH{n}", groups=["reviewers"]
        )
    real_enqueue = tasks.enqueue
    tasks.enqueue = lambda ids: None  # the broker is "down": rows only
    started = time.perf_counter()
    for n in range(requests):
        submit(actor=agent, data={"action": "key.rotate", "resource": f"kms://tp{n}"})
    planned = time.perf_counter() - started
    tasks.enqueue = real_enqueue
    total = Delivery.objects.filter(status="pending").count()
    before = len(fake.of("chat.postMessage"))

    def drain() -> None:
        try:
            while services.sweep():
                pass
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=drain) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sent = len(fake.of("chat.postMessage")) - before
    delivered = Delivery.objects.filter(status="delivered").count()
    if sent != total or delivered != total:
        raise SystemExit(f"expected {total} messages once each, got {sent} sent, {delivered}")
    return {
        "requests": requests,
        "deliveries": total,
        "filing + planning s": planned,
        "workers": workers,
        "drain s": elapsed,
        "deliveries/s": total / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args()
    scratch()
    app.conf.task_always_eager = True
    fake = start_fake_slack()
    settings.SLACK = {**settings.SLACK, "BOT_TOKEN": "xoxb-bench", "API_URL": fake.url}
    slack_app._app.cache_clear()
    apply_policy(quorum_policy(1))
    owner = make_person(f"owner-{time.time_ns()}@example.com").user
    agent = make_agent(owner, f"bench-{time.time_ns() % 10**9}").agent
    print(f"database: {connection.vendor}")
    for name, value in latency(agent, args.latency, fake).items():
        print(f"  {name}: {value:.1f}")
    for workers in [int(w) for w in args.workers.split(",")]:
        figures = throughput(agent, args.requests, args.channels, workers, fake)
        print(
            "  "
            + ", ".join(
                f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}" for k, v in figures.items()
            )
        )
    ActionRequest.objects.filter(requester_agent=agent).count()
    fake.server.shutdown()


if __name__ == "__main__":
    main()
