"""The one seam between a request's change and everything that follows from it.

Every change of a request (filed, a status change, a review, screened, an outcome)
is emitted here by ``approvals.services.transitions`` *inside* the transaction that
made it, as one ``DomainEvent``. Consumers register with ``@consumer(name,
wants=...)``; each one that wants the event gets a row in the outbox
(``OutboxEvent.consumers``), written in the same transaction. After commit the
event is handed to those consumers at once, in this process; a consumer that
raises (the broker is down, a worker crashed before the receipt) leaves the event
due, and ``sweep`` hands it again with exponential backoff and jitter until every
consumer has taken it. A consumer never gets an event it has a receipt for.

So delivery is at least once, and exactly once unless a process dies between a
consumer's success and its receipt: consumers must be idempotent (a broadcast is;
the screening task checks ``screened_at``; deliveries are keyed by event id).

Adding a side effect: see ``docs/architecture.md``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from airlock import after_response, prepared
from airlock.db import relaxed_update_row
from approvals.models import ActionRequest, ActionReviewerGroup, OutboxEvent, OutboxReceipt

logger = logging.getLogger(__name__)

# Kinds of domain event.
FILED = "filed"  # a new request, in its first status
STATUS = "status"  # its status changed (``previous`` -> ``status``)
REVIEWED = "reviewed"  # a review that did not decide it
SCREENED = "screened"  # a payload masked after a decision made without it
OUTCOME = "outcome"  # the requester reported what happened

KINDS = frozenset({FILED, STATUS, REVIEWED, SCREENED, OUTCOME})


@dataclass(frozen=True)
class DomainEvent:
    """What consumers are told: ids and states, never a payload."""

    kind: str
    action_id: UUID
    status: str
    previous: str = ""
    screened: bool = True
    reviewer_groups: tuple[str, ...] = ()
    id: int | None = None
    # Whether the request has a callback for its agent to be told (None: not known
    # here; a consumer that needs it reads the request).
    callback: bool | None = None


@dataclass(frozen=True)
class Consumer:
    name: str
    wants: Callable[[DomainEvent], bool]
    handle: Callable[[DomainEvent], None]


_registry: dict[str, Consumer] = {}

# When a consumer last failed in this process (monotonic seconds). A first hand-off
# skips a consumer that failed moments ago: during an outage each request would
# otherwise wait for the broker to refuse it; the sweep tries it instead.
_failed_at: dict[str, float] = {}


def consumer(
    name: str, *, wants: Callable[[DomainEvent], bool]
) -> Callable[[Callable[[DomainEvent], None]], Callable[[DomainEvent], None]]:
    """Register ``handle`` for the events ``wants`` accepts. ``wants`` is asked inside
    the transaction, from the event alone (no queries): keep it cheap."""

    def register(handle: Callable[[DomainEvent], None]) -> Callable[[DomainEvent], None]:
        existing = _registry.get(name)
        if existing is not None and existing.handle is not handle:
            raise ValueError(f"a dispatch consumer named {name!r} is registered already")
        _registry[name] = Consumer(name, wants, handle)
        return handle

    return register


def consumers() -> list[str]:
    return list(_registry)


def _settings() -> dict[str, Any]:
    return settings.AIRLOCK["DISPATCH"]


def emit(
    action: ActionRequest,
    kind: str,
    *,
    previous: str = "",
    reviewer_groups: Iterable[str] | None = None,
) -> DomainEvent | None:
    """Record that ``action`` changed, in the caller's transaction. Returns the event,
    or None when no consumer wants it (then nothing is written: the fast path pays
    for no side effect it does not have)."""
    pending = prepare(action, kind, previous=previous, reviewer_groups=reviewer_groups)
    if pending is None:
        return None
    # The statement built once (the ORM's create compiled it on every filing).
    return pending.stored(prepared.insert_returning_pk(pending.row))


@dataclass(frozen=True)
class Pending:
    """An event not yet written, for a change that writes it in its own statements
    (``transitions.file``: one query for the request, its audit events and this):
    run ``statement`` with the change, in its transaction, then call ``stored`` with
    the id it returned. Where the database returns no columns from an INSERT,
    ``statement`` is None: write ``row`` with ``prepared.insert_returning_pk`` in the
    change's transaction, and call ``stored`` with its id."""

    event: DomainEvent
    names: list[str]
    row: OutboxEvent
    statement: tuple[str, list[Any]] | None

    def stored(self, event_id: int) -> DomainEvent:
        """The row is written (``event_id``): hand the event on after commit (at once
        when that has happened), and inside a request after its response has been
        sent: the requester does not wait for the broadcast or the chat messages'
        plan."""
        self.row.pk = event_id
        prepared.inserted(self.row)
        event = replace(self.event, id=event_id)
        hand_off = partial(_deliver, event, self.names, attempts=0, fresh=True)
        transaction.on_commit(partial(after_response.defer, hand_off), robust=True)
        return event


def prepare(
    action: ActionRequest,
    kind: str,
    *,
    previous: str = "",
    reviewer_groups: Iterable[str] | None = None,
) -> Pending | None:
    """``emit``'s event and its outbox row, not written; None when no consumer wants
    it."""
    event, names = _wanted(action, kind, previous, reviewer_groups)
    if not names:
        return None
    now = timezone.now()
    row = OutboxEvent(
        kind=kind,
        action_id=action.pk,
        status=event.status,
        previous=previous,
        consumers=names,
        created_at=now,
        # The sweep leaves a fresh event to the after-commit hand-off for this long.
        next_attempt_at=now + timedelta(seconds=_settings()["GRACE_SECONDS"]),
    )
    return Pending(event, names, row, prepared.insert_returning_pk_statement(row))


