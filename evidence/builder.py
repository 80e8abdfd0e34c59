"""Build a SOC 2 evidence package: a zip an auditor can check without trusting Airlock.

The period is turned into an audit ``seq`` range once, at the start; every population
is then read by that range (events through ``audit.selectors``, request rows through
``approvals.selectors``), so the package describes one fixed state of the log even
while the log grows. What ``audit/verify.py evidence`` re-derives from the events
(which requests, which reviews, which policy and access changes) is written so it can
be compared row by row; see ``verify/README.md`` inside a package.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings

from accounts import selectors as account_selectors
from accounts.models import ADMINS_GROUP, AUDITORS_GROUP
from airlock import canonical
from approvals import selectors as approval_selectors
from audit import catalogue, keys
from audit import selectors as audit_selectors
from audit import services as audit_services
from audit import verify as chain
from audit.verification import verify_database
from evidence import summary
from evidence.package import Package
from evidence.stats import Stats
from policies import selectors as policy_selectors

FORMAT = "airlock-evidence/1"
CHUNK = 1000

STATUS_TYPES = (
    catalogue.ACTION_PENDING,
    catalogue.ACTION_APPROVED,
    catalogue.ACTION_DENIED,
    catalogue.ACTION_EXPIRED,
    catalogue.ACTION_CANCELLED,
)
REVIEW_TYPES = (catalogue.ACTION_REVIEWED, catalogue.ACTION_REVIEW_REFUSED)
REVEAL_TYPES = (catalogue.ACTION_REVEALED, catalogue.ACTION_REVEAL_REFUSED)
ACCESS_PATTERN = r"^(user|agent|token|auth)\."
FINAL = {"approved", "denied", "expired", "cancelled"}

REQUEST_COLUMNS = (
    "request_id",
    "created_seq",
    "created_at",
    "action",
    "resource",
    "environment",
    "requester_type",
    "requester",
    "requester_owner",
    "on_behalf_of",
    "policy_version",
    "policy_rules",
    "policy_effect",
    "status_at_period_end",
    "decided_at",
    "expires_at",
    "decision_channel",
    "approvers",
    "approvals_detail",
    "deniers",
    "approver_on_requester_side",
    "time_to_decision_seconds",
    "grant_issued",
    "grant_redeemed",
    "outcome",
    "outcome_at",
)
NOT_IN_THIS_VERSION = "not available in this version"


class BuildError(Exception):
    """The package cannot be built; the message says why (kept on the report)."""


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """[start of ``period_from``, start of the day after ``period_to``) in UTC."""
    since = datetime.combine(period_from, time.min, tzinfo=UTC)
    until = datetime.combine(period_to + timedelta(days=1), time.min, tzinfo=UTC)
    return since, until


def _ts(moment: datetime | None) -> str:
    return audit_services.timestamp(moment) if moment else ""


def _email(actor: str) -> str:
    return actor.removeprefix("user:")


def _request_id(target: str) -> str:
    return target.removeprefix("action:")


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
) -> dict[str, Any]:
    """Write the package to ``out_path``; return its manifest."""
    since, until = period_bounds(period_from, period_to)
    bounds = audit_selectors.seq_range(since=since, until=until)
    if bounds is None:
        raise BuildError(f"the audit log holds no events from {period_from} to {period_to}")
    seq_from, seq_to = bounds
    signer = keys.signing_key()
    if signer is None:
        raise BuildError("AUDIT_SIGNING_KEY is not configured: the manifest cannot be signed")
    checkpoint = audit_selectors.first_checkpoint_covering(seq_to)
    if checkpoint is None:
        audit_services.sign_checkpoint()
        checkpoint = audit_selectors.first_checkpoint_covering(seq_to)
    if checkpoint is None:  # only if the log lost events between the two reads
        raise BuildError(f"no signed checkpoint covers audit event {seq_to}")
    progress(0.02)
    verified = verify_database()
    progress(0.2)

    stats = Stats(event_types=audit_selectors.type_counts(seq_from, seq_to))
    stats.verification_failures = stats.event_types.get(catalogue.AUDIT_VERIFICATION_FAILED, 0)
    package = Package(str(out_path))
    try:
        _write_log(package, seq_from, seq_to, checkpoint)
        progress(0.35)
        population = audit_selectors.events_in_range(
            seq_from, seq_to, types=[catalogue.ACTION_CREATED]
        ).count()
        positions = sorted(
            # Reproducible on purpose: an auditor re-draws the sample from the seed.
            random.Random(seed).sample(range(population), min(sample_size, population))  # noqa: S311
        )
        sampled = _write_requests(package, seq_from, seq_to, population, positions, stats, progress)
        _write_reviews(package, seq_from, seq_to, stats)
        _write_policy_changes(package, seq_from, seq_to, stats)
        _write_access_changes(package, seq_from, seq_to, stats)
        _write_reveals(package, seq_from, seq_to, stats)
        _write_roster(package)
        with package.csv(
            "populations/configured_channels.csv",
            ("kind", "name", "target", "groups", "mode", "configured_by", "configured_at"),
            note=f"notification channels are {NOT_IN_THIS_VERSION}: header only",
        ):
            pass
        progress(0.8)
        _write_sample(package, sampled, checkpoint)
        progress(0.85)
        _write_verify_folder(package)
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
        progress(0.95)
        manifest = {
            "format": FORMAT,
            "report_id": report_id,
            "framework": "soc2",
            "generated_at": audit_services.timestamp(datetime.now(UTC)),
            "generated_by": generated_by,
            "airlock_version": _version(),
            "period": {
                "from": period_from.isoformat(),
                "to": period_to.isoformat(),
                "since": audit_services.timestamp(since),
                "until": audit_services.timestamp(until),
            },
            "filters": {
                "audit_events": f"every event with {seq_from} <= seq <= {seq_to}: the smallest "
                f"and largest seq of events with {_ts(since)} <= at < {_ts(until)}",
                "approval_requests": "one row per action.created event in the audit range",
                "review_actions": "one row per action.reviewed and action.review_refused event",
                "policy_changes": "one row per policy.* event",
                "access_changes": "one row per user.*, agent.*, token.* and auth.* event",
                "reveals": "one row per action.revealed and action.reveal_refused event",
                "approver_roster": "every person and their groups when the package was built",
            },
            "audit": {
                "seq_from": seq_from,
                "seq_to": seq_to,
                "events": seq_to - seq_from + 1,
                "checkpoint": {
                    "file": "audit/checkpoint.note",
                    "tree_size": checkpoint.tree_size,
                    "root_hash": checkpoint.root_hash,
                    "key_name": checkpoint.key_name,
                },
                "verify_at_build": verified.as_dict(),
            },
            "sample": {
                "size": len(positions),
                "requested": sample_size,
                "seed": seed,
                "population": population,
                "method": "sorted(random.Random(seed).sample(range(population), size)) "
                "(Python 3): 0-based row positions in populations/approval_requests.csv",
            },
            "not_available": {
                "populations/approval_requests.csv: grant_issued, grant_redeemed": (
                    f"grants are {NOT_IN_THIS_VERSION}: the columns are empty"
                ),
                "populations/configured_channels.csv": (
                    f"notification channels are {NOT_IN_THIS_VERSION}: header only"
                ),
            },
            "signer": {
                "name": signer.name,
                "key_id": chain.key_id(signer.name, signer.private_key.public_key()).hex(),
            },
            "files": package.files,
        }
        manifest_bytes = canonical.strict_bytes(manifest)
        package.zip.writestr("manifest.json", manifest_bytes)
        package.zip.writestr("manifest.sig", sign_manifest(manifest_bytes, signer))
    finally:
        package.close()
    progress(1.0)
    return manifest


def sign_manifest(manifest_bytes: bytes, signer: keys.Signer) -> bytes:
    """A detached Ed25519 signature over the manifest's exact bytes, named by key."""
    import base64

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


