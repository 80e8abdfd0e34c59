"""Deferred sequencing: appends without a shared lock, one sequencer that chains them.

The suite runs with AUDIT_SEQUENCER=inline (tests/settings.py); these tests switch
to ``deferred``, the production default on PostgreSQL, and attack it: concurrent
writers in processes of their own, late commits, raw SQL against unsequenced rows,
forged sequencing, a stalled sequencer.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import multiprocessing
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from airlock.canonical import strict_bytes
from audit import catalogue, sequencer
from audit import verify as chain
from audit.models import AuditEvent, ChainHead
from audit.services import record, sign_checkpoint
from audit.verification import verify_database
from tests.conftest import Api

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers and triggers: PostgreSQL"
)


@pytest.fixture
def deferred(settings):
    settings.AUDIT = {**settings.AUDIT, "SEQUENCER": sequencer.DEFERRED}
    return settings


def unsequenced() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


# --- the basic shape ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deferred_append_is_stored_unsequenced_and_chained_by_the_sequencer(deferred):
    first = record("test.event", "system", "thing:1", {"i": 1})
    second = record("test.event", "system", "thing:2", {"i": 2})
    assert (first.seq, second.seq) == (None, None)
    assert first.canonical == first.leaf_hash == first.chain_hash == ""
    assert sequencer.sequenced_through() == 0
    assert sequencer.sequence_all() == 2
    rows = list(AuditEvent.objects.values_list("id", "seq", "target"))
    assert rows == [(first.id, 1, "thing:1"), (second.id, 2, "thing:2")]
    assert json.loads(AuditEvent.objects.get(seq=2).canonical) == {
        "actor": "system",
        "at": json.loads(AuditEvent.objects.get(seq=2).canonical)["at"],
        "data": {"i": 2},
        "seq": 2,
        "target": "thing:2",
        "type": "test.event",
    }
    assert ChainHead.objects.get().seq == 2
    result = verify_database()
    assert result.ok, result.problems
    assert result.events == 2


TRICKY_DATA = [
    {"plain": "postgres://warehouse/customers", "n": 2**53 - 1, "ok": True, "none": None},
    # Keys where UTF-16 order (JCS) and code point order part; controls, quotes, DEL
    # (not U+0000, which jsonb refuses).
    {"\ue000": 1, "\U0001f600": 2, "a": [{"z": '\x01\x1f\x7f\u2028"\\'}]},
    {"émoji": "\U0001f600", "nested": {"b": [], "a": {}}},
]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", sequencer.MODES)
def test_the_sequencer_writes_rfc8785_bytes_for_any_data(settings, mode):
    # The sequencer encodes with orjson where that is JCS by construction, and with
    # rfc8785 elsewhere: either way the stored bytes are strict_bytes' and verify.
    settings.AUDIT = {**settings.AUDIT, "SEQUENCER": mode}
    for n, data in enumerate(TRICKY_DATA):
        record("test.event", "agent:é\t", f"thing:{n}", data)
    sequencer.sequence_all()
    for event in AuditEvent.objects.order_by("seq"):
        assert event.canonical.encode() == chain.event_canonical(
            seq=event.seq,
            at=sequencer.timestamp(event.at),
            event_type="test.event",
            actor="agent:é\t",
            target=event.target,
            data_bytes=strict_bytes(TRICKY_DATA[event.seq - 1]),
        )
    result = verify_database()
    assert result.ok, result.problems
    assert result.events == len(TRICKY_DATA)


@pytest.mark.django_db
def test_a_rolled_back_deferred_append_leaves_no_gap(deferred):
    def failing_change() -> None:
        with transaction.atomic():
            record("doomed", "system", "x", {})
            raise RuntimeError("the change this event described failed")

    record("test.event", "system", "a", {})
    with pytest.raises(RuntimeError):
        failing_change()
    record("after.event", "system", "b", {})
    sequencer.sequence_all()
    assert list(AuditEvent.objects.values_list("seq", "event_type")) == [
        (1, "test.event"),
        (2, "after.event"),
    ]
    assert verify_database().ok


@pytest.mark.django_db
def test_an_event_the_sequencer_cannot_encode_stops_it_rather_than_being_skipped(deferred):
    record("test.event", "system", "a", {})
    # Written around record()'s own check, as a bug or an insider might.
    AuditEvent.objects.create(event_type="test.event", actor="system", target="b", data={"x": 0.5})
    record("test.event", "system", "c", {})
    with pytest.raises(sequencer.SequencingError, match="cannot be sequenced"):
        sequencer.sequence_pending()
    # Nothing after it was chained past it: the log is not gapped around a bad row.
    assert sequencer.sequenced_through() == 0


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_transaction_that_commits_late_is_sequenced_later_not_lost(deferred):
    """The insertion id is taken at insert, the commit comes later: an event with a
    lower id committed after higher ones were sequenced still gets into the chain."""
    inserted, release = threading.Event(), threading.Event()
    early_id: list[int] = []

    def slow_request() -> None:
        try:
            with transaction.atomic():
                early_id.append(record("test.event", "system", "slow", {}).id)
                inserted.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert inserted.wait(30)
    fast = record("test.event", "system", "fast", {})
    assert fast.id > early_id[0]
    assert sequencer.sequence_all() == 1  # the slow one is not committed: invisible
    release.set()
    thread.join(30)
    assert sequencer.sequence_all() == 1
    assert list(AuditEvent.objects.order_by("seq").values_list("target", "seq")) == [
        ("fast", 1),
        ("slow", 2),
    ]
    assert verify_database().ok


# --- sixteen writers, each a process with its own connection ---------------------------------

WRITERS, TRANSACTIONS, PER_TRANSACTION = 16, 20, 3


def _writer(number: int, start: Any, failures: Any) -> None:
    try:
        start.wait(60)
        for t in range(TRANSACTIONS):
            with transaction.atomic():
                for k in range(PER_TRANSACTION):
                    record("load.event", f"writer:{number}", f"tx:{number}:{t}", {"k": k})
    except Exception as exc:  # reported by the parent
        failures.put(f"writer {number}: {exc!r}")
    finally:
        connection.close()


def _follower(stop: Any, passes: Any) -> None:
    count = 0

    def noted(_: int) -> None:
        nonlocal count
        count += 1

    try:
        sequencer.follow(pause=0.002, should_stop=stop.is_set, on_pass=noted)
    finally:
        connection.close()
        passes.put(count)


def _detach() -> None:
    """Forked children must not inherit this process's connection or pool."""
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_sixteen_concurrent_writers_leave_a_gapless_verifying_chain_in_transaction_order(
    deferred,
):
    fork = multiprocessing.get_context("fork")
    start, stop = fork.Event(), fork.Event()
    failures, passes = fork.Queue(), fork.Queue()
    _detach()
    follower = fork.Process(target=_follower, args=(stop, passes))
    writers = [fork.Process(target=_writer, args=(n, start, failures)) for n in range(WRITERS)]
    for process in [follower, *writers]:
        process.start()
    start.set()
    for process in writers:
        process.join(240)
        assert process.exitcode == 0
    assert failures.empty(), failures.get()
    total = WRITERS * TRANSACTIONS * PER_TRANSACTION
    deadline = 200
    while sequencer.sequenced_through() < total and deadline:
        threading.Event().wait(0.05)
        deadline -= 1
    stop.set()
    follower.join(30)
    assert passes.get(timeout=10) >= 1  # the follower did the sequencing, not this test

    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "id", "target", "data"))
    assert [seq for seq, *_ in rows] == list(range(1, total + 1))  # gapless, none waiting
    assert unsequenced() == 0
    # Per transaction: its events in the order it wrote them; per writer: its
    # transactions in the order it committed them.
    by_transaction: dict[str, list[int]] = {}
    for _, _, target, data in rows:
        by_transaction.setdefault(target, []).append(data["k"])
    assert len(by_transaction) == WRITERS * TRANSACTIONS
    assert all(ks == [0, 1, 2] for ks in by_transaction.values())
    for number in range(WRITERS):
        mine = [target for _, _, target, _ in rows if target.startswith(f"tx:{number}:")]
        order = list(dict.fromkeys(mine))
        assert order == [f"tx:{number}:{t}" for t in range(TRANSACTIONS)]
    # Writers interleaved: the chain is not simply one writer after another.
    assert len({target.split(":")[1] for _, _, target, _ in rows[:60]}) > 1

    assert sign_checkpoint().tree_size == total
    result = verify_database()
    assert result.ok, result.problems
    assert (result.events, result.checkpoints) == (total, 1)


