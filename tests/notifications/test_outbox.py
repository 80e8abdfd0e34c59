"""The delivery outbox under faults: a broker outage loses nothing and doubles
nothing; deliveries are planned once per domain event; backoff grows with jitter."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from airlock.celery import app
from approvals import dispatch
from approvals.models import OutboxEvent
from approvals.services import submit
from notifications import services
from notifications.models import Delivery
from notifications.tasks import send_delivery
from tests.factories import apply_policy, make_agent, make_person, quorum_policy
from tests.notifications.conftest import slack_channel
from tests.notifications.fakes import start_receiver
from tests.servers import own_redis


@pytest.fixture
def broker(monkeypatch):
    """Celery sends to a Redis this test owns (and stops), not in-process."""
    with own_redis() as server:
        monkeypatch.setitem(app.conf, "task_always_eager", False)
        monkeypatch.setitem(app.conf, "broker_url", server.url)
        monkeypatch.setitem(app.conf, "broker_write_url", server.url)
        # A stopped broker is found out fast (the default waits 3 s per send).
        monkeypatch.setitem(app.conf, "broker_connection_timeout", 0.3)
        monkeypatch.setattr(app, "_pool", None)
        monkeypatch.setattr(app.amqp, "_producer_pool", None)
        yield server
        app._pool = None
        app.amqp._producer_pool = None


def _run_queued(server) -> int:
    """Take every message waiting in the broker and run it, as a worker would."""
    ran = 0
    while (raw := server.client().lpop("celery")) is not None:
        message = json.loads(raw)
        assert message["headers"]["task"] == "notifications.send"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        send_delivery.apply(args=args)
        ran += 1
    return ran


def _later(days: int = 1):
    return timezone.now() + timedelta(days=days)


@pytest.mark.django_db(transaction=True)
def test_requests_pending_while_redis_is_down_are_all_delivered_after_and_none_twice(
    broker, fake_slack, settings
):
    settings.AIRLOCK = {
        **settings.AIRLOCK,
        "ALLOW_HTTP_CALLBACKS": True,
        "ALLOW_PRIVATE_CALLBACKS": True,
    }
    receiver = start_receiver()
    apply_policy(quorum_policy(1))
    slack_channel()
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    secret = services.rotate_webhook_secret(agent_name="etl-bot", actor="system")
    make_person("carol@example.com", groups=["reviewers"])

    broker.stop()
    ids = [
        str(
            submit(
                actor=agent,
                data={
                    "action": "key.rotate",
                    "resource": f"kms://k{n}",
                    "callback_url": receiver.url,
                },
            ).action.pk
        )
        for n in range(3)
    ]
    # Filed and pending; none sent, every event left due. The first request's messages
    # are rows already; after that failure the next requests leave the consumer to
    # the dispatch sweep (AIRLOCK_DISPATCH_INLINE_PAUSE_SECONDS) instead of waiting.
    assert Delivery.objects.filter(status="pending", attempts=0).count() == 2
    assert fake_slack.of("chat.postMessage") == []
    assert receiver.received == []
    events = OutboxEvent.objects.filter(delivered_at__isnull=True)
    assert events.count() == 3
    assert all(e.last_error.startswith("notifications: ") for e in events)

    broker.start()
    assert dispatch.sweep(now=_later()) == 3  # the consumer runs again, and enqueues
    assert _run_queued(broker) == 6
    # The notification sweep and a duplicate of every task find nothing left to send.
    assert services.sweep(now=_later(2)) == 0
    for delivery_id in Delivery.objects.values_list("pk", flat=True):
        send_delivery.delay(delivery_id)
    assert _run_queued(broker) == 6
    assert dispatch.sweep(now=_later(3)) == 0

    posts = fake_slack.of("chat.postMessage")
    assert len(posts) == 3
    assert sorted(p.params["blocks"][1]["fields"][1]["text"].split("\n")[1] for p in posts) == [
        f"kms://k{n}" for n in range(3)
    ]
    verifier = Webhook(secret)
    seen = {
        verifier.verify(raw, headers)["data"]["id"]: headers["webhook-id"]
        for headers, raw in receiver.received
    }
    assert len(receiver.received) == 3
    assert sorted(seen) == sorted(ids)
    assert set(seen.values()) == set(
        Delivery.objects.filter(kind="callback").values_list("message_id", flat=True)
    )
    assert not Delivery.objects.exclude(status="delivered").exists()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.mark.django_db
def test_planning_the_same_event_twice_makes_no_second_delivery(fake_slack, agent_api):
    apply_policy(quorum_policy(1))
    slack_channel()
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    event = OutboxEvent.objects.get(kind="filed")
    domain_event = dispatch.DomainEvent(
        kind="filed",
        action_id=event.action_id,
        status="pending",
        reviewer_groups=("reviewers",),
        id=event.pk,
    )
    assert services.plan(domain_event) == []  # delivered already: nothing left to send
    assert Delivery.objects.count() == 1
    assert len(fake_slack.of("chat.postMessage")) == 1


@pytest.mark.django_db
def test_a_transient_slack_error_is_retried_and_a_permanent_one_is_not(fake_slack, agent_api):
    apply_policy(quorum_policy(1))
    slack_channel()
    fake_slack.fail["chat.postMessage"] = ["ratelimited", "channel_not_found"]
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "slack: ratelimited")
    services.sweep(now=_later())
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.last_error == "slack: channel_not_found"


@pytest.mark.django_db
def test_transient_failures_end_as_failed_after_the_last_attempt(fake_slack, agent_api, settings):
    settings.NOTIFY = {**settings.NOTIFY, "MAX_ATTEMPTS": 3}
    apply_policy(quorum_policy(1))
    slack_channel()
    fake_slack.fail["chat.postMessage"] = ["internal_error"] * 5
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    for day in (1, 2, 3):
        services.sweep(now=_later(day))
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_backoff_grows_is_capped_and_jittered(settings):
    settings.NOTIFY = {**settings.NOTIFY, "BACKOFF_SECONDS": 5, "BACKOFF_MAX_SECONDS": 300}
    for attempt, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (7, 300), (12, 300)]:
        delays = {services.backoff(attempt).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1