def _write_log(package: Package, seq_from: int, seq_to: int, checkpoint: Any) -> None:
    """The events of the range as their canonical bytes, and what ties them to the
    signed checkpoint: the tree's frontier and chain hash before the range, and the
    leaf hashes after it up to the checkpoint's size."""
    with package.member("audit/events.jsonl") as member:
        member.rows = 0
        rows = audit_selectors.events_in_range(seq_from, seq_to).values_list("canonical", flat=True)
        for text in rows.iterator(chunk_size=5000):
            member.write(text.encode("utf-8") + b"\n")
            member.rows += 1
    with package.member("audit/tail_leaves.txt") as member:
        member.rows = 0
        for leaf in audit_selectors.leaf_hashes(up_to=checkpoint.tree_size, after=seq_to):
            member.write(leaf.hex().encode() + b"\n")
            member.rows += 1
    frontier = audit_selectors.frontier_at(seq_from - 1)
    context = {
        "seq_from": seq_from,
        "seq_to": seq_to,
        "checkpoint_size": checkpoint.tree_size,
        "frontier_before": frontier.to_json(),
        "chain_hash_before": audit_selectors.chain_hash_at(seq_from - 1),
    }
    package.write("audit/range.json", canonical.strict_bytes(context))
    package.write("audit/checkpoint.note", checkpoint.note.encode("utf-8"))


