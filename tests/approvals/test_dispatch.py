"""The dispatch seam: every change of a request is one durable domain event, and every
side effect follows from it, after commit, surviving a broker outage."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from airlock.celery import app
from approvals import dispatch
from approvals.models import ActionRequest, OutboxEvent, OutboxReceipt
from approvals.services import submit
from tests.factories import apply_policy, make_agent, make_person, quorum_policy
from tests.servers import own_redis

HELD = """
default: {effect: allow}
rules:
  - name: exports-with-pii
    match: {action: data.export, data_classes: [EMAIL_ADDRESS]}
    effect: require_approval
    reviewers: [reviewers]
"""


def _later() -> object:
    """A moment after every backoff and grace period, so the sweep finds all that is due."""
    return timezone.now() + timedelta(days=1)


@pytest.fixture
def broker(monkeypatch):
    """Celery sends to a Redis this test owns (and may stop), not in-process."""
    with own_redis() as server:
        monkeypatch.setitem(app.conf, "task_always_eager", False)
        monkeypatch.setitem(app.conf, "broker_url", server.url)
        monkeypatch.setitem(app.conf, "broker_write_url", server.url)
        # Connections are pooled per app: forget them, so the next send dials our Redis.
        monkeypatch.setattr(app, "_pool", None)
        monkeypatch.setattr(app.amqp, "_producer_pool", None)
        yield server
        app._pool = None
        app.amqp._producer_pool = None


def _queued_screenings(server) -> list[str]:
    """The action ids of the screening tasks waiting in the broker's default queue."""
    ids = []
    for raw in server.client().lrange("celery", 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "approvals.screen_action"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


@pytest.mark.django_db(transaction=True)
def test_the_screening_task_refused_by_a_stopped_broker_is_sent_by_the_sweep_exactly_once(
    broker,
):
    apply_policy(HELD)
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    broker.stop()  # Redis goes away; the filing itself must still commit

    action = submit(
        actor=agent,
        data={
            "action": "data.export",
            "resource": "db://x",
            "payload": {"to": "dana.smith@example.com"},
        },
    ).action

    stored = ActionRequest.objects.get(pk=action.pk)
    assert stored.status == "screening"
    event = OutboxEvent.objects.get(action=action)
    assert (event.kind, event.consumers, event.delivered_at) == ("filed", ["screening"], None)
    assert event.attempts == 1
    assert event.last_error.startswith("screening: ")
    assert dispatch.sweep() == 0  # not due yet: backoff

    broker.start()  # back, empty: the message was never sent
    assert _queued_screenings(broker) == []
    assert dispatch.sweep(now=_later()) == 1
    assert _queued_screenings(broker) == [str(action.pk)]
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert event.attempts == 2

    # Nothing is sent twice: the event is delivered, and a later sweep leaves it.
    assert dispatch.sweep(now=_later() + timedelta(days=1)) == 0
    assert _queued_screenings(broker) == [str(action.pk)]

    # What the message asks for is the real task, which decides the request.
    from approvals.tasks import screen_action

    screen_action.apply(args=[str(action.pk)])
    decided = ActionRequest.objects.get(pk=action.pk)
    assert decided.status == "pending"
    assert decided.payload == {"to": "<EMAIL_ADDRESS>"}


@pytest.mark.django_db(transaction=True)
def test_a_failing_consumer_is_retried_alone_and_the_others_are_not_repeated(monkeypatch):
    apply_policy(quorum_policy(1))
    calls: dict[str, int] = {"steady": 0, "flaky": 0}

    def steady(event: dispatch.DomainEvent) -> None:
        calls["steady"] += 1

    def flaky(event: dispatch.DomainEvent) -> None:
        calls["flaky"] += 1
        if calls["flaky"] <= 3:
            raise ConnectionError("receiver unavailable")

    pending = lambda event: event.status == "pending"  # noqa: E731
    monkeypatch.setitem(dispatch._registry, "steady", dispatch.Consumer("steady", pending, steady))
    monkeypatch.setitem(dispatch._registry, "flaky", dispatch.Consumer("flaky", pending, flaky))

    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    action = submit(actor=agent, data={"action": "key.rotate", "resource": "kms://k"}).action
    event = OutboxEvent.objects.get(action=action)
    # notifications (a higher app) takes pending requests too; nothing to send here.
    assert set(event.consumers) == {"live", "notifications", "steady", "flaky"}
    assert calls == {"steady": 1, "flaky": 1}
    assert event.delivered_at is None
    assert sorted(OutboxReceipt.objects.filter(event=event).values_list("consumer", flat=True)) == [
        "live",
        "notifications",
        "steady",
    ]

    for attempt in range(2, 5):
        delivered = dispatch.sweep(now=_later() + timedelta(days=attempt))
        assert calls["flaky"] == attempt
        assert delivered == (1 if attempt == 4 else 0)
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert event.attempts == 4  # delivered on the fourth attempt
    assert calls["steady"] == 1  # never handed the event again


@pytest.mark.django_db(transaction=True)
def test_after_a_failure_requests_leave_that_consumer_to_the_sweep(monkeypatch):
    # During an outage every request would wait for the broker to refuse it; after one
    # failure the next first hand-offs skip the consumer, and the sweep still tries it.
    apply_policy(quorum_policy(1))
    tried: list[int] = []

    def down(event: dispatch.DomainEvent) -> None:
        tried.append(event.id)
        raise ConnectionError("broker away")

    pending = lambda event: event.status == "pending"  # noqa: E731
    monkeypatch.setitem(dispatch._registry, "down", dispatch.Consumer("down", pending, down))
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    first = submit(actor=agent, data={"action": "key.rotate", "resource": "kms://a"}).action
    second = submit(actor=agent, data={"action": "key.rotate", "resource": "kms://b"}).action
    events = {e.action_id: e for e in OutboxEvent.objects.all()}
    assert tried == [events[first.pk].id]  # the second request did not wait on it
    assert events[second.pk].last_error.startswith("down: left to the sweep")
    assert events[second.pk].delivered_at is None
    dispatch.sweep(now=_later())
    assert sorted(tried) == sorted([events[first.pk].id, events[first.pk].id, events[second.pk].id])


@pytest.mark.django_db(transaction=True)
def test_backoff_grows_and_is_jittered(monkeypatch, settings):
    settings.AIRLOCK = {
        **settings.AIRLOCK,
        "DISPATCH": {
            **settings.AIRLOCK["DISPATCH"],
            "BACKOFF_SECONDS": 2,
            "BACKOFF_MAX_SECONDS": 60,
        },
    }
    delays = [dispatch._backoff(attempt).total_seconds() for attempt in range(1, 10)]
    assert all(
        low / 2 <= d <= low
        for d, low in zip(delays, [4, 8, 16, 32, 60, 60, 60, 60, 60], strict=False)
    )
    assert len({round(d, 6) for d in delays}) > 1


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_writes_no_outbox_row():
    apply_policy("default: {effect: allow}\n")
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    action = submit(actor=agent, data={"action": "cluster.restart", "resource": "k8s://x"}).action
    assert action.status == "approved"
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_each_change_is_one_event_and_the_live_queue_takes_it():
    from approvals import services

    apply_policy(quorum_policy(2))
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    action = submit(actor=agent, data={"action": "key.rotate", "resource": "kms://k"}).action
    for _number in range(2):
        services.approve(action_id=action.pk, actor=make_person(groups=["reviewers"]).user)
    events = list(OutboxEvent.objects.filter(action=action).order_by("id"))
    assert [(e.kind, e.previous, e.status) for e in events] == [
        ("filed", "", "pending"),
        ("reviewed", "", "pending"),
        ("status", "pending", "approved"),
    ]
    assert all(e.consumers == ["live", "notifications"] and e.delivered_at for e in events)
    assert dispatch.undelivered() == 0


def test_a_consumer_name_is_registered_once():
    with pytest.raises(ValueError, match="registered already"):
        dispatch.consumer("live", wants=lambda event: True)(lambda event: None)
