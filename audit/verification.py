"""Verify the stored log with the auditor's own verifier (``audit/verify.py``)."""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from binascii import hexlify
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any

import orjson
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
PART_SIZE = 1 << 16  # the smallest range a worker checks at once (a power of two)


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _postgres_rows(raw: Any, low: int = 1, high: int = _ALL) -> Iterator[Sequence[Any]]:
    """Sequenced events ``low`` <= seq <= ``high`` as tuples in ``verify.ROW_COLUMNS``
    order, streamed by a server-side binary cursor, many rows per round trip."""
    with raw.cursor(name="airlock_audit_verify", binary=True) as cursor:
        cursor.execute(_PG_ROWS, [low, high])
        while rows := cursor.fetchmany(20_000):
            yield from rows


# --- reading with COPY ---------------------------------------------------------------------
# The binary cursor made a Python tuple of ten objects per row; COPY's text format
# hands each row over as one line of bytes, split here by C-level bytes methods. What
# COPY escapes (a backslash, tab, newline or carriage return in a value, NULL as \N)
# shows as a backslash in the line: such a row is decoded in full (``_unescape``)
# and checked the ordinary way.

_COPY_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_COPY_CHARS = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _copy_char(match: re.Match[bytes]) -> bytes:
    octal, hexa, char = match.groups()
    if octal is not None:
        return bytes([int(octal, 8) & 0xFF])
    if hexa is not None:
        return bytes([int(hexa, 16)])
    return _COPY_CHARS.get(char, char)


def _unescape(field: bytes) -> str | None:
    """One field of a COPY text line as the value it stands for (PostgreSQL's COPY
    text format: backslash escapes, ``\\N`` for NULL)."""
    if field == b"\\N":
        return None
    return _COPY_ESCAPE.sub(_copy_char, field).decode("utf-8")


def _decoded(line: bytes) -> tuple[Any, ...]:
    """A COPY line as the row the binary cursor gave (``ROW_COLUMNS`` order)."""
    fields = [_unescape(field) for field in line.split(b"\t")]
    if len(fields) != len(chain.ROW_COLUMNS):
        raise RuntimeError(f"a COPY row of {len(fields)} fields, not {len(chain.ROW_COLUMNS)}")
    return (int(fields[0] or 0), *fields[1:])


def _copy_lines(raw: Any, low: int = 1, high: int = _ALL) -> Generator[bytes, None, None]:
    """The rows of ``_PG_ROWS`` for ``low`` <= seq <= ``high`` as COPY text lines.

    Read with libpq's ``PQgetCopyData`` through psycopg's ``pq`` layer, which hands
    over one whole row per call (libpq never returns part of one): psycopg's ``Copy``
    object cost 0.7 us more per row in Python (of about 8 us a row costs the two
    cores in all). On ``raw``'s connection and in its transaction, if it has one."""
    from psycopg import DatabaseError as Failed
    from psycopg import pq

    query = _PG_ROWS.replace("%s", "{}").format(int(low), int(high))
    pgconn = raw.pgconn
    with raw.lock:
        pgconn.send_query(f"COPY ({query}) TO STDOUT".encode())
        started = pgconn.get_result()
        if started is None or started.status != pq.ExecStatus.COPY_OUT:
            _results(pgconn)
            message = started.error_message.decode(errors="replace") if started else ""
            raise Failed(f"COPY of the audit log did not start: {message}")
        size = 0
        try:
            get = pgconn.get_copy_data
            while (row := get(0))[0] >= 0:
                yield bytes(row[1][:-1])  # without its newline
            size = row[0]
        finally:
            while size >= 0:  # stopped early (a problem found): read out the rest
                size = pgconn.get_copy_data(0)[0]
            error = pgconn.error_message if size == -2 else b""
            failed = _results(pgconn) or error
        if failed:
            raise Failed(f"COPY of the audit log failed: {failed.decode(errors='replace')}")


def _results(pgconn: Any) -> bytes:
    """Read the results that follow a query to the end; the first error, if any."""
    from psycopg import pq

    error = b""
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.FATAL_ERROR and not error:
            error = result.error_message or b"error"
    return error


_SORTED = orjson.OPT_SORT_KEYS


