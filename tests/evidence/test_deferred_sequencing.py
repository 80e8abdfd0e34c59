"""With the audit sequencer deferred (PostgreSQL's default), a period's events may
still be waiting for their place in the chain when a package is asked for. The
builder puts them there first, so the package leaves none out: its requests CSV
holds the request filed a moment before, and the package verifies."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.utils import timezone

from audit import keys, sequencer
from audit import verify as chain
from audit.models import AuditEvent
from evidence import builder

pytestmark = pytest.mark.django_db


def test_a_package_sequences_the_periods_waiting_events_before_it_reads_them(
    agent_api, settings, tmp_path
):
    settings.AUDIT = {**settings.AUDIT, "SEQUENCER": sequencer.DEFERRED}
    filed = agent_api.file({"action": "data.export", "resource": "db://x"})
    assert filed.status_code == 201
    assert AuditEvent.objects.filter(seq__isnull=True).exists()  # waiting for the sequencer
    today = timezone.now().date()
    out = tmp_path / "package.zip"
    manifest = builder.build(
        out_path=out,
        period_from=today,
        period_to=today,
        sample_size=1,
        seed="s",
        generated_by="user:audrey@example.com",
        report_id="r1",
    )
    assert not AuditEvent.objects.filter(seq__isnull=True, at__lt=timezone.now()).exists()
    with zipfile.ZipFile(out) as archive:
        rows = list(
            csv.DictReader(io.StringIO(archive.read("populations/approval_requests.csv").decode()))
        )
    assert filed.json()["id"] in {row["request_id"] for row in rows}
    assert manifest["audit"]["sequenced_through"] >= AuditEvent.objects.count() - 5
    assert chain.verify_evidence(str(out), keys.published_keys()) == []