# --- the triggers ------------------------------------------------------------------------------

SEQUENCED_CHANGES = {
    "seq": "seq = seq + 100",
    "id": "id = id + 100",
    "at": "at = at + interval '1 microsecond'",
    "event_type": "event_type = 'x'",
    "actor": "actor = 'user:mallory@example.com'",
    "target": "target = 'thing:9'",
    "data": """data = '{"i": 9}'""",
    "canonical": "canonical = canonical || ' '",
    "leaf_hash": "leaf_hash = repeat('0', 64)",
    "prev_hash": "prev_hash = repeat('0', 64)",
    "chain_hash": "chain_hash = repeat('0', 64)",
    "unsequencing": "seq = NULL, canonical = '', leaf_hash = '', prev_hash = '', chain_hash = ''",
}


def _refused(sql: str, params: list | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params or [])


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("column", SEQUENCED_CHANGES)
def test_the_database_refuses_any_update_of_a_sequenced_event(column):
    record("test.event", "system", "thing:1", {"i": 1})
    _refused(f"UPDATE audit_auditevent SET {SEQUENCED_CHANGES[column]} WHERE seq = 1")  # noqa: S608
    assert verify_database().ok


HASHES = (
    "seq = 1, canonical = '{}', leaf_hash = repeat('a', 64), "
    "prev_hash = repeat('0', 64), chain_hash = repeat('b', 64)"
)
UNSEQUENCED_CHANGES = {
    "data": """data = '{"i": 9}'""",
    "actor": "actor = 'user:mallory@example.com'",
    "at": "at = at - interval '1 hour'",
    "id": "id = id + 100",
    "seq alone": "seq = 1",
    "hashes alone": "canonical = '{}', leaf_hash = repeat('a', 64)",
    "sequencing that also changes the data": HASHES + """, data = '{"i": 9}'""",
    "sequencing that also changes the target": HASHES + ", target = 'thing:9'",
    "sequencing with short hashes": "seq = 1, canonical = '{}', leaf_hash = 'a', "
    "prev_hash = 'b', chain_hash = 'c'",
    "sequencing with an empty canonical": "seq = 1, canonical = '', leaf_hash = repeat('a', 64), "
    "prev_hash = repeat('0', 64), chain_hash = repeat('b', 64)",
    "sequence number zero": HASHES.replace("seq = 1", "seq = 0"),
}


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("change", UNSEQUENCED_CHANGES)
def test_the_database_refuses_any_change_of_an_unsequenced_event_but_its_sequencing(
    deferred, change
):
    event = record("test.event", "system", "thing:1", {"i": 1})
    with (
        pytest.raises(DatabaseError, match="may only be sequenced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE audit_auditevent SET {UNSEQUENCED_CHANGES[change]} WHERE id = %s",  # noqa: S608
            [event.id],
        )
    assert AuditEvent.objects.get(id=event.id).seq is None
    assert sequencer.sequence_all() == 1  # the real sequencing still goes through
    assert verify_database().ok


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("state", ["sequenced", "unsequenced"])
def test_the_database_refuses_to_delete_or_truncate_events(deferred, state):
    event = record("test.event", "system", "thing:1", {})
    if state == "sequenced":
        sequencer.sequence_all()
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.id])
    _refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(id=event.id).exists()