def check_lines(
    lines: Iterable[bytes],
    expected: int,
    previous: bytes,
    *,
    marks: frozenset[int] = frozenset(),
) -> chain.RangeCheck:
    """``verify.check_range`` over COPY lines, on the bytes as they come: the leaf
    and chain hashes recomputed and compared in hex as stored, and the canonical
    bytes compared with the event body the displayed fields make. A row any check
    doubts (or one with an escape in it) is decoded in full and handed to
    ``check_range``, which makes each check its own way and hands a row it doubts on
    to ``_event_problem``, which names the problem. Stops at the first problem."""
    leaves: list[bytes] = []
    marked: dict[int, bytes] = {}
    previous_hex = hexlify(previous)
    sha, loads, dumps, columns = hashlib.sha256, orjson.loads, orjson.dumps, len(chain.ROW_COLUMNS)
    count = 0
    append = leaves.append
    for line in lines:
        fields = line.split(b"\t")
        try:
            if b"\\" in line or len(fields) != columns:
                raise ValueError("escaped")  # decoded in full below
            seq_b, at, event_type, actor, target, data, canonical, leaf_hex, prev_hex, link_hex = (
                fields
            )
            seq = int(seq_b)
            leaf = sha(b"\x00" + canonical).digest()
            link = sha(previous + leaf).digest()
            # The displayed fields, spelled as the sequencer spells an event body: if
            # that is the stored canonical text byte for byte, then that text is JSON,
            # for this sequence number, and holds exactly the displayed fields, which
            # is all check_range asks of them. Bytes spelled any other way (keys
            # outside ASCII, say, which JCS orders differently) are not wrong for that:
            # they are doubted, and check_range parses them.
            body = dumps(
                {
                    "actor": actor.decode(),
                    "at": at.decode(),
                    "data": loads(data),
                    "seq": seq,
                    "target": target.decode(),
                    "type": event_type.decode(),
                },
                option=_SORTED,
            )
            doubtful = (
                seq != expected
                or body != canonical
                or leaf_hex != hexlify(leaf)
                or prev_hex != previous_hex
                or link_hex != hexlify(link)
            )
        except Exception:  # escaped, not UTF-8, not JSON (or JSON only json takes)
            doubtful = True
        if doubtful:
            row = _decoded(line)
            one = chain.check_range([row], expected, previous, marks=marks, data_as_text=True)
            if one.problem:
                return chain.RangeCheck(count, leaves, previous, marked, expected, one.problem)
            leaf, link = one.leaves[0], one.previous
            seq = expected
        previous = link
        previous_hex = hexlify(link)
        append(leaf)
        if seq in marks:
            marked[seq] = link
        count += 1
        expected += 1
    return chain.RangeCheck(count, leaves, previous, marked, expected)


def _verify_copy(raw: Any) -> chain.Result:
    """``verify.verify_rows`` over the whole log read with COPY, in this process."""
    result = chain.Result()
    tree = chain._Tree(
        chain._open_checkpoints(checkpoint_rows(), keys.published_keys(), result), result
    )
    marks = tree.sizes()
    lines = _copy_lines(raw)
    part = chain.RangeCheck(0, [], chain.GENESIS, {}, 1)
    while chunk := list(itertools.islice(lines, chain._FLUSH)):
        part = check_lines(chunk, part.expected, part.previous, marks=marks)
        result.events = part.expected - 1
        if not tree.grow(part.leaves, part.marked) or part.problem:
            break
    for _ in lines:  # the rest, if a problem stopped it: cancelling the COPY would
        pass  # abort the transaction, the head check after it included
    return chain.finish(result, tree, part.previous, part.problem)


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
        copy = _on_postgres() and _copy_ok()
        if workers > 1 and alone and head is not None and copy and _may_fork():
            result = _verify_in_parallel(head.seq, workers)
        elif copy:
            result = _verify_copy(connection.connection)
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


