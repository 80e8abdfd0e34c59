"""What ties a package's events to the signed checkpoint: the frontier before the
range, a consistency proof after it, inclusion proofs for the sample; bounded by the
proofs, not by how long the log runs on after the period."""

from __future__ import annotations

import hashlib
import json
import random
import zipfile
from datetime import UTC, date, datetime
from unittest import mock

import pytest

from airlock import canonical
from audit import catalogue, keys
from audit import verify as chain
from audit.services import record, sign_checkpoint
from evidence import builder
from evidence.proofs import Subtrees, consistency_ranges, inclusion_ranges


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


def test_streamed_subtrees_give_the_rfc_6962_proofs():
    rng = random.Random(6962)
    for _ in range(300):
        size = rng.randint(1, 260)
        old = rng.randint(1, size)
        before = rng.randint(0, old - 1)
        leaves = _leaves(size)
        frontier = chain.Frontier()
        for leaf in leaves[:before]:
            frontier.append(leaf)
        sample = rng.sample(range(before, old), min(3, old - before))
        ranges = consistency_ranges(old, size)
        for index in sample:
            ranges += inclusion_ranges(index, size)
        tree = Subtrees(frontier, ranges)
        for leaf in leaves[before:]:
            tree.append(leaf)
        proof = [tree.root_of(a, b) for a, b in consistency_ranges(old, size)]
        old_root, root = chain.merkle_root(leaves[:old]), chain.merkle_root(leaves)
        assert chain.verify_consistency(old, size, old_root, root, proof), (before, old, size)
        assert len(proof) <= 2 * size.bit_length()
        if old < size:
            wrong = chain.merkle_root([*leaves[: old - 1], hashlib.sha256(b"x").digest()])
            assert not chain.verify_consistency(old, size, wrong, root, proof)
            assert not chain.verify_consistency(old, size, old_root, root, proof[:-1])
        for index in sample:
            path = [tree.root_of(a, b) for a, b in inclusion_ranges(index, size)]
            assert path == chain.inclusion_proof(index, leaves)


def _at(moment: datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.mark.django_db
def test_an_early_period_carries_log_n_hashes_not_the_later_log(tmp_path):
    with _at(datetime(2026, 1, 5, 12, tzinfo=UTC)):
        for i in range(5):
            record(catalogue.EVIDENCE_REQUESTED, "system", f"evidence:early-{i}", {"n": i})
    with _at(datetime(2026, 2, 1, 12, tzinfo=UTC)):
        for i in range(300):
            record(catalogue.EVIDENCE_REQUESTED, "system", f"evidence:later-{i}", {"n": i})
    checkpoint = sign_checkpoint()
    assert checkpoint is not None
    out = tmp_path / "early.zip"
    manifest = builder.build(
        out_path=out,
        period_from=date(2026, 1, 5),
        period_to=date(2026, 1, 5),
        sample_size=0,
        seed="s",
        generated_by="test",
        report_id="early",
    )
    archive = zipfile.ZipFile(out)
    assert manifest["audit"]["events"] == 5
    assert manifest["audit"]["sequenced_through"] == manifest["audit"]["seq_to"]
    assert archive.read("audit/events.jsonl").count(b"\n") == 5
    context = json.loads(archive.read("audit/range.json"))
    assert context["checkpoint_size"] == checkpoint.tree_size >= 305
    assert 0 < len(context["consistency"]) <= 2 * checkpoint.tree_size.bit_length()
    assert not [n for n in archive.namelist() if "tail" in n]
    published = keys.published_keys()
    assert chain.verify_evidence(str(out), published) == []

    # One hash of the proof changed, and the manifest re-signed as an insider could.
    for index in range(len(context["consistency"])):
        forged = dict(context, consistency=list(context["consistency"]))
        forged["consistency"][index] = hashlib.sha256(b"forged").hexdigest()
        problems = chain.verify_evidence(
            str(_resigned(out, {"audit/range.json": canonical.strict_bytes(forged)})), published
        )
        assert any("do not rebuild the signed checkpoint" in p for p in problems), problems


def _resigned(package, changes: dict[str, bytes]):
    source = zipfile.ZipFile(package)
    manifest = json.loads(source.read("manifest.json"))
    for entry in manifest["files"]:
        if entry["name"] in changes:
            data = changes[entry["name"]]
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    out = package.parent / f"resigned-{len(list(package.parent.iterdir()))}.zip"
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in ("manifest.json", "manifest.sig"):
                target.writestr(name, changes.get(name, source.read(name)))
        manifest_bytes = canonical.strict_bytes(manifest)
        target.writestr("manifest.json", manifest_bytes)
        signer = keys.signing_key()
        assert signer is not None
        target.writestr("manifest.sig", builder.sign_manifest(manifest_bytes, signer))
    return out


@pytest.mark.django_db
def test_an_events_time_is_read_without_a_parse_exactly_as_parsed():
    from audit.models import AuditEvent
    from evidence.populations import _at

    # An actor that holds the key's spelling: its quotes are escaped in the JSON.
    record(catalogue.EVIDENCE_REQUESTED, 'user:a","at":"x@example.com', "evidence:1", {})
    record(catalogue.EVIDENCE_REQUESTED, "system", "evidence:2", {"at": "2020-01-01"})
    texts = list(AuditEvent.objects.values_list("canonical", flat=True))
    assert len(texts) >= 2
    for text in texts:
        assert _at(text) == json.loads(text)["at"]


def test_only_evidence_events_reads_the_audit_log():
    """One module reads events (sequenced ones only), so a change to how the log
    stores them is a change to that module."""
    from pathlib import Path

    import evidence

    root = Path(evidence.__file__).parent
    readers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            word in path.read_text()
            for word in ("AuditEvent", "audit.models", "audit import selectors", "audit.selectors")
        )
    ]
    assert readers == ["events.py"]
    assert "seq__isnull=False" in (root / "events.py").read_text()