def _wanted(
    action: ActionRequest, kind: str, previous: str, reviewer_groups: Iterable[str] | None
) -> tuple[DomainEvent, list[str]]:
    if kind not in KINDS:
        raise ValueError(f"unknown domain event kind {kind!r}")
    groups = (
        reviewer_groups
        if reviewer_groups is not None
        else ActionReviewerGroup.objects.filter(action_id=action.pk).values_list("name", flat=True)
    )
    event = DomainEvent(
        kind=kind,
        action_id=action.pk,
        status=action.status,
        previous=previous,
        screened=action.screened,
        reviewer_groups=tuple(sorted(groups)),
        callback=action.calls_back,
    )
    return event, [c.name for c in _registry.values() if c.wants(event)]


def _pause() -> float:
    return float(_settings()["INLINE_PAUSE_SECONDS"])


def _backoff(attempts: int) -> timedelta:
    """Exponential, capped, with full jitter in its upper half: many events failed by
    one outage do not all come back in the same second."""
    base = min(_settings()["BACKOFF_MAX_SECONDS"], _settings()["BACKOFF_SECONDS"] * 2**attempts)
    return timedelta(seconds=base * (0.5 + random.random() / 2))  # noqa: S311 - not a secret


def _deliver(event: DomainEvent, names: list[str], *, attempts: int, fresh: bool) -> bool:
    """Hand ``event`` to the consumers in ``names`` that have not taken it. True when
    every one has."""
    event_id = event.id
    if event_id is None:
        raise ValueError("only a stored event can be delivered")
    taken: set[str] = set()
    if not fresh:  # a first hand-off cannot have receipts yet
        taken = set(
            OutboxReceipt.objects.filter(event_id=event_id).values_list("consumer", flat=True)
        )
    succeeded: list[str] = []
    failures: dict[str, str] = {}
    for name in names:
        if name in taken:
            continue
        registered = _registry.get(name)
        if registered is None:
            # Consumers are registered at start-up; one that is gone in this version
            # has nothing to do, and retrying would only fill the log.
            logger.warning("dispatch: no consumer %r for event %s; skipped", name, event.id)
            continue
        failed_at = _failed_at.get(name)
        if fresh and failed_at is not None and time.monotonic() - failed_at < _pause():
            failures[name] = f"{name}: left to the sweep (failed {_pause():g} s ago or less)"
            continue
        try:
            registered.handle(event)
        except Exception as exc:
            _failed_at[name] = time.monotonic()
            failures[name] = f"{name}: {type(exc).__name__}: {exc}"[:240]
            logger.warning("dispatch: %s failed on event %s: %s", name, event.id, exc)
        else:
            _failed_at.pop(name, None)
            succeeded.append(name)
    now = timezone.now()
    if not failures:
        # Lost in a crash, this only hands the event on again (consumers are idempotent).
        relaxed_update_row(
            OutboxEvent, event_id, delivered_at=now, attempts=attempts + 1, last_error=""
        )
        return True
    OutboxReceipt.objects.bulk_create(
        [OutboxReceipt(event_id=event_id, consumer=name, at=now) for name in succeeded],
        ignore_conflicts=True,
    )
    attempts += 1
    OutboxEvent.objects.filter(pk=event_id).update(
        attempts=attempts,
        next_attempt_at=now + _backoff(attempts),
        last_error="; ".join(failures.values())[:500],
    )
    if attempts >= _settings()["ALERT_AFTER_ATTEMPTS"]:
        logger.error(
            "dispatch: event %s (%s %s) still undelivered after %d attempts: %s",
            event.id,
            event.kind,
            event.action_id,
            attempts,
            "; ".join(failures.values()),
        )
    return False


def _event_of(row: OutboxEvent) -> DomainEvent:
    groups = ActionReviewerGroup.objects.filter(action_id=row.action_id).values_list(
        "name", flat=True
    )
    action = (
        ActionRequest.objects.only("screened_at", "callback_url", "requester_agent_id")
        .filter(pk=row.action_id)
        .first()
    )
    return DomainEvent(
        kind=row.kind,
        action_id=row.action_id,
        status=row.status,
        previous=row.previous,
        screened=action is not None and action.screened,
        reviewer_groups=tuple(sorted(groups)),
        id=row.pk,
        callback=action is not None and action.calls_back,
    )


def sweep(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Hand every due, undelivered event to the consumers that have not taken it.
    Returns how many events are now delivered. Safe to run concurrently: each event
    is claimed by moving its next attempt before it is handed on."""
    now = now or timezone.now()
    batch = batch or _settings()["SWEEP_BATCH"]
    due = list(
        OutboxEvent.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now).order_by(
            "id"
        )[:batch]
    )
    delivered = 0
    for row in due:
        claimed = OutboxEvent.objects.filter(
            pk=row.pk, delivered_at__isnull=True, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=now + timedelta(seconds=_settings()["CLAIM_SECONDS"]))
        if not claimed:
            continue  # another sweep has it
        if _deliver(_event_of(row), list(row.consumers), attempts=row.attempts, fresh=False):
            delivered += 1
    if due:
        logger.info("dispatch sweep: %d due, %d delivered", len(due), delivered)
    return delivered


def purge_delivered(*, older_than: timedelta | None = None) -> int:
    """Forget delivered events after a while: the audit log is the record, the outbox
    only a queue."""
    age = older_than or timedelta(days=_settings()["KEEP_DELIVERED_DAYS"])
    deleted, _ = OutboxEvent.objects.filter(
        delivered_at__isnull=False, delivered_at__lt=timezone.now() - age
    ).delete()
    return deleted


def undelivered() -> int:
    return OutboxEvent.objects.filter(delivered_at__isnull=True).count()