@postgres_only
@pytest.mark.django_db
def test_a_forged_sequencing_passes_the_trigger_but_not_verification(deferred):
    """The trigger cannot recompute hashes; an insider with the app's role who
    sequences a row by hand with made-up bytes is caught by verification, at it."""
    record("test.event", "system", "a", {})
    sequencer.sequence_all()
    forged = record("test.event", "system", "b", {"i": 1})
    head = ChainHead.objects.get()
    canonical = chain.event_canonical(
        seq=2,
        at="2026-01-01T00:00:00.000000Z",
        event_type="test.event",
        actor="system",
        target="b",
        data_bytes=b'{"i":1}',
    )
    leaf = chain.leaf_hash(canonical)
    link = chain.chain_hash(bytes.fromhex(head.chain_hash), leaf)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET seq = 2, canonical = %s, leaf_hash = %s, "
            "prev_hash = %s, chain_hash = %s WHERE id = %s",
            [canonical.decode(), leaf.hex(), head.chain_hash, link.hex(), forged.id],
        )
        cursor.execute("UPDATE audit_chainhead SET seq = 2, chain_hash = %s", [link.hex()])
    result = verify_database()
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "displayed fields differ from what was hashed (at)" in result.problems[0]


# --- what the API says ------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_and_exports_say_how_far_the_chain_is_sequenced(deferred, auditor, client, tmp_path):
    sequencer.sequence_all()  # the fixtures' own events
    for i in range(3):
        record("test.event", "system", f"thing:{i}", {"i": i})
    sequencer.sequence_all()
    through = sequencer.sequenced_through()
    record("test.event", "system", "waiting:1", {})
    record("test.event", "system", "waiting:2", {})
    sign_checkpoint()

    api = Api(auditor.token)
    page = api.get("/api/v1/audit/events").json()
    assert page["sequenced_through"] == through
    assert [e["seq"] for e in page["results"]] == list(range(1, through + 1))
    assert not any(e["target"].startswith("waiting:") for e in page["results"])

    response = api.client.get("/api/v1/audit/export")
    export = tmp_path / "log.jsonl"
    export.write_bytes(b"".join(response.streaming_content))
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert lines[0]["kind"] == "header"
    assert lines[0]["sequenced_through"] == through
    events = [line for line in lines if line["kind"] == "event"]
    assert [e["seq"] for e in events] == list(range(1, through + 1))
    header_keys, checkpoints, rows = chain.read_export(str(export))
    assert chain.verify_log(rows, checkpoints, header_keys).ok

    verified = api.get("/api/v1/audit/verify").json()
    assert (verified["ok"], verified["events"], verified["unsequenced"]) == (True, through, 2)


