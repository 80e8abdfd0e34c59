"""The package's manifest part: what was filtered and counted, every file's hash,
the signature over it all, and the ``verify/`` folder an auditor starts from."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from airlock import canonical
from audit import keys
from audit import services as audit_services
from audit import verify as chain
from evidence.package import Package

FORMAT = "airlock-evidence/2"


def manifest(
    *,
    report_id: str,
    generated_by: str,
    period_from: date,
    period_to: date,
    since: datetime,
    until: datetime,
    seq_from: int,
    seq_to: int,
    checkpoint: Any,
    verified: dict[str, Any],
    sample: dict[str, Any],
    signer: keys.Signer,
    files: list[dict[str, Any]],
) -> dict[str, Any]:
    ts = audit_services.timestamp
    return {
        "format": FORMAT,
        "report_id": report_id,
        "framework": "soc2",
        "generated_at": ts(datetime.now(UTC)),
        "generated_by": generated_by,
        "airlock_version": _version(),
        "period": {
            "from": period_from.isoformat(),
            "to": period_to.isoformat(),
            "since": ts(since),
            "until": ts(until),
        },
        "filters": {
            "audit_events": f"every event sequenced with {seq_from} <= seq <= {seq_to}: the "
            f"smallest and largest seq of sequenced events with {ts(since)} <= at < {ts(until)}",
            "approval_requests": "one row per action.created event in the audit range; "
            "status, reviews and grant as the range's later events leave them",
            "grants": "grant_issued: the action.approved event's time, for an approved "
            "agent's request whose rules give a grant; grant_redeemed, grant_revoked, "
            "credential_issued: the grant.redeemed, grant.revoked and credential.issued "
            "events of the range (a redemption whose credential.issue_failed is undone)",
            "review_actions": "one row per action.reviewed and action.review_refused event",
            "policy_changes": "one row per policy.* event",
            "access_changes": "one row per user.*, agent.*, token.* and auth.* event",
            "reveals": "one row per action.revealed and action.reveal_refused event",
            "approver_roster": "every person and their groups when the package was built",
            "configured_channels": "every notification channel created and not deleted by "
            f"event {seq_to} (the log since its start), target redacted, with the range's "
            "events that changed it",
        },
        "audit": {
            "sequenced_through": seq_to,
            "seq_from": seq_from,
            "seq_to": seq_to,
            "events": seq_to - seq_from + 1,
            "checkpoint": {
                "file": "audit/checkpoint.note",
                "tree_size": checkpoint.tree_size,
                "root_hash": checkpoint.root_hash,
                "key_name": checkpoint.key_name,
            },
            "verify_at_build": verified,
        },
        "sample": sample,
        "signer": {
            "name": signer.name,
            "key_id": chain.key_id(signer.name, signer.private_key.public_key()).hex(),
        },
        "files": files,
    }


def sign_manifest(manifest_bytes: bytes, signer: keys.Signer) -> bytes:
    """A detached Ed25519 signature over the manifest's exact bytes, named by key."""
    signature = signer.private_key.sign(manifest_bytes)
    return canonical.strict_bytes(
        {
            "algorithm": "ed25519",
            "key_name": signer.name,
            "key_id": chain.key_id(signer.name, signer.private_key.public_key()).hex(),
            "signature": base64.b64encode(signature).decode(),
        }
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("airlock")
    except PackageNotFoundError:
        return "unknown"


README_VERIFY = """# Verifying this package

You need Python 3.11+ and the `cryptography` package, nothing from Airlock.
Fetch Airlock's audit keys yourself (`GET /.well-known/airlock-audit-keys`, saved as
keys.json); `verify/keys.json` is the copy Airlock put here, which proves nothing
on its own. Then:

    python verify/verify.py evidence THIS_PACKAGE.zip --keys keys.json

Expected output ends with `OK: the package verifies`; anything else names the file
and the row or event at fault, and the command exits 1.

What it checks:

1. `manifest.sig` is an Ed25519 signature by a key in keys.json over `manifest.json`.
2. Every file's SHA-256 and size are the manifest's, and no file is unlisted.
3. `audit/events.jsonl` holds events `seq_from`..`seq_to` with no gap. With the
   Merkle frontier before the range (`audit/range.json`, one hash per set bit of
   `seq_from - 1`) they rebuild the root of the log's first `seq_to` events, and
   the RFC 6962 consistency proof in `audit/range.json` shows that tree is a prefix
   of the one `audit/checkpoint.note` signs. So no event was added, dropped or
   changed. (When the checkpoint ends with the range, its chain hash is checked too.)
   The package carries O(log n) hashes for this, however long the log runs on.
4. Every inclusion proof in `proofs/` leads to the checkpoint's root, and the sample
   in `sample/requests.csv` is the one the recorded seed draws.
5. Each population CSV has exactly the rows the events imply: one per action.created
   (approval_requests), per review or refused review (review_actions), per policy.*
   event (policy_changes), per user/agent/token/auth event (access_changes), per
   reveal (reveals); status at the period's end, approvers, and the grant columns
   (issued at the approval, redeemed, revoked, credential issued) agree with the
   events. Whether a request's rules gave it a grant is policy, not in the log: the
   verifier checks that a grant appears only on an approved agent's request, at its
   approval, and that a redemption or revocation in the log is on the row.
6. `configured_channels.csv`: a channel created in the period and not deleted in it
   has a row agreeing with its event; a channel deleted in the period has none.
   Channels created before the period are listed from the log since its start,
   which this package does not carry.

Cells that began with `= + - @`, a tab or a carriage return are prefixed with `'` so
a spreadsheet does not run them; the verifier strips the quote before comparing.
"""


def write_verify_folder(package: Package) -> None:
    package.write("verify/README.md", README_VERIFY.encode())
    package.write("verify/verify.py", Path(chain.__file__).read_bytes())
    package.write(
        "verify/keys.json",
        json.dumps({"keys": keys.published_keys()}, indent=2).encode(),
        note="Airlock's own copy of its public keys: fetch them separately to rely on them",
    )
