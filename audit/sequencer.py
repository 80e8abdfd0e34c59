"""The sequencer: committed, unsequenced events get their place in the chain.

``record`` inserts an event with ``seq`` NULL and empty hash columns. A pass of the
sequencer, in one transaction of its own:

1. locks the one-row chain head (``SELECT … FOR UPDATE``; ``SKIP LOCKED`` when it
   must not wait), so one pass at a time extends the chain;
2. reads the oldest unsequenced events that are committed, in insertion-``id``
   order (the partial index ``audit_event_unsequenced`` holds only those, so this
   is not a scan of the log);
3. gives them consecutive ``seq`` numbers after the head's and computes each one's
   canonical bytes, leaf hash and chain hash, exactly as ``record`` did before;
4. writes them with one UPDATE (the only change the triggers allow an event) and
   moves the head.

Ids are handed out at insert and committed in any order, so an event whose
transaction commits late is simply found by a later pass and gets a later ``seq``:
nothing is skipped, and no "floor" below which events are assumed done is needed.
A transaction's own events have increasing ids, so they keep their order.

Who runs passes (``AUDIT_SEQUENCER``):

- ``inline`` (the default on SQLite, and the test suite's): ``record`` runs one in
  the writer's own transaction, so the event is sequenced when ``record`` returns.
  That serialises writers on the head lock until they commit: the old shape.
- ``deferred`` (the default on PostgreSQL): ``record`` only inserts. A long-running
  ``manage.py audit_sequence --follow`` polls every ``AUDIT_SEQUENCE_POLL_MS`` and
  sequences what has committed; the ``audit.sequence`` beat task is the safety net
  and the stall alarm.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import encoding
from audit import verify as chain
from audit.models import AuditEvent, ChainHead

logger = logging.getLogger(__name__)

INLINE = "inline"
DEFERRED = "deferred"
MODES = (INLINE, DEFERRED)
SEQUENCED_COLUMNS = ("seq", "canonical", "leaf_hash", "prev_hash", "chain_hash")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, "AUDIT", {}).get(name) or default


def mode() -> str:
    chosen = _setting("SEQUENCER", "")
    if not chosen:
        return DEFERRED if connection.vendor == "postgresql" else INLINE
    if chosen not in MODES:
        raise ValueError(f"AUDIT_SEQUENCER must be one of {', '.join(MODES)}, not {chosen!r}")
    return str(chosen)


def batch_size() -> int:
    return int(_setting("SEQUENCE_BATCH", 5000))


def stall_seconds() -> int:
    return int(_setting("SEQUENCE_STALL_SECONDS", 30))


# --- the chain head ---------------------------------------------------------------------


def locked_head(*, wait: bool = True) -> ChainHead | None:
    """The chain head under a row lock, held until the transaction ends. With
    ``wait=False``, None when another pass holds it (it will do the work)."""
    query = ChainHead.objects.filter(pk=1)
    head = (
        query.select_for_update() if wait else query.select_for_update(skip_locked=True)
    ).first()
    if head is not None:
        return head
    if not wait and ChainHead.objects.filter(pk=1).exists():
        return None  # there is a head, and it is locked
    # No head row: a new database, or a test database just flushed (the migration
    # makes one). Concurrent first passes meet on the primary key: one creates the
    # row, the others wait for it and then queue on its lock.
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "chain_hash": chain.GENESIS.hex()})
    head = ChainHead.objects.select_for_update().get(pk=1)
    # Every pass holds this lock, so under it "the head says empty" and "sequenced
    # events exist" can only both be true if the head was lost: never start a fork.
    if head.seq == 0 and AuditEvent.objects.filter(seq__isnull=False).exists():
        raise RuntimeError("the audit chain head is missing while events exist")
    return head


def sequenced_through() -> int:
    """The largest ``seq`` given so far (committed): the log is gapless up to it."""
    head = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    return int(head or 0)


# --- a pass -------------------------------------------------------------------------------


class SequencingError(RuntimeError):
    """An unsequenced event cannot be sequenced (its data is not canonical JSON, or
    the rows moved under the lock): the sequencer stops there rather than skip it."""


def sequence_pending(*, limit: int | None = None, wait: bool = False, from_id: int = 0) -> int:
    """One pass in a transaction of its own: how many events it sequenced (0 when
    there was nothing to do, or when another pass holds the head and ``wait`` is
    false). ``from_id``: look only at events with that insertion id or a later one."""
    return _pass(limit, wait, from_id)[0]


def _pass(limit: int | None, wait: bool, from_id: int) -> tuple[int, int]:
    """(events sequenced, the last one's id)."""
    limit = limit or batch_size()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            found = _locked_head_and_waiting(wait, limit, from_id)
            if found == "busy":
                return 0, from_id  # another pass holds the head
            if found != "missing":
                found_head, rows = found
                return _sequence_rows(found_head, rows) if rows else (0, from_id)
        head = locked_head(wait=wait)
        if head is None:
            return 0, from_id
        return _sequence_locked(head, limit, from_id)


# The head's lock and the waiting events in one round trip (PostgreSQL, whose simple
# query protocol takes several statements; Django's client-side binding sends one).
# Each statement of it reads a snapshot of its own, taken when it starts, so the
# events are read after the lock is held, as two queries would. The read walks the
# partial index in id order, never a bitmap scan: a plain index scan marks the
# entries that sequenced rows left behind as dead as it passes them, so the next
# pass skips them instead of visiting their heap pages again (measured: 21 ms, then
# 0.7 ms, over 84,000 such entries).
_HEAD_AND_WAITING = (
    "SET LOCAL enable_bitmapscan = off; "
    "SELECT seq, chain_hash FROM {head} WHERE id = 1 FOR UPDATE{skip}; {waiting}"
)


def _locked_head_and_waiting(
    wait: bool, limit: int, from_id: int
) -> tuple[ChainHead, list[tuple[Any, ...]]] | Literal["busy", "missing"]:
    """The locked head and the events waiting after it (``_waiting``'s rows);
    "busy" when another pass holds the head (``wait`` false), "missing" when there
    is no head row (``locked_head`` makes one)."""
    sql = _HEAD_AND_WAITING.format(
        head=ChainHead._meta.db_table,
        skip="" if wait else " SKIP LOCKED",
        waiting=_waiting_sql(postgres=True),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [from_id, limit])
        cursor.nextset()
        head_row = cursor.fetchone()
        cursor.nextset()
        rows = cursor.fetchall()
    if head_row is None:
        return "busy" if not wait and ChainHead.objects.filter(pk=1).exists() else "missing"
    head = ChainHead(pk=1, seq=head_row[0], chain_hash=head_row[1])
    head._state.adding, head._state.db = False, connection.alias
    return head, rows


def sequence_in_this_transaction(from_id: int) -> int:
    """Inline mode: sequence this transaction's event ``from_id`` (and anything
    visible after it), holding the head's lock until the caller commits. Its earlier
    events were sequenced by their own calls; committed events before it (left by
    a deferred writer) wait for a full pass, all of a transaction's together."""
    head = locked_head(wait=True)
    assert head is not None
    total = 0
    while True:
        done, last = _sequence_locked(head, batch_size(), from_id)
        if not done:
            return total
        total, from_id = total + done, last + 1


def sequence_all(*, wait: bool = True) -> int:
    """Passes until none is left (or another sequencer is at work, ``wait=False``)."""
    total = 0
    while done := sequence_pending(wait=wait):
        total += done
    return total


def _sequence_locked(head: ChainHead, limit: int, from_id: int = 0) -> tuple[int, int]:
    rows = _waiting(limit, from_id)
    return _sequence_rows(head, rows) if rows else (0, from_id)


def _sequence_rows(head: ChainHead, rows: Sequence[tuple[Any, ...]]) -> tuple[int, int]:
    """Give ``rows`` (``_waiting``'s, read under the head's lock) the next places in
    the chain, and move the head: (how many, the last one's id)."""
    seq, previous = head.seq, bytes.fromhex(head.chain_hash)
    ids: list[int] = []
    seqs: list[int] = []
    canonicals: list[str] = []
    leaves: list[str] = []
    prevs: list[str] = []
    links: list[str] = []
    sha = hashlib.sha256
    for event_id, at, event_type, actor, target, data_text in rows:
        seq += 1
        try:
            data, data_is_plain = _data(data_text)
            canonical = encoding.event_canonical(
                seq=seq,
                at=at,
                event_type=event_type,
                actor=actor,
                target=target,
                data=data,
                data_is_plain=data_is_plain,
            )
        except ValueError as exc:  # NotCanonical, or text that is not JSON
            raise SequencingError(f"audit event id {event_id} cannot be sequenced: {exc}") from exc
        leaf = sha(b"\x00" + canonical).digest()
        link = sha(previous + leaf).digest()
        ids.append(event_id)
        seqs.append(seq)
        canonicals.append(canonical.decode("utf-8"))
        leaves.append(leaf.hex())
        prevs.append(previous.hex())
        links.append(link.hex())
        previous = link
    # Both impossible under the lock; never write a fork.
    written, moved = _write(ids, seqs, canonicals, leaves, prevs, links, head, previous.hex())
    if written != len(ids):
        raise SequencingError("unsequenced audit events moved under the sequencer's lock")
    if not moved:
        raise SequencingError("the audit chain head moved under its lock")
    head.seq, head.chain_hash = seq, previous.hex()
    return len(ids), ids[-1]


def _waiting(limit: int, from_id: int) -> list[tuple[Any, ...]]:
    """The oldest committed unsequenced events, in id order: (id, at, event_type,
    actor, target, data as JSON text). One plain query: ``data`` as text is parsed
    by orjson, not by the ORM's per-row converters."""
    table = AuditEvent._meta.db_table
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(_waiting_sql(postgres=postgres), [from_id, limit])
        rows = cursor.fetchall()
    if postgres or not rows:
        return rows
    # SQLite hands ``at`` over as text; the ORM's converter makes it a datetime.
    field = AuditEvent._meta.get_field("at")
    converters = connection.ops.get_db_converters(field.get_col(table))
    return [(r[0], timestamp(_convert(r[1], converters, field)), *r[2:]) for r in rows]


_PG_AT = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _waiting_sql(*, postgres: bool) -> str:
    """``_waiting``'s query; its parameters are ``from_id`` and ``limit``. PostgreSQL
    spells ``at`` as ``timestamp`` does (as verification reads it), so no datetime is
    made per event."""
    at, data = (_PG_AT, "data::text") if postgres else ("at", "data")
    return (
        f"SELECT id, {at}, event_type, actor, target, {data} FROM {AuditEvent._meta.db_table} "  # noqa: S608 (our table)
        "WHERE seq IS NULL AND id >= %s ORDER BY id LIMIT %s"
    )


def _convert(value: Any, converters: Sequence[Any], field: Any) -> Any:
    for converter in converters:
        value = converter(value, field, connection)
    return value


def _data(text: str) -> tuple[Any, bool]:
    """The stored JSON text as the ORM's ``json.loads`` reads it, and whether it is
    ``encoding.plain``. orjson first; what it parses differently (integers past 64
    bits it reads as floats, which are not plain) goes to json."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        if encoding.plain(value):
            return value, True
    value = json.loads(text)
    return value, encoding.plain(value)


def _write(
    ids: list[int],
    seqs: list[int],
    canonicals: list[str],
    leaves: list[str],
    prevs: list[str],
    links: list[str],
    head: ChainHead,
    chain_hash: str,
) -> tuple[int, bool]:
    """Write the events' places and move the head from ``head`` to the last of them:
    (events written, whether the head moved)."""
    events, head_table = AuditEvent._meta.db_table, ChainHead._meta.db_table
    if connection.vendor == "postgresql":
        # One statement for the whole batch and the head, its values as six arrays
        # bound on the server in binary (psycopg's own cursor on Django's connection,
        # so in its transaction; text arrays would be escaped with a regex per
        # element): a VALUES list of 30,000 placeholders, or arrays quoted into the
        # query text by Django's client-side cursor, cost the client more than the
        # server's work. The head's UPDATE sees the events' as a count: no row
        # comes back when the head is not where this pass found it.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"WITH written AS (UPDATE {events} AS e SET seq = v.seq, "  # noqa: S608 (our tables)
                "canonical = v.canonical, leaf_hash = v.leaf_hash, prev_hash = v.prev_hash, "
                "chain_hash = v.chain_hash FROM unnest(%b::bigint[], %b::bigint[], %b::text[], "
                "%b::text[], %b::text[], %b::text[]) "
                "AS v(id, seq, canonical, leaf_hash, prev_hash, chain_hash) "
                "WHERE e.id = v.id AND e.seq IS NULL RETURNING 1) "
                f"UPDATE {head_table} SET seq = %b, chain_hash = %b WHERE id = 1 AND seq = %b "
                "RETURNING (SELECT count(*) FROM written)",
                [ids, seqs, canonicals, leaves, prevs, links, seqs[-1], chain_hash, head.seq],
            )
            row = cursor.fetchone()
        return (int(row[0]), True) if row is not None else (len(ids), False)
    with connection.cursor() as cursor:
        written = 0
        for row in zip(seqs, canonicals, leaves, prevs, links, ids, strict=True):
            cursor.execute(
                f"UPDATE {events} SET seq = %s, canonical = %s, leaf_hash = %s, "  # noqa: S608
                "prev_hash = %s, chain_hash = %s WHERE id = %s AND seq IS NULL",
                list(row),
            )
            written += int(cursor.rowcount)
    moved = ChainHead.objects.filter(pk=1, seq=head.seq).update(seq=seqs[-1], chain_hash=chain_hash)
    return written, moved == 1


def follow(
    *,
    pause: float = 0.01,
    should_stop: Callable[[], bool] = lambda: False,
    on_pass: Callable[[int], None] | None = None,
) -> None:
    """The production sequencer (``manage.py audit_sequence --follow``): a pass, and
    unless it took a full batch (it is catching up) a ``pause``, until
    ``should_stop()``. It waits for the head when another sequencer holds it, so a
    second follower is a standby. ``on_pass(count)`` after each pass that sequenced
    something.

    Pausing after a partial batch, not only after an empty one, lets a pass take
    what ``pause`` gathers: under a steady load, passing again at once meant a pass
    (the head's lock, the read, the UPDATE, the commit) for every event or two, and
    the follower's CPU and its backend's were a fifth of the fast path's.

    After a pass that found nothing, the next looks first (``_anything_waiting``: one
    read of the partial index, no transaction, no lock) and passes only when an
    event waits. An idle follower made a full pass every ``pause``: four round trips
    and a row lock on the head, whose write went to the WAL, a hundred times a
    second (measured idle: the follower and its backend 9% of a core each)."""
    idle = False
    while not should_stop():
        try:
            done = 0 if idle and not _anything_waiting() else sequence_pending(wait=True)
        except RuntimeError as exc:  # SequencingError, or a lost chain head: never fork
            logger.error("AUDIT SEQUENCER CANNOT PROCEED: %s", exc)
            done = 0
            time.sleep(1)
        except DatabaseError:
            logger.exception("audit sequencer pass failed; retrying")
            connection.close()
            done = 0
            time.sleep(1)
        idle = done == 0
        if done and on_pass is not None:
            on_pass(done)
        if done < batch_size():
            time.sleep(pause)


def _anything_waiting() -> bool:
    """Whether an event waits to be sequenced (it may be taken by the time a pass
    looks: the pass decides what it sequences, under the head's lock)."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE seq IS NULL LIMIT 1")  # noqa: S608
        return cursor.fetchone() is not None


# --- is it keeping up? ----------------------------------------------------------------------


def status(now: datetime | None = None) -> dict[str, Any]:
    """What the sequencer has done and what waits: ``sequenced_through``, how many
    events wait (``unsequenced``, counted up to 10,000), the age of the oldest, and
    ``stalled`` when that age passes ``AUDIT_SEQUENCE_STALL_SECONDS``."""
    now = now or timezone.now()
    waiting = AuditEvent.objects.filter(seq__isnull=True)
    oldest = waiting.order_by("id").values_list("at", flat=True).first()
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return {
        "mode": mode(),
        "sequenced_through": sequenced_through(),
        "unsequenced": waiting.order_by()[:10_000].count(),
        "oldest_unsequenced_seconds": round(age, 3),
        "stalled": oldest is not None and age > stall_seconds(),
    }


def stall_threshold() -> timedelta:
    return timedelta(seconds=stall_seconds())