@pytest.mark.django_db
def test_a_proof_of_an_event_not_yet_sequenced_is_a_409(deferred, auditor):
    sequencer.sequence_all()
    record("test.event", "system", "thing:1", {})
    sequencer.sequence_all()
    sign_checkpoint()
    through = sequencer.sequenced_through()
    record("test.event", "system", "waiting", {})
    api = Api(auditor.token)

    response = api.get(f"/api/v1/audit/events/{through + 1}/proof")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_sequenced"
    assert f"sequenced through {through}" in error["message"]
    assert error["details"] == {"sequenced_through": through, "unsequenced": 1}
    # A number no waiting event will take is simply not there.
    assert api.get(f"/api/v1/audit/events/{through + 2}/proof").status_code == 404

    sequencer.sequence_all()
    sign_checkpoint()
    proof = api.get(f"/api/v1/audit/events/{through + 1}/proof").json()
    assert json.loads(proof["canonical"])["target"] == "waiting"


# --- a stalled sequencer is noticed -------------------------------------------------------------


@pytest.mark.django_db
def test_a_stalled_sequencer_raises_the_alarm(deferred, client, caplog):
    from audit.tasks import sequence_task

    deferred.AUDIT = {**deferred.AUDIT, "SEQUENCE_STALL_SECONDS": 1}
    sequencer.sequence_all()
    record("test.event", "system", "thing:1", {})
    assert client.get("/api/v1/audit/sequencer").status_code == 200  # young: not stalled
    threading.Event().wait(1.2)  # nobody sequences: the follower is "down"

    health = client.get("/api/v1/audit/sequencer")
    assert health.status_code == 503
    assert health.json()["stalled"] is True
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("audit_sequence", "--check", stdout=out)
    assert exit_code.value.code == 1
    assert json.loads(out.getvalue())["unsequenced"] == 1

    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        sequence_task.apply().get()  # the beat task: alarm, then it sequences
    assert "AUDIT SEQUENCER STALLED" in caplog.text
    alarms = AuditEvent.objects.filter(event_type=catalogue.AUDIT_SEQUENCER_STALLED)
    assert alarms.count() == 2  # one from --check, one from the beat task
    assert alarms.first().data["unsequenced"] >= 1
    assert unsequenced() == 0  # the beat task sequenced the event and the alarms
    assert client.get("/api/v1/audit/sequencer").json() == {
        "mode": "deferred",
        "sequenced_through": sequencer.sequenced_through(),
        "unsequenced": 0,
        "oldest_unsequenced_seconds": 0.0,
        "stalled": False,
    }
    assert verify_database().ok


@pytest.mark.django_db
def test_the_sequence_command_sequences_what_waits(deferred):
    for i in range(3):
        record("test.event", "system", f"thing:{i}", {})
    out = io.StringIO()
    call_command("audit_sequence", stdout=out)
    assert out.getvalue().strip() == f"sequenced 3 events; through {sequencer.sequenced_through()}"
    assert unsequenced() == 0


@pytest.mark.django_db
def test_a_period_is_complete_only_once_its_events_are_sequenced(deferred):
    from django.utils import timezone

    from audit import selectors

    record("test.event", "system", "thing:1", {})
    end = timezone.now()
    assert selectors.unsequenced_before(end) == 1
    sequencer.sequence_all()
    assert selectors.unsequenced_before(end) == 0


