"""Evidence reports: request one (a job), build it, record a download."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import User
from airlock.errors import Forbidden, InvalidInput
from audit import catalogue
from audit.services import record
from evidence import builder
from evidence.models import EvidenceReport, ReportStatus

logger = logging.getLogger(__name__)

MAX_SAMPLE = 1000
BUILD_TASK = "evidence.build_report"


def may_use_evidence(principal: Any) -> bool:
    return roles.reads_everything(principal)


def request_report(
    *,
    actor: User,
    period_from: date,
    period_to: date,
    sample_size: int | None = None,
    seed: str | None = None,
    framework: str = "soc2",
) -> EvidenceReport:
    """A new report, queued; the build runs in a worker once this commits."""
    from django.conf import settings

    if not may_use_evidence(actor):
        raise Forbidden("evidence reports are for airlock-auditors and airlock-admins")
    problems: dict[str, list[str]] = {}
    if framework != "soc2":
        problems["framework"] = ["only soc2 is offered"]
    if period_to < period_from:
        problems["to"] = ["must not be before from"]
    if sample_size is None:
        sample_size = int(str(settings.EVIDENCE["DEFAULT_SAMPLE"]))
    if not 0 <= sample_size <= MAX_SAMPLE:
        problems["sample"] = [f"between 0 and {MAX_SAMPLE}"]
    if seed is not None and not 1 <= len(seed) <= 64:
        problems["seed"] = ["1 to 64 characters"]
    if problems:
        raise InvalidInput(details=problems)
    with transaction.atomic():
        report = EvidenceReport.objects.create(
            framework=framework,
            period_from=period_from,
            period_to=period_to,
            sample_size=sample_size,
            seed=seed or secrets.token_hex(8),
            requested_by=actor,
            requested_by_name=actor.email,
        )
        record(
            catalogue.EVIDENCE_REQUESTED,
            actor,
            report.audit_target,
            {
                "framework": framework,
                "from": period_from.isoformat(),
                "to": period_to.isoformat(),
                "sample": sample_size,
                "seed": report.seed,
            },
        )
        report_id = report.pk
        # By name: the task module imports this one, and the queue needs only the id.
        transaction.on_commit(lambda: current_app.tasks[BUILD_TASK].delay(str(report_id)))
    return report


def _set(report_id: Any, **fields: Any) -> None:
    EvidenceReport.objects.filter(pk=report_id).update(**fields)


def build_report(*, report_id: Any) -> EvidenceReport:
    """Build a queued report's package. A failure is kept on the report, with why."""
    claimed = EvidenceReport.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING, started_at=timezone.now(), progress=0.0
    )
    report = EvidenceReport.objects.get(pk=report_id)
    if claimed != 1:  # delivered twice, or already built: nothing to do
        return report
    directory = builder.default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"evidence_{report.framework}_{report.period_from}_{report.period_to}_{report.pk}.zip"
    path = directory / name
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.05 or fraction >= 1.0:
            last[0] = fraction
            _set(report.pk, progress=round(fraction, 3))

    try:
        manifest = builder.build(
            out_path=path,
            period_from=report.period_from,
            period_to=report.period_to,
            sample_size=report.sample_size,
            seed=report.seed,
            generated_by=report.requested_by_name,
            report_id=str(report.pk),
            progress=progress,
        )
    except Exception as exc:
        logger.exception("evidence report %s failed", report.pk)
        path.unlink(missing_ok=True)
        reason = str(exc) if isinstance(exc, builder.BuildError) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            _set(report.pk, status=ReportStatus.FAILED, error=reason, finished_at=timezone.now())
            record(
                catalogue.EVIDENCE_FAILED, "system", report.audit_target, {"error": reason[:500]}
            )
        report.refresh_from_db()
        return report
    digest, size = file_digest(path)
    with transaction.atomic():
        _set(
            report.pk,
            status=ReportStatus.READY,
            progress=1.0,
            finished_at=timezone.now(),
            file_name=name,
            sha256=digest,
            size=size,
            seq_from=manifest["audit"]["seq_from"],
            seq_to=manifest["audit"]["seq_to"],
        )
        record(
            catalogue.EVIDENCE_BUILT,
            "system",
            report.audit_target,
            {
                "sha256": digest,
                "bytes": size,
                "seq_from": manifest["audit"]["seq_from"],
                "seq_to": manifest["audit"]["seq_to"],
            },
        )
    report.refresh_from_db()
    return report


def file_digest(path: Path) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def record_download(*, actor: User, report: EvidenceReport) -> Path:
    """The file to send; the download is an audit event, committed first."""
    if not may_use_evidence(actor):
        raise Forbidden("evidence reports are for airlock-auditors and airlock-admins")
    if report.status != ReportStatus.READY:
        from airlock.errors import Conflict

        raise Conflict(f"the report is {report.status}, not ready")
    with transaction.atomic():
        record(catalogue.EVIDENCE_DOWNLOADED, actor, report.audit_target, {"sha256": report.sha256})
    return builder.default_dir() / report.file_name