def _copy_ok() -> bool:
    """COPY lines are split as UTF-8: true of every Airlock database (Django's
    connection is UTF-8), checked rather than assumed."""
    connection.ensure_connection()
    return str(connection.connection.info.encoding).lower().replace("-", "") == "utf8"


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
    chained from the stored ``prev_hash`` of the first; the parent checks that link.
    The part's leaves stay here: the worker hashes them into the Merkle tree of the
    part (``low`` - 1 is a multiple of a power of two above the part's size, so the
    parent joins it to the tree before it), and sends that tree's frontier, at each
    checkpoint size in the part and at its end."""
    import psycopg

    params, low, high, marks = args
    with psycopg.connect(**params) as raw:
        lines = _copy_lines(raw, low, high)
        first = next(lines, None)
        if first is None:
            message = f"event {low} is missing (the log ends before it)"
            part = chain.RangeCheck(0, [], chain.GENESIS, {}, low, (low, message))
            return {"part": part, "frontiers": {}, "end": chain.Frontier()}
        first_prev_hash = _decoded(first)[8]
        start = chain.GENESIS if low == 1 else _hex_or_zero(first_prev_hash)
        part = check_lines(itertools.chain([first], lines), low, start, marks=marks)
        for _ in lines:  # the rest, if a problem stopped the check (see _verify_copy)
            pass
    frontier, frontiers, done = chain.Frontier(), {}, 0
    for size in sorted(m for m in marks if low <= m < low + part.events):
        frontier.extend(part.leaves[done : size - low + 1])
        done = size - low + 1
        frontiers[size] = chain.Frontier(frontier.size, list(frontier.hashes))
    frontier.extend(part.leaves[done:])
    part.leaves = []
    return {
        "part": part,
        "first_prev_hash": first_prev_hash,
        "frontiers": frontiers,
        "end": frontier,
    }


def _grow(
    tree: chain._Tree,
    frontiers: dict[int, chain.Frontier],
    end: chain.Frontier,
    marked: dict[int, bytes],
) -> bool:
    """``_Tree.grow`` with a part's tree in place of its leaves: each checkpoint in
    the part against the tree so far joined with the part's tree at that size."""
    tree.marked.update(marked)
    while tree.pending and tree.pending[0].size <= tree.frontier.size + end.size:
        checkpoint = tree.pending.pop(0)
        root = chain.Frontier(tree.frontier.size, list(tree.frontier.hashes))
        if checkpoint.size > root.size:
            root.join(frontiers[checkpoint.size])
        if checkpoint.root != root.root() or checkpoint.chain != tree.marked.get(checkpoint.size):
            return tree.rewritten(checkpoint)
        tree.last_good_size = checkpoint.size
    tree.frontier.join(end)
    return True


def _power_of_two_below(n: int) -> int:
    """The largest power of two <= ``n`` (1 for anything smaller)."""
    return 1 << max(n.bit_length() - 1, 0)


def _hex_or_zero(text: Any) -> bytes:
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError):
        return b""  # links to nothing: the parent names the break


def _verify_in_parallel(size: int, workers: int) -> chain.Result:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    result = chain.Result()
    tree = chain._Tree(
        chain._open_checkpoints(checkpoint_rows(), keys.published_keys(), result), result
    )
    marks = tree.sizes()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    # Parts of a power of two, so each part's tree joins the one before it as it is.
    step = max(_power_of_two_below(size // (workers * 4)), _power_of_two_below(PART_SIZE - 1) * 2)
    bounds = [(low, min(low + step - 1, size)) for low in range(1, max(size, 1) + 1, step)]
    if bounds:
        bounds[-1] = (bounds[-1][0], _ALL)  # events past the head are checked too
    jobs = [(params, low, high, marks) for low, high in bounds] or [(params, 1, _ALL, marks)]
    previous, problem = chain.GENESIS, None
    # Not multiprocessing.Pool: leaving its block early (a problem found) terminates
    # it, and its task thread could hang on a queue lock a killed worker held (seen
    # twice in some thirty runs of the tamper tests). The executor lets running parts end
    # and drops the rest.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        for (low, high), future in zip(
            bounds, [pool.submit(_check_part, job) for job in jobs], strict=True
        ):
            answer = future.result()
            part: chain.RangeCheck = answer["part"]
            if low > 1 and part.events and answer["first_prev_hash"] != previous.hex():
                problem = (low, f"event {low}: does not link to event {low - 1}")
                break
            result.events = part.expected - 1
            if not _grow(tree, answer["frontiers"], answer["end"], part.marked):
                break
            previous = part.previous
            if part.problem:
                problem = part.problem
                break
            if high != _ALL and part.expected != high + 1:  # the part's last events are gone
                problem = (part.expected, f"event {part.expected} is missing")
                break
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return chain.finish(result, tree, previous, problem)
