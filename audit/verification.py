"""Verify the stored log with the auditor's own verifier (``audit/verify.py``)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from audit import keys
from audit import verify as chain
from audit.models import AuditEvent, ChainHead, Checkpoint

logger = logging.getLogger(__name__)

EVENT_COLUMNS = chain.ROW_COLUMNS  # what verify_rows takes, in its order


def event_rows(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[dict[str, Any]]:
    """Events in sequence order as the verifier reads them (and as the export writes
    them), ``at`` in the canonical spelling."""
    from audit.sequencer import timestamp

    rows = (
        (AuditEvent.objects.all() if queryset is None else queryset)
        .filter(seq__isnull=False)
        .order_by("seq")
    )
    for row in rows.values(*EVENT_COLUMNS).iterator(chunk_size=5000):
        row["at"] = timestamp(row["at"])
        yield row


def checkpoint_rows() -> list[dict[str, Any]]:
    from audit.sequencer import timestamp

    return [
        {"tree_size": c.tree_size, "note": c.note, "created_at": timestamp(c.created_at)}
        for c in Checkpoint.objects.order_by("tree_size")
    ]


# PostgreSQL formats ``at`` as the canonical bytes spell it (``timestamp``), so no
# datetime object is made per event, and hands ``data`` over as text, parsed by the
# verifier (psycopg's per-value JSON loader cost more than the parse itself).
_PG_ROWS = (
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "event_type, actor, target, data::text, canonical, leaf_hash, prev_hash, chain_hash "
    "FROM audit_auditevent WHERE seq IS NOT NULL AND seq >= %s AND seq <= %s ORDER BY seq"
)
_ALL = 2**62
PART_SIZE = 50_000  # the smallest range a worker checks at once


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _postgres_rows(raw: Any, low: int = 1, high: int = _ALL) -> Iterator[Sequence[Any]]:
    """Sequenced events ``low`` <= seq <= ``high`` as tuples in ``verify.ROW_COLUMNS``
    order, streamed by a server-side binary cursor, many rows per round trip."""
    with raw.cursor(name="airlock_audit_verify", binary=True) as cursor:
        cursor.execute(_PG_ROWS, [low, high])
        while rows := cursor.fetchmany(20_000):
            yield from rows


def _rows() -> Iterator[Sequence[Any]]:
    if _on_postgres():
        connection.ensure_connection()
        return _postgres_rows(connection.connection)
    columns = chain.ROW_COLUMNS
    return (tuple(row[c] for c in columns) for row in event_rows())


def verify_database(*, workers: int = 1) -> chain.Result:
    """The auditor's checks over the sequenced log, and the chain head against it.
    Events committed but not yet sequenced are not in the log yet: they are counted
    by ``sequencer.status``, not verified.

    ``workers`` > 1 (PostgreSQL, a process that may fork: ``manage.py audit_verify``)
    checks ranges of the log in that many processes at once, each on a connection of
    its own; this process joins their ranges link by link and checks the Merkle tree
    against every checkpoint, so the verdict and the first bad sequence are those of
    one pass (sequenced events never change, so the ranges need no shared snapshot)."""
    with transaction.atomic():
        # Inside a caller's transaction the rows it wrote are not committed: only this
        # connection sees them, so no worker could.
        alone = _on_postgres() and not _in_outer_transaction()
        if alone:
            # One snapshot for the head and the rows, while the sequencer goes on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = ChainHead.objects.filter(pk=1).first()
        if workers > 1 and alone and head is not None and _may_fork():
            result = _verify_in_parallel(head.seq, workers)
        else:
            result = chain.verify_rows(
                _rows(), checkpoint_rows(), keys.published_keys(), data_as_text=_on_postgres()
            )
    if head is None:
        result.fail(None, "the chain head is missing")
    elif result.first_bad_seq is None and (
        head.seq != result.events or (result.head and head.chain_hash != result.head)
    ):
        result.fail(
            result.events + 1, f"the chain head says {head.seq} events, the log has {result.events}"
        )
    return result


def _in_outer_transaction() -> bool:
    # Inside transaction.atomic() above: an outer block means a query may have run.
    return len(connection.atomic_blocks) > 1


# --- verifying ranges in parallel ---------------------------------------------------------


def _may_fork() -> bool:
    import multiprocessing

    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon  # a Celery worker's child
    )


def _check_part(args: tuple[dict[str, Any], int, int, frozenset[int]]) -> dict[str, Any]:
    """In a worker process: check events ``low``..``high`` (the last part open-ended),
    chained from the stored ``prev_hash`` of the first; the parent checks that link."""
    import psycopg

    params, low, high, marks = args
    with psycopg.connect(**params) as raw:
        rows = _postgres_rows(raw, low, high)
        first = next(rows, None)
        if first is None:
            message = f"event {low} is missing (the log ends before it)"
            return {"part": chain.RangeCheck(0, [], chain.GENESIS, {}, low, (low, message))}
        start = chain.GENESIS if low == 1 else _hex_or_zero(first[8])
        part = chain.check_range(
            itertools.chain([first], rows), low, start, marks=marks, data_as_text=True
        )
    return {"part": part, "first_prev_hash": first[8]}


def _hex_or_zero(text: Any) -> bytes:
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError):
        return b""  # links to nothing: the parent names the break


def _verify_in_parallel(size: int, workers: int) -> chain.Result:
    import multiprocessing

    result = chain.Result()
    tree = chain._Tree(
        chain._open_checkpoints(checkpoint_rows(), keys.published_keys(), result), result
    )
    marks = tree.sizes()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    step = max(size // (workers * 4), PART_SIZE)
    bounds = [(low, min(low + step - 1, size)) for low in range(1, max(size, 1) + 1, step)]
    if bounds:
        bounds[-1] = (bounds[-1][0], _ALL)  # events past the head are checked too
    jobs = [(params, low, high, marks) for low, high in bounds] or [(params, 1, _ALL, marks)]
    previous, problem = chain.GENESIS, None
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for (low, high), answer in zip(bounds, pool.imap(_check_part, jobs), strict=True):
            part: chain.RangeCheck = answer["part"]
            if low > 1 and part.events and answer["first_prev_hash"] != previous.hex():
                problem = (low, f"event {low}: does not link to event {low - 1}")
                break
            result.events = part.expected - 1
            if not tree.grow(part.leaves, part.marked):
                break
            previous = part.previous
            if part.problem:
                problem = part.problem
                break
            if high != _ALL and part.expected != high + 1:  # the part's last events are gone
                problem = (part.expected, f"event {part.expected} is missing")
                break
    return chain.finish(result, tree, previous, problem)
