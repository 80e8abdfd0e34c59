"""An evidence package over a period with every kind of event, checked against the
database; the auditor's verifier passes it and names each tampering."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from airlock import canonical
from approvals import grants
from approvals.models import ActionRequest, Review
from approvals.services import expire_overdue
from audit import catalogue, keys
from audit import verify as chain
from audit.models import AuditEvent
from evidence import builder
from evidence.models import EvidenceReport
from notifications.models import Channel
from policies import services as policy_services
from policies.models import PolicyVersion
from tests.conftest import Api
from tests.factories import apply_policy, make_agent, make_person, quorum_policy

REVEAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
POLICY_TWO = (
    quorum_policy(1) + "rules:\n  - name: reads\n    match: {action: '*.read'}\n    effect: allow\n"
)


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(StringIO(archive.read(name).decode(), newline="")))


WEBHOOK = "https://hooks.example.com/services/T0001/B0002/sEcReTtOkEn"


@pytest.fixture
def period(settings, agent_api, agent_owner, reviewer, second_reviewer):
    """A day with approvals, a denial, an expiry, a blocked self-approval, a policy
    change by one admin approved by another, a reveal, a formula in a resource, a
    grant redeemed and another revoked, and notification channels (one removed)."""
    settings.PAYLOAD_ENCRYPTION_KEY = REVEAL_KEY
    # The webhook's host is never looked up or called: channels are made last.
    settings.AIRLOCK = {**settings.AIRLOCK, "ALLOW_PRIVATE_CALLBACKS": True}
    apply_policy(quorum_policy(1))
    admin = make_person("ada@example.com", groups=["airlock-admins"]).user
    second_admin = make_person("bea@example.com", groups=["airlock-admins"]).user
    proposal = policy_services.propose(document=POLICY_TWO, actor=admin, single_admin=False)
    with pytest.raises(policy_services.PolicySelfApproval):
        policy_services.approve(version=proposal.version, actor=admin)  # its author: refused
    policy_services.approve(version=proposal.version, actor=second_admin)

    reviewer_api, owner_api = Api(reviewer.token), Api(agent_owner.token)
    approved = agent_api.file({"action": "db.migrate", "resource": '=HYPERLINK("x")'}).json()
    assert reviewer_api.approve(approved["id"], "ok").status_code == 200
    denied = agent_api.file({"action": "iam.grant", "resource": "role://admin"}).json()
    assert Api(second_reviewer.token).deny(denied["id"], "too broad").status_code == 200
    expiring = agent_api.file({"action": "k8s.restart", "resource": "cluster://prod"}).json()
    blocked = owner_api.approve(expiring["id"])
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "self_approval"
    assert expire_overdue(now=timezone.now() + timedelta(days=1)) == 1
    revealed = agent_api.file(
        {"action": "data.export", "resource": "db://crm", "payload": {"to": "lee.chan@example.com"}}
    ).json()
    response = reviewer_api.post(
        f"/api/v1/actions/{revealed['id']}/reveal", {"reason": "check the recipient"}
    )
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.filter(event_type=catalogue.ACTION_REVEALED).count() == 1
    assert Api(second_reviewer.token).approve(revealed["id"]).status_code == 200

    # The first approval's grant is redeemed by an executor; the last one's revoked.
    token = agent_api.get(f"/api/v1/actions/{approved['id']}").json()["grant"]
    assert token
    executor = make_agent(agent_owner.user, name="warehouse-executor")
    redeemed = Api(executor.token).post("/api/v1/grants/redeem", {"grant": token})
    assert redeemed.status_code == 200, redeemed.content
    revoked = owner_api.post(
        f"/api/v1/actions/{revealed['id']}/grant/revoke", {"reason": "the job was cancelled"}
    )
    assert revoked.status_code == 200, revoked.content

    admin_api = Api(make_person("cat@example.com", groups=["airlock-admins"]).token)
    hook = admin_api.post(
        "/api/v1/channels",
        {"kind": "webhook", "name": "siem", "target": WEBHOOK, "groups": ["reviewers"]},
    )
    assert hook.status_code == 201, hook.content
    slack = admin_api.post(
        "/api/v1/channels",
        {"kind": "slack", "name": "reviews", "target": "C0REVIEWS", "groups": ["reviewers"]},
    )
    assert slack.status_code == 201, slack.content
    gone = admin_api.post(
        "/api/v1/channels",
        {"kind": "slack", "name": "old", "target": "C0OLD", "groups": ["reviewers"]},
    )
    assert admin_api.client.delete(f"/api/v1/channels/{gone.json()['id']}").status_code == 204
    return {
        "admin": admin,
        "second_admin": second_admin,
        "approved": approved["id"],
        "revoked": revealed["id"],
        "channels": {"siem": hook.json()["id"], "reviews": slack.json()["id"]},
    }


@pytest.fixture
def package(period, auditor, tmp_path, django_capture_on_commit_callbacks, settings):
    settings.EVIDENCE = {"DIR": str(tmp_path / "store"), "DEFAULT_SAMPLE": 25}
    today = timezone.now().date().isoformat()
    api = Api(auditor.token)
    created = api.post("/api/v1/reports", {"from": today, "to": today, "sample": 3, "seed": "s1"})
    assert created.status_code == 202, created.content
    report = api.get(f"/api/v1/reports/{created.json()['id']}").json()
    assert report["status"] == "ready", report
    assert report["progress"] == 1.0
    download = api.client.get(f"/api/v1/reports/{report['id']}/download")
    assert download.status_code == 200
    path = tmp_path / "package.zip"
    path.write_bytes(b"".join(download.streaming_content))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == report["sha256"]
    assert AuditEvent.objects.filter(
        event_type=catalogue.EVIDENCE_DOWNLOADED, actor=f"user:{auditor.user.email}"
    ).exists()
    return path


def test_every_csv_matches_the_database(package, period):
    archive = zipfile.ZipFile(package)
    manifest = json.loads(archive.read("manifest.json"))

    requests = {r["request_id"]: r for r in _rows(archive, "populations/approval_requests.csv")}
    assert set(requests) == {str(pk) for pk in ActionRequest.objects.values_list("pk", flat=True)}
    for action in ActionRequest.objects.all():
        row = requests[str(action.pk)]
        assert row["status_at_period_end"] == action.status
        approvers = sorted(
            r.reviewer.email for r in Review.objects.filter(action=action, verdict="approve")
        )
        assert row["approvers"] == ";".join(approvers)
        assert row["requester"] == action.requester_agent.name
        assert row["requester_owner"] == action.requester_owner.email
        assert row["policy_version"] == str(action.policy_version)
        assert row["approver_on_requester_side"] == "no"
        # The times are the log's: a moment after the row's (same transaction).
        assert _soon_after(row["created_at"], action.created_at)
        assert _soon_after(row["decided_at"], action.decided_at)
        # A grant is a pure function of the approved request (approvals.grants).
        if grants.spec_of(action) is None:
            assert row["grant_issued"] == row["grant_redeemed"] == row["grant_revoked"] == ""
            continue
        assert _soon_after(row["grant_issued"], action.decided_at)
        record = grants.record_of(action)
        redeemed = record.redeemed_at if record else None
        revoked = record.revoked_at if record else None
        assert _soon_after(row["grant_redeemed"], redeemed)
        assert _soon_after(row["grant_revoked"], revoked)
        assert row["grant_redeemed_by"] == (record.redeemed_by.name if redeemed else "")
        assert row["grant_revoked_by"] == (_email(record.revoked_by) if revoked else "")
    grant_rows = {r["request_id"]: r for r in requests.values() if r["grant_issued"]}
    assert grant_rows[period["approved"]]["grant_redeemed_by"] == "warehouse-executor"
    assert grant_rows[period["revoked"]]["grant_revoked_by"] == "owner@example.com"
    assert "not available in this version" not in archive.read(
        "populations/approval_requests.csv"
    ).decode() + json.dumps(manifest)
    assert {r["status_at_period_end"] for r in requests.values()} == {
        "approved",
        "denied",
        "expired",
    }
    # A formula is quoted so a spreadsheet shows it rather than runs it.
    assert any(r["resource"] == '\'=HYPERLINK("x")' for r in requests.values())

    reviews = _rows(archive, "populations/review_actions.csv")
    accepted = {
        (r["request_id"], r["reviewer"], r["verdict"]) for r in reviews if r["accepted"] == "yes"
    }
    assert accepted == {
        (str(r.action_id), r.reviewer.email, r.verdict) for r in Review.objects.all()
    }
    refused = [r for r in reviews if r["accepted"] == "no"]
    assert [(r["reviewer"], r["refusal"]) for r in refused] == [
        ("owner@example.com", "self_approval")
    ]

    changes = _rows(archive, "populations/policy_changes.csv")
    activated = [c for c in changes if c["event"] == catalogue.POLICY_ACTIVATED]
    stored = PolicyVersion.objects.get(version=int(activated[-1]["version"]))
    assert activated[-1]["proposed_by"] == stored.author.email == period_admin_email(stored)
    assert activated[-1]["decided_by"] == stored.decided_by.email == "bea@example.com"
    assert any(c["event"] == catalogue.POLICY_APPROVAL_REFUSED for c in changes)
    assert len(changes) == AuditEvent.objects.filter(event_type__startswith="policy.").count()

    reveals = _rows(archive, "populations/reveals.csv")
    assert [(r["actor"], r["allowed"], r["reason"]) for r in reveals] == [
        ("carol@example.com", "yes", "check the recipient")
    ]
    access = _rows(archive, "populations/access_changes.csv")
    assert (
        len(access)
        == AuditEvent.objects.filter(event_type__regex=r"^(user|agent|token|auth)\.").count()
    )
    roster = _rows(archive, "populations/approver_roster.csv")
    assert {r["email"] for r in roster} == set(User.objects.values_list("email", flat=True))
    channels = {c["name"]: c for c in _rows(archive, "populations/configured_channels.csv")}
    # "old" was removed in the period: no row.
    assert set(channels) == set(Channel.objects.values_list("name", flat=True))
    assert set(channels) == {"siem", "reviews"}
    for stored in Channel.objects.all():
        row = channels[stored.name]
        assert (row["channel"], row["kind"], row["groups"], row["mode"]) == (
            str(stored.pk),
            stored.kind,
            ";".join(stored.groups),
            stored.mode,
        )
        assert row["created_by"] == stored.created_by
        assert row["changed_in_period"] == row["created_seq"]
    assert channels["reviews"]["target"] == "C0REVIEWS"
    # A webhook's path and query are its secret: only scheme and host are shown.
    assert channels["siem"]["target"].startswith("https://hooks.example.com/")
    assert "sEcReT" not in archive.read("populations/configured_channels.csv").decode()
    assert manifest["audit"]["sequenced_through"] == manifest["audit"]["seq_to"]

    files = {f["name"]: f for f in manifest["files"]}
    assert files["populations/approval_requests.csv"]["rows"] == len(requests)
    assert manifest["audit"]["verify_at_build"]["ok"] is True
    assert manifest["sample"] == {
        **manifest["sample"],
        "seed": "s1",
        "size": 3,
        "population": len(requests),
    }
    assert len([n for n in archive.namelist() if n.startswith("proofs/")]) == 3
    assert archive.read("summary.pdf").startswith(b"%PDF")
    # Never a payload: neither the masked copy nor the original appears anywhere, nor
    # a webhook's secret path, nor a channel's signing secret.
    secrets = [b"lee.chan", b"sEcReTtOkEn"]
    secrets += [s.encode() for s in Channel.objects.values_list("secret", flat=True) if s]
    for name in archive.namelist():
        for secret in secrets:
            assert secret not in archive.read(name), name


def _soon_after(cell: str, stored: datetime | None) -> bool:
    """A CSV time (the log's) is the database's, or up to a second after it."""
    if stored is None:
        return cell == ""
    return timedelta(0) <= datetime.fromisoformat(cell) - stored < timedelta(seconds=1)


def _email(actor: str) -> str:
    return actor.removeprefix("user:")


def period_admin_email(stored: PolicyVersion) -> str:
    return stored.author_name


def _keys() -> list[dict]:
    return keys.published_keys()


def test_the_verifier_passes_the_package(package):
    assert chain.verify_evidence(str(package), _keys()) == []
    assert chain.main(["evidence", str(package), "--keys", str(_keys_file(package))]) == 0


def _keys_file(package: Path) -> Path:
    path = package.parent / "keys.json"
    path.write_text(json.dumps({"keys": _keys()}))
    return path


def _rewrite(package: Path, changes: dict[str, bytes], *, resign: bool) -> Path:
    """A copy of the package with some files replaced; with ``resign`` the manifest's
    hashes are recomputed and signed again with the real key, as an insider holding
    the signing key would: only the checks against the events remain to catch it."""
    source = zipfile.ZipFile(package)
    manifest = json.loads(source.read("manifest.json"))
    if resign:
        for entry in manifest["files"]:
            if entry["name"] in changes:
                data = changes[entry["name"]]
                entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    out = package.parent / f"tampered-{len(list(package.parent.iterdir()))}.zip"
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name in ("manifest.json", "manifest.sig") and resign:
                continue
            target.writestr(name, changes.get(name, source.read(name)))
        if resign:
            manifest_bytes = canonical.strict_bytes(manifest)
            target.writestr("manifest.json", manifest_bytes)
            signer = keys.signing_key()
            assert signer is not None
            target.writestr("manifest.sig", builder.sign_manifest(manifest_bytes, signer))
    return out


def test_one_changed_byte_in_any_file_is_caught_and_named(package):
    archive = zipfile.ZipFile(package)
    for name in archive.namelist():
        data = bytearray(archive.read(name) or b"\n")  # an empty file gains one byte
        if archive.read(name):
            data[len(data) // 2] ^= 0x01
        problems = chain.verify_evidence(
            str(_rewrite(package, {name: bytes(data)}, resign=False)), _keys()
        )
        assert problems, name
        if name == "manifest.json":
            assert any(p.startswith("manifest") for p in problems), problems
        elif name != "manifest.sig":
            assert any(p.startswith(f"{name}: SHA-256") for p in problems), (name, problems)


def test_a_dropped_csv_row_is_caught_and_named_even_when_re_signed(package):
    archive = zipfile.ZipFile(package)
    name = "populations/approval_requests.csv"
    lines = archive.read(name).split(b"\r\n")
    dropped_id = lines[2].split(b",")[0].decode()
    shorter = b"\r\n".join(lines[:2] + lines[3:])
    problems = chain.verify_evidence(str(_rewrite(package, {name: shorter}, resign=True)), _keys())
    assert f"{name}: request {dropped_id} is in the log but has no row" in problems

    reviews = "populations/review_actions.csv"
    lines = archive.read(reviews).split(b"\r\n")
    seq = lines[1].split(b",")[0].decode()
    tampered = _rewrite(package, {reviews: b"\r\n".join(lines[:1] + lines[2:])}, resign=True)
    assert f"{reviews}: event {seq} is in the log but has no row" in chain.verify_evidence(
        str(tampered), _keys()
    )


def test_an_added_event_is_caught_and_named_even_when_re_signed(package):
    archive = zipfile.ZipFile(package)
    lines = archive.read("audit/events.jsonl").split(b"\n")
    forged = json.loads(lines[0])
    forged.update(type=catalogue.ACTION_APPROVED, actor="user:mallory@example.com")
    added = b"\n".join([lines[0], canonical.strict_bytes(forged), *lines[1:]])
    problems = chain.verify_evidence(
        str(_rewrite(package, {"audit/events.jsonl": added}, resign=True)), _keys()
    )
    assert any("an event was added, dropped or moved" in p for p in problems), problems
    assert any("the checkpoint signs" in p for p in problems), problems

    # An event rewritten in place (same seq, same count) no longer rebuilds the root.
    rewritten = json.loads(lines[1])
    rewritten["actor"] = "user:mallory@example.com"
    swapped = b"\n".join([lines[0], canonical.strict_bytes(rewritten), *lines[2:]])
    problems = chain.verify_evidence(
        str(_rewrite(package, {"audit/events.jsonl": swapped}, resign=True)), _keys()
    )
    assert any("do not rebuild the signed checkpoint" in p for p in problems), problems

    # A changed status in the requests CSV, re-signed, disagrees with the events.
    name = "populations/approval_requests.csv"
    text = archive.read(name).decode().replace(",denied,", ",approved,", 1)
    problems = chain.verify_evidence(
        str(_rewrite(package, {name: text.encode()}, resign=True)), _keys()
    )
    assert any("status_at_period_end is 'approved', the log says 'denied'" in p for p in problems)


def test_a_package_signed_by_another_key_is_refused(package, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    table = [
        {
            "name": "airlock-audit",
            "public_key": __import__("base64")
            .b64encode(other.public_key().public_bytes_raw())
            .decode(),
        }
    ]
    problems = chain.verify_evidence(str(package), table)
    assert "manifest.sig: the signature does not verify over manifest.json" in problems


def test_the_command_builds_the_same_kind_of_package(period, tmp_path):
    out = tmp_path / "cli.zip"
    stdout = io.StringIO()
    today = timezone.now().date().isoformat()
    call_command(
        "evidence_report", "--from", today, "--to", today, "--out", str(out), stdout=stdout
    )
    assert stdout.getvalue().strip() == hashlib.sha256(out.read_bytes()).hexdigest()
    assert chain.verify_evidence(str(out), _keys()) == []


def test_a_failed_build_says_why(auditor, tmp_path, settings):
    settings.EVIDENCE = {"DIR": str(tmp_path), "DEFAULT_SAMPLE": 0}
    created = Api(auditor.token).post("/api/v1/reports", {"from": "2020-01-01", "to": "2020-01-31"})
    assert created.status_code == 202
    report = EvidenceReport.objects.get(pk=created.json()["id"])
    assert report.status == "failed"
    assert "no events from 2020-01-01 to 2020-01-31" in report.error
    assert AuditEvent.objects.filter(event_type=catalogue.EVIDENCE_FAILED).exists()


def test_only_auditors_and_admins_may_ask_or_download(outsider, reviewer, agent_api):
    for api in (Api(outsider.token), Api(reviewer.token), agent_api):
        response = api.post("/api/v1/reports", {"from": "2026-01-01", "to": "2026-01-31"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert api.get("/api/v1/reports").status_code == 403
    assert not EvidenceReport.objects.exists()


def test_bad_periods_are_400s(auditor):
    api = Api(auditor.token)
    backwards = api.post("/api/v1/reports", {"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards.status_code == 400
    assert "to" in backwards.json()["error"]["details"]
    missing = api.post("/api/v1/reports", {"to": "2026-01-01"})
    assert missing.status_code == 400
    assert "from" in missing.json()["error"]["details"]


def test_the_console_page_requests_shows_and_downloads(
    client, auditor, reviewer, tmp_path, settings
):
    settings.EVIDENCE = {"DIR": str(tmp_path), "DEFAULT_SAMPLE": 2}
    client.force_login(reviewer.user)
    assert client.get("/evidence/").status_code == 404  # reviewers are not offered it
    client.force_login(auditor.user)
    today = timezone.now().date().isoformat()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post("/evidence/", {"from": today, "to": today, "seed": "console"})
    assert posted.status_code == 302
    report = EvidenceReport.objects.get()
    assert report.status == "ready"
    assert report.requested_by == auditor.user
    page = client.get("/evidence/").content.decode()
    assert auditor.user.email in page
    assert report.sha256[:16] in page
    assert "console" in page
    download = client.get(f"/evidence/{report.pk}/download")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == report.sha256
    assert AuditEvent.objects.filter(
        event_type=catalogue.EVIDENCE_REQUESTED, target=report.audit_target
    ).exists()
    assert AuditEvent.objects.filter(
        event_type=catalogue.EVIDENCE_DOWNLOADED, target=report.audit_target
    ).exists()


def test_changed_grant_and_channel_rows_are_caught_even_when_re_signed(package, period):
    archive = zipfile.ZipFile(package)
    name = "populations/approval_requests.csv"
    rows = _rows(archive, name)
    header = list(rows[0])

    def rewritten(change) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, header, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(change(dict(row)))
        return out.getvalue().encode()

    def unredeemed(row):
        if row["request_id"] == period["approved"]:
            row["grant_redeemed"] = row["grant_redeemed_by"] = ""
        return row

    problems = chain.verify_evidence(
        str(_rewrite(package, {name: rewritten(unredeemed)}, resign=True)), _keys()
    )
    assert any(
        p.startswith(f"{name}: request {period['approved']}: grant_redeemed is ''")
        for p in problems
    ), problems

    denied = next(r["request_id"] for r in rows if r["status_at_period_end"] == "denied")

    def granted(row):
        if row["request_id"] == denied:
            row["grant_issued"] = row["created_at"]
        return row

    problems = chain.verify_evidence(
        str(_rewrite(package, {name: rewritten(granted)}, resign=True)), _keys()
    )
    assert (
        f"{name}: request {denied}: grant_issued, but the log shows no approval of an "
        "agent's request"
    ) in problems

    channels = "populations/configured_channels.csv"
    lines = archive.read(channels).split(b"\r\n")
    siem = str(period["channels"]["siem"])
    kept = [line for line in lines if not line.startswith(siem.encode() + b",")]
    problems = chain.verify_evidence(
        str(_rewrite(package, {channels: b"\r\n".join(kept)}, resign=True)), _keys()
    )
    assert f"{channels}: channel {siem} is in the log but has no row" in problems
    # The channel removed in the period, put back as if it were still configured.
    gone = AuditEvent.objects.get(event_type=catalogue.CHANNEL_DELETED).target
    revived = gone.removeprefix("channel:").encode() + b",slack,old,reviewers,approve,C0OLD,1,,,"
    problems = chain.verify_evidence(
        str(_rewrite(package, {channels: b"\r\n".join([*lines[:-1], revived, b""])}, resign=True)),
        _keys(),
    )
    assert any("was deleted in the period" in p for p in problems), problems