def _chunks(iterator: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in iterator:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_requests(
    package: Package,
    seq_from: int,
    seq_to: int,
    population: int,
    positions: list[int],
    stats: Stats,
    progress: Callable[[float], None],
) -> list[tuple[int, str, int]]:
    wanted = set(positions)
    sampled: list[tuple[int, str, int]] = []
    created = _bodies(
        audit_selectors.events_in_range(seq_from, seq_to, types=[catalogue.ACTION_CREATED])
    )
    position = 0
    with package.csv("populations/approval_requests.csv", REQUEST_COLUMNS) as out:
        for batch in _chunks(created, CHUNK):
            targets = [event[2] for event in batch]
            ids = []
            for target in targets:
                try:
                    ids.append(UUID(_request_id(target)))
                except ValueError:
                    continue
            rows = approval_selectors.requests_for_evidence(ids)
            status: dict[str, str] = {}
            decider: dict[str, str] = {}
            for _seq, _at, target, data, _type, _actor in batch:
                status[target] = data.get("status", "")
                if data.get("status") in FINAL:
                    decider[target] = "policy"
            approvals: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            denials: dict[str, list[str]] = defaultdict(list)
            last_via: dict[str, str] = {}
            later = _bodies(
                audit_selectors.events_for_targets_in_range(
                    targets, seq_from, seq_to, (*STATUS_TYPES, catalogue.ACTION_REVIEWED)
                )
            )
            for _seq, at, target, data, event_type, actor in later:
                if event_type == catalogue.ACTION_REVIEWED:
                    via = str(data.get("via", ""))
                    last_via[target] = via
                    if data.get("verdict") == "approve":
                        approvals[target].append((_email(actor), at, via))
                    else:
                        denials[target].append(_email(actor))
                else:
                    status[target] = str(data.get("to", ""))
                    decider[target] = actor
            for seq, at, target, data, _type, _actor in batch:
                request = rows.get(_request_id(target))
                state = status[target]
                stats.by_status[state] += 1
                channel = ""
                if state in FINAL:
                    who = decider.get(target, "")
                    if who == "policy":
                        channel = "policy"
                    elif state == "expired":
                        channel = "expiry"
                    elif state == "cancelled":
                        channel = "requester"
                    else:
                        channel = last_via.get(target, "") or "api"
                    stats.by_channel[channel] += 1
                requester_side = _requester_side(request, data)
                approvers = sorted({email for email, _, _ in approvals[target]})
                overlap = bool(requester_side & set(approvers))
                stats.requester_side_approvals += overlap
                seconds: int | None = None
                if request is not None and request["decided_at"] and state in FINAL:
                    seconds = int((request["decided_at"] - request["created_at"]).total_seconds())
                    if channel not in ("policy", "requester", "expiry", ""):
                        stats.decision_seconds.append(seconds)
                policy = data.get("policy") or {}
                out.row(
                    (
                        _request_id(target),
                        seq,
                        at,
                        data.get("action", ""),
                        data.get("resource", ""),
                        data.get("environment", ""),
                        _requester_type(request),
                        _requester(request),
                        (request["requester_owner__email"] or "") if request else "",
                        data.get("on_behalf_of") or "",
                        policy.get("version"),
                        ";".join(policy.get("rules") or []),
                        policy.get("effect", ""),
                        state,
                        _ts(request["decided_at"])
                        if request is not None and state in FINAL
                        else "",
                        data.get("expires_at") or "",
                        channel,
                        ";".join(approvers),
                        ";".join(f"{e} {t} {v}" for e, t, v in approvals[target]),
                        ";".join(sorted(set(denials[target]))),
                        overlap,
                        seconds,
                        "",  # grant_issued: grants are not available in this version
                        "",  # grant_redeemed
                        request["outcome"] if request is not None else "",
                        _ts(request["outcome_at"]) if request is not None else "",
                    )
                )
                if position in wanted:
                    sampled.append((position, _request_id(target), seq))
                position += 1
            progress(0.35 + 0.4 * position / max(population, 1))
    return sampled


def _bodies(queryset: Any) -> Iterator[tuple[int, str, str, dict[str, Any], str, str]]:
    """(seq, at, target, data, type, actor) of each event, from its canonical bytes:
    one JSON parse a row, and ``at`` already in the log's own spelling."""
    for seq, text in queryset.values_list("seq", "canonical").iterator(chunk_size=5000):
        body = json.loads(text)
        yield seq, body["at"], body["target"], body["data"], body["type"], body["actor"]


def _requester_type(request: dict[str, Any] | None) -> str:
    if request is None:
        return ""
    return "agent" if request["requester_agent__name"] else "user"


def _requester(request: dict[str, Any] | None) -> str:
    if request is None:
        return ""
    return str(request["requester_agent__name"] or request["requester_user__email"])


def _requester_side(request: dict[str, Any] | None, data: dict[str, Any]) -> set[str]:
    """The people who may never approve this request (``approvals.duties``' table)."""
    side = set()
    if data.get("on_behalf_of"):
        side.add(str(data["on_behalf_of"]))
    if request is not None:
        for key in (
            "requester_owner__email",
            "requester_user__email",
            "requester_agent__owner__email",
        ):
            if request[key]:
                side.add(request[key])
    return side


def _write_reviews(package: Package, seq_from: int, seq_to: int, stats: Stats) -> None:
    header = ("seq", "at", "request_id", "reviewer", "verdict", "accepted", "refusal", "channel")
    with package.csv("populations/review_actions.csv", header) as out:
        events = audit_selectors.events_in_range(seq_from, seq_to, types=REVIEW_TYPES)
        for seq, at, event_type, actor, target, data in events.values_list(
            "seq", "at", "event_type", "actor", "target", "data"
        ).iterator(chunk_size=5000):
            accepted = event_type == catalogue.ACTION_REVIEWED
            if not accepted:
                stats.refused_reviews[str(data.get("code", ""))] += 1
            out.row(
                (
                    seq,
                    _ts(at),
                    _request_id(target),
                    _email(actor),
                    data.get("verdict", ""),
                    accepted,
                    "" if accepted else data.get("code", ""),
                    data.get("via", ""),
                )
            )


def _write_policy_changes(package: Package, seq_from: int, seq_to: int, stats: Stats) -> None:
    header = ("seq", "at", "event", "version", "actor", "sha256", "proposed_by", "decided_by")
    events = list(
        audit_selectors.events_in_range(seq_from, seq_to, prefix="policy.").values_list(
            "seq", "at", "event_type", "actor", "target", "data"
        )
    )  # policy changes are few: a handful a quarter
    numbers = []
    for *_, target, _data in events:
        try:
            numbers.append(int(target.removeprefix("policy:")))
        except ValueError:
            continue
    versions = policy_selectors.versions_numbered(numbers)
    with package.csv("populations/policy_changes.csv", header) as out:
        for seq, at, event_type, actor, target, data in events:
            number = target.removeprefix("policy:")
            stored = versions.get(int(number)) if number.isdigit() else None
            row = {
                "seq": seq,
                "at": _ts(at),
                "event": event_type,
                "version": number,
                "actor": _email(actor),
                "sha256": data.get("sha256", ""),
                "proposed_by": _email(stored.author_name) if stored else "",
                "decided_by": stored.decided_by.email if stored and stored.decided_by else "",
            }
            stats.policy_changes.append(row)
            out.row(tuple(row.values()))


def _write_access_changes(package: Package, seq_from: int, seq_to: int, stats: Stats) -> None:
    header = ("seq", "at", "event", "actor", "target", "detail")
    with package.csv("populations/access_changes.csv", header) as out:
        events = audit_selectors.events_in_range(seq_from, seq_to).filter(
            event_type__regex=ACCESS_PATTERN
        )
        for seq, at, event_type, actor, target, data in events.values_list(
            "seq", "at", "event_type", "actor", "target", "data"
        ).iterator(chunk_size=5000):
            stats.access_changes += 1
            out.row(
                (seq, _ts(at), event_type, actor, target, canonical.strict_bytes(data).decode())
            )


def _write_reveals(package: Package, seq_from: int, seq_to: int, stats: Stats) -> None:
    header = ("seq", "at", "request_id", "actor", "allowed", "refusal", "reason")
    with package.csv("populations/reveals.csv", header) as out:
        events = audit_selectors.events_in_range(seq_from, seq_to, types=REVEAL_TYPES)
        for seq, at, event_type, actor, target, data in events.values_list(
            "seq", "at", "event_type", "actor", "target", "data"
        ).iterator(chunk_size=5000):
            allowed = event_type == catalogue.ACTION_REVEALED
            row = (
                seq,
                _ts(at),
                _request_id(target),
                _email(actor),
                allowed,
                "" if allowed else data.get("code", ""),
                data.get("reason", ""),
            )
            stats.reveals.append(dict(zip(header, row, strict=True)))
            out.row(row)


def _write_roster(package: Package) -> None:
    header = ("email", "active", "groups", "admin", "auditor", "joined")
    with package.csv(
        "populations/approver_roster.csv",
        header,
        note="a snapshot when the package was built, not replayed to the period's end",
    ) as out:
        for person in account_selectors.roster().iterator(chunk_size=2000):
            groups = sorted(g.name for g in person.groups.all())
            out.row(
                (
                    person.email,
                    person.is_active,
                    ";".join(groups),
                    ADMINS_GROUP in groups,
                    AUDITORS_GROUP in groups,
                    _ts(person.date_joined),
                )
            )


class _Tree:
    """Every level of the RFC 6962 tree over a checkpoint's leaves, built once so each
    sampled proof is a walk up (an unpaired last node is carried up unchanged, which
    is the RFC's split at the largest power of two)."""

    def __init__(self, leaves: list[bytes]):
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [chain.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            self.levels.append(above)

    def proof(self, index: int) -> list[bytes]:
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


def _write_sample(package: Package, sampled: list[tuple[int, str, int]], checkpoint: Any) -> None:
    header = ("position", "request_id", "created_seq", "proof")
    tree = None
    if sampled:
        tree = _Tree(list(audit_selectors.leaf_hashes(up_to=checkpoint.tree_size)))
    seqs = [seq for _, _, seq in sampled]
    by_seq = {
        seq: (canon, leaf)
        for seq, canon, leaf in audit_selectors.events_in_range(
            min(seqs, default=0), max(seqs, default=0)
        )
        .filter(seq__in=seqs)
        .values_list("seq", "canonical", "leaf_hash")
    }
    with package.csv("sample/requests.csv", header) as out:
        for position, request_id, seq in sampled:
            out.row((position, request_id, seq, f"proofs/{seq}.json"))
    for _position, _request, seq in sampled:
        assert tree is not None
        canon, leaf = by_seq[seq]
        proof = {
            "seq": seq,
            "leaf_index": seq - 1,
            "tree_size": checkpoint.tree_size,
            "leaf_hash": leaf,
            "canonical": canon,
            "proof": [node.hex() for node in tree.proof(seq - 1)],
            "checkpoint": checkpoint.note,
        }
        # The shape of GET /api/v1/audit/events/{seq}/proof: `verify.py proof` reads it too.
        package.write(f"proofs/{seq}.json", json.dumps(proof, indent=1).encode())


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
3. `audit/events.jsonl` holds events `seq_from`..`seq_to` with no gap; with the
   frontier and chain hash before the range (`audit/range.json`) and the leaf hashes
   after it (`audit/tail_leaves.txt`) they rebuild exactly the Merkle root and chain
   hash that `audit/checkpoint.note` signs. So no event was added, dropped or changed.
4. Every inclusion proof in `proofs/` leads to the checkpoint's root, and the sample
   in `sample/requests.csv` is the one the recorded seed draws.
5. Each population CSV has exactly the rows the events imply: one per action.created
   (approval_requests), per review or refused review (review_actions), per policy.*
   event (policy_changes), per user/agent/token/auth event (access_changes), per
   reveal (reveals); status at the period's end and approvers agree with the events.

Cells that began with `= + - @`, a tab or a carriage return are prefixed with `'` so
a spreadsheet does not run them; the verifier strips the quote before comparing.
"""


def _write_verify_folder(package: Package) -> None:
    package.write("verify/README.md", README_VERIFY.encode())
    package.write("verify/verify.py", Path(chain.__file__).read_bytes())
    package.write(
        "verify/keys.json",
        json.dumps({"keys": keys.published_keys()}, indent=2).encode(),
        note="Airlock's own copy of its public keys: fetch them separately to rely on them",
    )


def default_dir() -> Path:
    return Path(str(settings.EVIDENCE["DIR"]))
