"""The stored log as an insider with database access would attack it."""

from __future__ import annotations

import io
import itertools
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from airlock.canonical import strict_bytes
from audit import verify as chain
from audit.models import AppendOnlyError, AuditEvent, ChainHead, Checkpoint
from audit.services import record, sign_checkpoint
from audit.verification import verify_database
from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "audit" / "verify.py"

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL triggers; SQLite is covered by the model"
)


def append(n: int, prefix: str = "test") -> None:
    for i in range(n):
        record(f"{prefix}.event", "system", f"thing:{i}", {"i": i, "note": "ü"})


def raw(sql: str, params: list | None = None) -> None:
    """SQL as a superuser would run it: with the append-only triggers disabled (in
    this test's transaction only; PostgreSQL) or straight (SQLite has none)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def audit_verify() -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("audit_verify", "--json", stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue())


# --- the chain --------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_form_a_gapless_chain():
    append(5)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "00" * 32
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.chain_hash
    head = ChainHead.objects.get()
    assert (head.seq, head.chain_hash) == (5, events[-1].chain_hash)
    assert json.loads(events[0].canonical)["data"] == {"i": 0, "note": "ü"}


@pytest.mark.django_db
def test_a_rolled_back_event_leaves_no_gap():
    append(2)

    def failing_change() -> None:
        with transaction.atomic():
            record("doomed", "system", "x", {})
            raise RuntimeError("the change this event described failed")

    with pytest.raises(RuntimeError):
        failing_change()
    append(1, "after")
    assert list(AuditEvent.objects.values_list("seq", "event_type")) == [
        (1, "test.event"),
        (2, "test.event"),
        (3, "after.event"),
    ]
    assert verify_database().ok


@pytest.mark.django_db
def test_floats_never_enter_the_log():
    with pytest.raises(ValueError, match="floats"):
        record("x", "system", "y", {"score": 0.5})
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_models_refuse_changes():
    append(1)
    event = AuditEvent.objects.get()
    event.data = {"forged": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


# --- the database refuses ---------------------------------------------------------------


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET data = '{}' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 1",
        "TRUNCATE audit_auditevent",
        "TRUNCATE audit_auditevent CASCADE",
        "UPDATE audit_checkpoint SET tree_size = 0",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE audit_checkpoint",
        "DELETE FROM audit_chainhead",
        "TRUNCATE audit_chainhead",
    ],
)
def test_raw_sql_cannot_change_the_log(sql):
    append(3)
    sign_checkpoint()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(sql)
    assert AuditEvent.objects.count() == 3
    assert verify_database().ok


# --- tampering is detected, with the right first bad sequence ------------------------


@pytest.mark.django_db
def test_an_untouched_log_verifies():
    append(10)
    sign_checkpoint()
    append(3)
    code, result = audit_verify()
    assert code == 0
    assert result | {"problems": []} == {
        "ok": True,
        "events": 13,
        "head": ChainHead.objects.get().chain_hash,
        "first_bad_seq": None,
        "checkpoints": 1,
        "problems": [],
    }


@pytest.mark.django_db
def test_a_modified_row_is_found():
    append(10)
    raw("""UPDATE audit_auditevent SET data = '{"i": 99, "note": "ü"}' WHERE seq = 6""")
    code, result = audit_verify()
    assert code == 1
    assert result["first_bad_seq"] == 6


def _one_byte_changed(text: str) -> str:
    """The same text with one character near its end changed (hex stays hex)."""
    position = len(text) - 2
    replacement = "0" if text[position] != "0" else "1"
    return text[:position] + replacement + text[position + 1 :]


# What a changed byte in each column of event 6 makes verification say about it.
TAMPERED = {
    "seq": ("seq", "event 6 is missing (the next one is 7)"),
    "at": ("at", "event 6: displayed fields differ from what was hashed (at)"),
    "event_type": (
        "event_type",
        "event 6: displayed fields differ from what was hashed (event_type)",
    ),
    "actor": ("actor", "event 6: displayed fields differ from what was hashed (actor)"),
    "target": ("target", "event 6: displayed fields differ from what was hashed (target)"),
    "data": ("data", "event 6: displayed fields differ from what was hashed (data)"),
    "canonical bytes": (
        "canonical",
        "event 6: displayed fields differ from what was hashed (data)",
    ),
    "canonical syntax": ("canonical", "event 6: canonical bytes are not JSON"),
    "leaf_hash": ("leaf_hash", "event 6: leaf hash does not match its bytes"),
    "prev_hash": ("prev_hash", "event 6: does not link to event 5"),
    "chain_hash": ("chain_hash", "event 6: chain hash is wrong"),
}


# Data PostgreSQL's COPY escapes (backslash, tab, newline, carriage return, \b \f \v)
# or that JCS orders differently from code points (keys outside ASCII): verification
# reads rows with COPY and decodes these in full, and must find the same problems.
ESCAPED = {
    "path": "C:\\temp\\x",
    "text": "line one\nline\ttwo\r",
    "quote": 'say "hi"',
    "controls": "\x01\x08\x0b\x0c\x7f",
    "\ue000": 1,
    "\U0001f600": 2,
}


def append_escaped(n: int) -> None:
    for i in range(n):
        record("test.event", "agent:tab\there", f"thing:\\{i}", {**ESCAPED, "i": i})


WRITERS = {"plain": append, "escaped": append_escaped}


@pytest.mark.django_db
@pytest.mark.parametrize("events", WRITERS)
def test_a_log_of_escaped_values_verifies_as_the_previous_reader_saw_it(events):
    from audit import keys
    from audit.verification import _rows, checkpoint_rows

    WRITERS[events](10)
    sign_checkpoint()
    WRITERS[events](3)
    result = verify_database()
    assert (result.ok, result.events, result.checkpoints) == (True, 13, 1), result.problems
    # The row-by-row reader (the binary cursor on PostgreSQL) over the same log.
    with transaction.atomic():
        previous = chain.verify_rows(
            _rows(),
            checkpoint_rows(),
            keys.published_keys(),
            data_as_text=connection.vendor == "postgresql",
        )
    assert previous.as_dict() == result.as_dict()


@needs_postgres
@pytest.mark.django_db
def test_copy_lines_decode_to_the_rows_the_binary_cursor_reads():
    from audit.verification import _copy_lines, _decoded, _postgres_rows

    append_escaped(4)
    append(2)
    raw("UPDATE audit_auditevent SET actor = E'a\\\\b\\001\\tc' WHERE seq = 5")
    connection.ensure_connection()
    lines = list(_copy_lines(connection.connection))
    assert [_decoded(line) for line in lines] == [
        tuple(row) for row in _postgres_rows(connection.connection)
    ]
    assert sum(b"\\" in line for line in lines) == 5  # four escaped events and the actor


@pytest.mark.django_db
@pytest.mark.parametrize("events", WRITERS)
@pytest.mark.parametrize("change", TAMPERED)
def test_a_changed_byte_in_any_column_of_a_sequenced_event_is_found_and_named(change, events):
    WRITERS[events](10)
    column, problem = TAMPERED[change]
    event = AuditEvent.objects.get(seq=6)
    if change == "seq":
        value: object = 1006
    elif change == "at":
        from datetime import timedelta

        value = event.at + timedelta(microseconds=1)
    elif change == "data":
        value = json.dumps({**event.data, "i": 50})
    elif change == "canonical bytes":
        value = event.canonical.replace('"i":5', '"i":7')
    elif change == "canonical syntax":
        value = event.canonical[:-1] + "]"
    else:
        value = _one_byte_changed(getattr(event, column))
    raw(f"UPDATE audit_auditevent SET {column} = %s WHERE seq = 6", [value])  # noqa: S608
    result = verify_database()
    assert not result.ok
    assert result.first_bad_seq == 6
    assert result.problems[0] == problem


@pytest.mark.django_db
def test_a_modified_canonical_form_is_found():
    append(10)
    event = AuditEvent.objects.get(seq=4)
    forged = event.canonical.replace('"i":3', '"i":33')
    raw("UPDATE audit_auditevent SET canonical = %s WHERE seq = 4", [forged])
    assert audit_verify()[1]["first_bad_seq"] == 4


@pytest.mark.django_db
def test_a_deleted_row_is_found():
    append(10)
    raw("DELETE FROM audit_auditevent WHERE seq = 7")
    code, result = audit_verify()
    assert code == 1
    assert result["first_bad_seq"] == 7


@pytest.mark.django_db
def test_a_deleted_tail_is_found_by_the_checkpoint():
    append(10)
    sign_checkpoint()
    raw("DELETE FROM audit_auditevent WHERE seq > 8")
    # The head row would say 10 as well; move it back as a careful insider would.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_chainhead SET seq = 8, chain_hash = %s",
            [AuditEvent.objects.get(seq=8).chain_hash],
        )
    assert audit_verify()[1]["first_bad_seq"] == 9


@pytest.mark.django_db
def test_a_swapped_pair_is_found():
    append(10)
    a, b = AuditEvent.objects.get(seq=3), AuditEvent.objects.get(seq=4)
    raw("UPDATE audit_auditevent SET seq = -1 WHERE seq = 3")
    raw("UPDATE audit_auditevent SET seq = 3 WHERE seq = 4")
    raw("UPDATE audit_auditevent SET seq = 4 WHERE seq = -1")
    assert (AuditEvent.objects.get(seq=3).chain_hash, AuditEvent.objects.get(seq=4).chain_hash) == (
        b.chain_hash,
        a.chain_hash,
    )
    assert audit_verify()[1]["first_bad_seq"] == 3


@pytest.mark.django_db
def test_a_recomputed_suffix_is_found_by_the_checkpoint():
    """The insider rewrites event 6 and recomputes every hash after it, and the chain
    head: the chain is whole again, but the signed checkpoint at 10 no longer
    matches. Events up to the checkpoint at 5 still verify; 6 is the first bad."""
    append(5)
    sign_checkpoint()
    append(5)
    sign_checkpoint()
    append(2)
    previous = bytes.fromhex(AuditEvent.objects.get(seq=5).chain_hash)
    for event in AuditEvent.objects.filter(seq__gte=6).order_by("seq"):
        body = json.loads(event.canonical)
        if event.seq == 6:
            body["data"]["note"] = "rewritten"
        canonical = strict_bytes(body)
        leaf = chain.leaf_hash(canonical)
        link = chain.chain_hash(previous, leaf)
        raw(
            "UPDATE audit_auditevent SET data = %s, canonical = %s, leaf_hash = %s, "
            "prev_hash = %s, chain_hash = %s WHERE seq = %s",
            [
                json.dumps(body["data"]),
                canonical.decode(),
                leaf.hex(),
                previous.hex(),
                link.hex(),
                event.seq,
            ],
        )
        previous = link
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET chain_hash = %s", [previous.hex()])
    code, result = audit_verify()
    assert code == 1
    assert result["first_bad_seq"] == 6
    assert "checkpoint at size 10" in result["problems"][0]


@pytest.mark.django_db
def test_a_forged_checkpoint_is_refused():
    append(4)
    sign_checkpoint()
    forged_key = chain.Ed25519PrivateKey.generate()
    statement = chain.Checkpoint("airlock.example/audit", 4, b"\x00" * 32, b"\x00" * 32)
    note = chain.sign_checkpoint(statement, "airlock-audit", forged_key)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_checkpoint SET note = %s", [note])
    result = verify_database()
    assert not result.ok
    assert "no signature by a known key verifies" in result.problems[0]


# --- concurrency ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eight_writers_of_500_events_leave_a_gapless_verifying_chain():
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(500):
                with transaction.atomic():
                    record("load.event", f"writer:{number}", f"thing:{i}", {"i": i})
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 4001)
    )
    assert sign_checkpoint().tree_size == 4000
    result = verify_database()
    assert result.ok, result.problems
    assert result.events == 4000


# --- checkpoints ------------------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoints_only_grow():
    append(3)
    first = sign_checkpoint()
    assert first.tree_size == 3
    assert sign_checkpoint() is None  # nothing new
    append(2)
    second = sign_checkpoint()
    assert second.tree_size == 5
    assert (
        second.root_hash
        == chain.merkle_root(
            [
                bytes.fromhex(h)
                for h in AuditEvent.objects.order_by("seq").values_list("leaf_hash", flat=True)
            ]
        ).hex()
    )
    with pytest.raises(AppendOnlyError):
        second.save()


@pytest.mark.django_db
def test_no_signing_key_means_no_checkpoint(settings):
    from audit.services import NoSigningKey

    settings.AUDIT = {**settings.AUDIT, "SIGNING_KEY": ""}
    append(1)
    with pytest.raises(NoSigningKey):
        sign_checkpoint()
    assert not Checkpoint.objects.exists()


@pytest.mark.django_db
def test_the_public_keys_are_published(client):
    body = client.get("/.well-known/airlock-audit-keys").json()
    assert body["origin"] == "airlock.example/audit"
    [key] = body["keys"]
    assert key["name"] == "airlock-audit"
    assert key["algorithm"] == "ed25519"
    assert key["not_before"] == "2026-01-01T00:00:00Z"
    append(1)
    checkpoint = sign_checkpoint()
    opened, _ = chain.open_checkpoint(
        checkpoint.note, {"airlock-audit": chain.public_key_from_b64(key["public_key"])}
    )
    assert opened.size == 1


@pytest.mark.django_db
def test_a_rotated_key_keeps_old_checkpoints_verifiable(settings, tmp_path):
    import base64

    append(2)
    sign_checkpoint()
    old_public = chain.load_private_key(settings.AUDIT["SIGNING_KEY"]).public_key()
    retired = tmp_path / "retired.json"
    retired.write_text(
        json.dumps(
            [
                {
                    "name": "airlock-audit",
                    "public_key": base64.b64encode(old_public.public_bytes_raw()).decode(),
                    "not_before": "2026-01-01T00:00:00Z",
                    "not_after": "2099-01-01T00:00:00Z",
                }
            ]
        )
    )
    settings.AUDIT = {
        **settings.AUDIT,
        "SIGNING_KEY": base64.b64encode(b"\x09" * 32).decode(),
        "KEY_NAME": "airlock-audit-2",
        "RETIRED_KEYS_FILE": str(retired),
    }
    append(2)
    sign_checkpoint()
    result = verify_database()
    assert result.ok, result.problems
    assert result.checkpoints == 2


# --- API, proofs, export, the standalone verifier ---------------------------------------


def run_verifier(*args: str) -> subprocess.CompletedProcess[str]:
    """The auditor's verifier, as a separate process without Django on its path."""
    return subprocess.run(  # noqa: S603 - our own verifier, our own arguments
        [sys.executable, "-I", str(VERIFIER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
    )


@pytest.mark.django_db
def test_the_verify_endpoint_is_for_auditors(auditor, reviewer):
    append(3)
    assert Api(reviewer.token).get("/api/v1/audit/verify").status_code == 403
    body = Api(auditor.token).get("/api/v1/audit/verify").json()
    assert body["ok"] is True
    assert body["events"] == AuditEvent.objects.count()


@pytest.mark.django_db
def test_an_inclusion_proof_verifies_standalone_and_a_forged_one_does_not(
    auditor, client, tmp_path
):
    append(20)
    api = Api(auditor.token)
    assert api.get("/api/v1/audit/events/5/proof").status_code == 404  # no checkpoint yet
    sign_checkpoint()
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(client.get("/.well-known/airlock-audit-keys").json()))
    proof = api.get("/api/v1/audit/events/13/proof").json()
    assert proof["tree_size"] == AuditEvent.objects.count()
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(proof))
    result = run_verifier("proof", str(good), "--keys", str(keys))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: event 13 is in the log")

    forgeries = {
        "other event": {**proof, "canonical": AuditEvent.objects.get(seq=14).canonical},
        "flipped node": {**proof, "proof": ["00" * 32, *proof["proof"][1:]]},
        "wrong index": {**proof, "leaf_index": 11},
        "edited bytes": {**proof, "canonical": proof["canonical"].replace('"i":', '"j":')},
    }
    for name, forged in forgeries.items():
        path = tmp_path / "forged.json"
        path.write_text(json.dumps(forged))
        result = run_verifier("proof", str(path), "--keys", str(keys))
        assert result.returncode == 1, name
        assert result.stdout.startswith("FAILED"), name


