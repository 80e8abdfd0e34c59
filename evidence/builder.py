"""Build a SOC 2 evidence package: a zip an auditor can check without trusting Airlock.

The period is turned into an audit ``seq`` range once, at the start; the package
then describes the log *sequenced through* the range's last event, however it grows
meanwhile. The parts are built by their own modules:

- ``evidence.proofs``: the range's events, tied to the signed checkpoint (one pass
  over the log, which also feeds the populations);
- ``evidence.populations``: the CSVs, checked by ``audit/verify.py evidence``
  against the events row by row;
- ``evidence.summary``: the PDF; ``evidence.manifest``: hashes, signature, verify/.

All log reads go through ``evidence.events``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from django.conf import settings

from airlock import canonical
from audit import catalogue, keys
from audit import services as audit_services
from audit.verification import verify_database
from evidence import events as log_events
from evidence import manifest as manifest_part
from evidence import populations, proofs, summary
from evidence.package import BuildError, Package
from evidence.stats import Stats

__all__ = ["BuildError", "build", "default_dir", "period_bounds", "sign_manifest"]

sign_manifest = manifest_part.sign_manifest


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """[start of ``period_from``, start of the day after ``period_to``) in UTC."""
    since = datetime.combine(period_from, clock.min, tzinfo=UTC)
    until = datetime.combine(period_to + timedelta(days=1), clock.min, tzinfo=UTC)
    return since, until


class _Phases:
    """Wall and CPU seconds of each phase of a build, for ``evidence_report --timings``
    (the CPU time is this process's own, so it holds on a machine others load)."""

    def __init__(self, into: dict[str, tuple[float, float]] | None):
        self.into = into if into is not None else {}
        self.last = (time.perf_counter(), time.process_time())

    def mark(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.into[name] = (round(now[0] - self.last[0], 3), round(now[1] - self.last[1], 3))
        self.last = now


def build(
    *,
    out_path: Path,
    period_from: date,
    period_to: date,
    sample_size: int,
    seed: str,
    generated_by: str,
    report_id: str,
    progress: Callable[[float], None] = lambda fraction: None,
    timings: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Write the package to ``out_path``; return its manifest. ``timings``, if given,
    is filled with each phase's wall and CPU seconds."""
    phases = _Phases(timings)
    since, until = period_bounds(period_from, period_to)
    if not log_events.all_sequenced_before(until):
        raise BuildError(
            "events written in the period are not in the audit chain yet "
            "(is the sequencer running?); try again shortly"
        )
    bounds = log_events.seq_range(since=since, until=until)
    if bounds is None:
        raise BuildError(f"the audit log holds no events from {period_from} to {period_to}")
    seq_from, seq_to = bounds
    signer = keys.signing_key()
    if signer is None:
        raise BuildError("AUDIT_SIGNING_KEY is not configured: the manifest cannot be signed")
    checkpoint = log_events.checkpoint_covering(seq_to)
    if checkpoint is None:
        audit_services.sign_checkpoint()
        checkpoint = log_events.checkpoint_covering(seq_to)
    if checkpoint is None:  # only if the log lost events between the two reads
        raise BuildError(f"no signed checkpoint covers audit event {seq_to}")
    phases.mark("bounds_and_checkpoint")
    progress(0.02)
    # The whole log, verified as the scheduled job does (its speed is audit's).
    verified = verify_database()
    phases.mark("verify_database")
    progress(0.3)

    stats = Stats(event_types=log_events.type_counts(seq_from, seq_to))
    stats.verification_failures = stats.event_types.get(catalogue.AUDIT_VERIFICATION_FAILED, 0)
    population = stats.event_types.get(catalogue.ACTION_CREATED, 0)
    positions = sorted(
        # Reproducible on purpose: an auditor re-draws the sample from the seed.
        random.Random(seed).sample(range(population), min(sample_size, population))  # noqa: S311
    )
    sampled_seqs = _seqs_at(seq_from, seq_to, positions)
    phases.mark("prepare")
    package = Package(str(out_path))
    try:
        collector = populations.Collector(stats)
        proofs.write_log(package, seq_from, seq_to, checkpoint, sampled_seqs, collector.see)
        phases.mark("events_and_proofs")
        progress(0.55)
        sampled = populations.write_requests(
            package,
            collector,
            seq_from,
            seq_to,
            positions,
            lambda fraction: progress(0.55 + 0.3 * fraction),
        )
        phases.mark("approval_requests")
        populations.write_event_populations(package, collector)
        populations.write_roster(package)
        stats.channels = populations.write_channels(package, collector, seq_to)
        with package.csv(
            "sample/requests.csv", ("position", "request_id", "created_seq", "proof")
        ) as out:
            for position, request_id, seq in sampled:
                out.row((position, request_id, seq, f"proofs/{seq}.json"))
        manifest_part.write_verify_folder(package)
        phases.mark("other_populations")
        progress(0.9)
        scope = {
            "framework": "soc2",
            "period": {"from": period_from.isoformat(), "to": period_to.isoformat()},
            "seq_from": seq_from,
            "seq_to": seq_to,
            "checkpoint_size": checkpoint.tree_size,
            "key_name": checkpoint.key_name,
            "verified": verified.ok,
            "verified_events": verified.events,
            "generated_by": generated_by,
            "report_id": report_id,
        }
        package.write("summary.pdf", summary.render(scope, stats, list(package.files)))
        phases.mark("summary_pdf")
        progress(0.95)
        manifest = manifest_part.manifest(
            report_id=report_id,
            generated_by=generated_by,
            period_from=period_from,
            period_to=period_to,
            since=since,
            until=until,
            seq_from=seq_from,
            seq_to=seq_to,
            checkpoint=checkpoint,
            verified=verified.as_dict(),
            sample={
                "size": len(positions),
                "requested": sample_size,
                "seed": seed,
                "population": population,
                "method": "sorted(random.Random(seed).sample(range(population), size)) "
                "(Python 3): 0-based row positions in populations/approval_requests.csv",
            },
            signer=signer,
            files=package.files,
        )
        manifest_bytes = canonical.strict_bytes(manifest)
        package.zip.writestr("manifest.json", manifest_bytes)
        package.zip.writestr("manifest.sig", sign_manifest(manifest_bytes, signer))
    finally:
        package.close()
    phases.mark("manifest")
    progress(1.0)
    return manifest


def _seqs_at(seq_from: int, seq_to: int, positions: list[int]) -> list[int]:
    """The seq of the ``action.created`` events at some 0-based positions of the range."""
    wanted, seqs = iter(positions), []
    target = next(wanted, None)
    if target is None:
        return []
    for position, seq in enumerate(
        log_events.seqs_of_type(seq_from, seq_to, catalogue.ACTION_CREATED)
    ):
        if position == target:
            seqs.append(seq)
            target = next(wanted, None)
            if target is None:
                break
    return seqs


def default_dir() -> Path:
    return Path(str(settings.EVIDENCE["DIR"]))