@pytest.mark.django_db
def test_the_follower_stays_up_and_says_why_when_it_cannot_proceed(deferred, caplog):
    """A bad row stops sequencing at that row; the follower logs ERROR and keeps
    trying (the stall alarm then fires) rather than dying or skipping the row."""
    AuditEvent.objects.create(event_type="test.event", actor="system", target="b", data={"x": 0.5})
    passes = iter(range(2))
    with caplog.at_level(logging.ERROR, logger="audit.sequencer"):
        sequencer.follow(pause=0, should_stop=lambda: next(passes, None) is None)
    assert caplog.text.count("AUDIT SEQUENCER CANNOT PROCEED") == 2
    assert sequencer.sequenced_through() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_append_outside_a_transaction_is_one_insert_and_its_own_transaction(deferred):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        event = record("test.event", "system", "thing:own", {"i": 1})
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    # Committed by itself: another connection sees it.
    assert AuditEvent.objects.filter(pk=event.pk, seq__isnull=True).exists()
    assert sequencer.sequence_all() >= 1
    assert verify_database().ok


@pytest.mark.django_db
def test_a_pass_whose_head_moved_under_it_writes_nothing(deferred):
    """The head's move and the events' places are one write: a pass working from a
    head that is not the stored one (a second sequencer without the lock, a bug)
    fails and leaves neither. (One behind would also collide with a stored seq.)"""
    record("test.event", "system", "a", {})
    assert sequencer.sequence_all() == 1
    record("test.event", "system", "b", {})
    stale = ChainHead(pk=1, seq=5, chain_hash=ChainHead.objects.get().chain_hash)
    with pytest.raises(sequencer.SequencingError, match="head moved"), transaction.atomic():
        sequencer._sequence_rows(stale, sequencer._waiting(10, 0))
    assert unsequenced() == 1
    assert ChainHead.objects.get().seq == 1
    assert sequencer.sequence_all() == 1
    assert verify_database().ok


@pytest.mark.django_db
def test_a_pass_whose_events_were_sequenced_under_it_writes_nothing(deferred):
    record("test.event", "system", "a", {})
    rows = sequencer._waiting(10, 0)
    assert sequencer.sequence_all() == 1
    head = ChainHead.objects.get()
    with pytest.raises(sequencer.SequencingError, match="moved under"), transaction.atomic():
        sequencer._sequence_rows(head, rows)
    assert ChainHead.objects.get().seq == 1
    assert AuditEvent.objects.get().seq == 1
    assert verify_database().ok


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_pass_that_must_not_wait_leaves_a_held_head_to_its_holder(deferred):
    """With the head locked elsewhere, sequence_pending(wait=False) returns at once
    with nothing done; with wait=True it queues and then does the work."""
    record("test.event", "system", "a", {})
    assert sequencer.sequence_all() == 1  # the head row exists (a flushed test database has none)
    record("test.event", "system", "b", {})
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                ChainHead.objects.select_for_update().get(pk=1)
                holding.set()
                release.wait(10)
        except BaseException as exc:  # shown by the assertion below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10), errors
    try:
        assert sequencer.sequence_pending(wait=False) == 0
        assert unsequenced() == 1
    finally:
        release.set()
        holder.join(10)
    assert sequencer.sequence_pending(wait=True) == 1
    assert verify_database().ok


@pytest.mark.django_db
def test_an_idle_follower_only_looks_and_a_new_event_is_still_sequenced(deferred):
    """With nothing waiting, a pass after an empty one is a single read: no
    transaction and no lock on the head. Once an event waits, it is sequenced."""
    from django.test.utils import CaptureQueriesContext

    record("test.event", "system", "thing:1", {"i": 1})
    rounds = iter(range(6))
    marks: list[int] = []  # how many queries had run at each check of should_stop

    def should_stop() -> bool:
        marks.append(len(connection.queries_log))
        return next(rounds, None) is None

    with CaptureQueriesContext(connection):
        sequencer.follow(pause=0, should_stop=should_stop)
        log = [q["sql"] for q in connection.queries_log]
    assert sequencer.sequenced_through() == 1
    # Iterations: a pass that sequenced the event, an empty pass, then four looks.
    iterations = [log[a:b] for a, b in itertools.pairwise(marks)]
    assert len(iterations) == 6
    assert any("audit_chainhead" in sql for sql in iterations[1])  # the empty pass: the head
    for looked in iterations[2:]:
        assert len(looked) == 1, looked
        assert looked[0].startswith("SELECT 1 FROM")
    record("test.event", "system", "thing:2", {"i": 2})
    rounds = iter(range(3))
    sequencer.follow(pause=0, should_stop=lambda: next(rounds, None) is None)
    assert sequencer.sequenced_through() == 2
    assert verify_database().ok