@pytest.mark.django_db
def test_an_export_verifies_standalone_and_a_tampered_one_does_not(auditor, client, tmp_path):
    append(30)
    sign_checkpoint()
    append(4)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(client.get("/.well-known/airlock-audit-keys").json()))
    response = Api(auditor.token).client.get("/api/v1/audit/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl"
    export = tmp_path / "log.jsonl"
    export.write_bytes(b"".join(response.streaming_content))
    result = run_verifier("log", str(export), "--keys", str(keys))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["events"] == AuditEvent.objects.count()

    lines = export.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"seq": 17' in line)
    event = json.loads(lines[index])
    event["data"]["i"] = 1700
    lines[index] = json.dumps(event)
    export.write_text("\n".join(lines) + "\n")
    result = run_verifier("log", str(export), "--keys", str(keys))
    assert result.returncode == 1
    assert json.loads(result.stdout)["first_bad_seq"] == 17


@pytest.mark.django_db
def test_events_are_filtered_and_paged(auditor):
    append(3, "alpha")
    append(2, "beta")
    api = Api(auditor.token)
    page = api.get("/api/v1/audit/events", type="beta.event").json()
    assert [e["type"] for e in page["results"]] == ["beta.event", "beta.event"]
    system_events = list(AuditEvent.objects.filter(actor="system").values_list("seq", flat=True))
    assert len(system_events) >= 5  # the auditor's token was created by "system" too
    by_actor = api.get("/api/v1/audit/events", actor="system", limit=2).json()
    assert [e["seq"] for e in by_actor["results"]] == system_events[:2]
    rest = api.get("/api/v1/audit/events", actor="system", after=by_actor["next_after"]).json()
    assert [e["seq"] for e in rest["results"]] == system_events[2:]
    assert api.get("/api/v1/audit/events", since="2000-01-01T00:00:00Z").json()["results"]
    assert api.get("/api/v1/audit/events", until="2000-01-01T00:00:00Z").json()["results"] == []
    bad = api.get("/api/v1/audit/events", since="yesterday")
    assert bad.status_code == 400
    assert "since" in bad.json()["error"]["details"]


# --- the nightly check --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_nightly_check_raises_an_alert_when_the_log_is_broken(caplog):
    from audit.tasks import verify_log_task

    append(5)
    assert verify_log_task.apply().get() is True
    raw("""UPDATE audit_auditevent SET actor = 'someone-else' WHERE seq = 2""")
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert verify_log_task.apply().get() is False
    assert "AUDIT LOG DOES NOT VERIFY: first bad sequence 2" in caplog.text
    alert = AuditEvent.objects.get(event_type="audit.verification_failed")
    assert alert.data["first_bad_seq"] == 2


def test_audit_grants_prints_a_least_privilege_role():
    out = io.StringIO()
    call_command("audit_grants", "--role", "app", stdout=out)
    sql = out.getvalue()
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditevent, audit_checkpoint FROM app;" in sql
    assert "GRANT SELECT, INSERT ON audit_auditevent, audit_checkpoint TO app;" in sql
    assert (
        "GRANT UPDATE (seq, canonical, leaf_hash, prev_hash, chain_hash) ON audit_auditevent "
        "TO app;" in sql
    )


@pytest.mark.django_db
def test_a_lost_chain_head_never_starts_a_fork():
    append(3)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_chainhead")
    with pytest.raises(RuntimeError, match="head is missing while events exist"):
        record("after.loss", "system", "x", {})


# --- verification in parallel (manage.py audit_verify) -------------------------------------


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 4 events, so a log of 22 spans six worker ranges."""
    from audit import verification

    monkeypatch.setattr(verification, "PART_SIZE", 4)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_verification_agrees_on_an_untouched_log(small_parts):
    append(9)
    sign_checkpoint()
    append(13)
    sign_checkpoint()
    parallel = verify_database(workers=2)
    assert parallel.as_dict() == verify_database(workers=1).as_dict()
    assert (parallel.ok, parallel.events, parallel.checkpoints) == (True, 22, 2)


PARALLEL_TAMPERING = {
    # event 9 opens the third range of four: its link to 8 is checked across ranges
    "a broken link at a range's first event": (
        "UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 9",
        ["00" * 32],
        9,
    ),
    "the last event of a range deleted": ("DELETE FROM audit_auditevent WHERE seq = 8", [], 8),
    "a changed event inside a range": (
        """UPDATE audit_auditevent SET data = '{"i": 99, "note": "ü"}' WHERE seq = 14""",
        [],
        14,
    ),
    "an event past the head": (
        "INSERT INTO audit_auditevent (seq, at, event_type, actor, target, data, canonical, "
        "leaf_hash, prev_hash, chain_hash) SELECT 23, at, event_type, actor, target, data, "
        "canonical, leaf_hash, prev_hash, chain_hash FROM audit_auditevent WHERE seq = 22",
        [],
        23,
    ),
}


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("tampering", PARALLEL_TAMPERING)
def test_parallel_verification_finds_what_one_pass_finds(small_parts, tampering):
    sql, params, first_bad = PARALLEL_TAMPERING[tampering]
    append(22)
    sign_checkpoint()
    raw(sql, params)
    one_pass = verify_database(workers=1)
    parallel = verify_database(workers=3)
    assert not parallel.ok
    assert parallel.first_bad_seq == one_pass.first_bad_seq == first_bad
