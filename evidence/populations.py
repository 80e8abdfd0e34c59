"""The package's CSV populations, filled by one ordered pass over the period's events.

``Collector.see`` is handed every event of the range in ``seq`` order, with its
type, actor and target as columns and its canonical bytes as text; it parses the
JSON only of the events whose data a population needs (reviews, grants, policy,
access and reveal events), writes the one-row-per-event populations to spooled
files as it goes, and keeps per request only what later events change (status,
reviews, grant). ``write_requests`` then reads the period's ``action.created``
events once more, in ``seq`` order, joined 1,000 at a time with the request rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from accounts import selectors as account_selectors
from accounts.models import ADMINS_GROUP, AUDITORS_GROUP
from airlock import canonical
from audit import catalogue
from evidence import events as log_events
from evidence import rows as request_rows
from evidence.package import Package, Spooled
from evidence.stats import Stats
from policies import selectors as policy_selectors

CHUNK = 1000
FINAL = {"approved", "denied", "expired", "cancelled"}
STATUS_OF = {
    catalogue.ACTION_PENDING: "pending",
    catalogue.ACTION_APPROVED: "approved",
    catalogue.ACTION_DENIED: "denied",
    catalogue.ACTION_EXPIRED: "expired",
    catalogue.ACTION_CANCELLED: "cancelled",
}
ACCESS_PREFIXES = {"user", "agent", "token", "auth"}
CHANNEL_TYPES = (catalogue.CHANNEL_CREATED, catalogue.CHANNEL_DELETED)

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
    "grant_redeemed_by",
    "grant_revoked",
    "grant_revoked_by",
    "credential_issued",
    "outcome",
    "outcome_at",
)
REVIEW_COLUMNS = (
    "seq",
    "at",
    "request_id",
    "reviewer",
    "verdict",
    "accepted",
    "refusal",
    "channel",
)
POLICY_COLUMNS = ("seq", "at", "event", "version", "actor", "sha256", "proposed_by", "decided_by")
ACCESS_COLUMNS = ("seq", "at", "event", "actor", "target", "detail")
REVEAL_COLUMNS = ("seq", "at", "request_id", "actor", "allowed", "refusal", "reason")
ROSTER_COLUMNS = ("email", "active", "groups", "admin", "auditor", "joined")
CHANNEL_COLUMNS = (
    "channel",
    "kind",
    "name",
    "groups",
    "mode",
    "target",
    "created_seq",
    "created_at",
    "created_by",
    "changed_in_period",
)


def _email(actor: str) -> str:
    return actor.removeprefix("user:")


def _request_id(target: str) -> str:
    return target.removeprefix("action:")


class Later:
    """What the events after a request's creation say about it, through the period."""

    __slots__ = (
        "approvals",
        "approved_at",
        "credential_at",
        "decided_at",
        "decider",
        "denials",
        "latest",
        "outcome",
        "outcome_at",
        "redeemed_at",
        "redeemed_by",
        "revoked_at",
        "revoked_by",
        "via",
    )

    def __init__(self) -> None:
        self.latest = ""
        self.decider = ""
        self.via = ""
        self.approvals: list[tuple[str, str, str]] = []
        self.denials: list[str] = []
        self.approved_at = ""
        self.redeemed_at = ""
        self.redeemed_by = ""
        self.revoked_at = ""
        self.revoked_by = ""
        self.credential_at = ""
        self.decided_at = ""
        self.outcome = ""
        self.outcome_at = ""


class Collector:
    """Sees each event of the range once, in seq order (see the module's docstring)."""

    def __init__(self, stats: Stats):
        self.stats = stats
        self.later: dict[str, Later] = {}
        self.created = 0
        self.reviews = Spooled(REVIEW_COLUMNS)
        self.access = Spooled(ACCESS_COLUMNS)
        self.policy: list[tuple[int, str, str, str, str, dict[str, Any]]] = []
        self.reveals: list[tuple[Any, ...]] = []
        self.channel_changes: dict[str, list[int]] = {}
        self._handlers: dict[str, Callable[[int, str, str, str, str], None]] = {
            catalogue.ACTION_REVIEWED: self._review,
            catalogue.ACTION_REVIEW_REFUSED: self._review,
            catalogue.ACTION_REVEALED: self._reveal,
            catalogue.ACTION_REVEAL_REFUSED: self._reveal,
            catalogue.GRANT_REDEEMED: self._redeemed,
            catalogue.GRANT_REVOKED: self._revoked,
            catalogue.CREDENTIAL_ISSUED: self._credential,
            catalogue.CREDENTIAL_ISSUE_FAILED: self._credential_failed,
            catalogue.CHANNEL_CREATED: self._channel,
            catalogue.CHANNEL_DELETED: self._channel,
            catalogue.ACTION_OUTCOME_REPORTED: self._outcome,
        }
        for event_type in STATUS_OF:
            self._handlers[event_type] = self._status

    def see(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        if kind == catalogue.ACTION_CREATED:
            self.created += 1
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(seq, kind, actor, target, text)
            return
        family = kind.partition(".")[0]
        if family == "policy":
            body = json.loads(text)
            self.policy.append((seq, body["at"], kind, actor, target, body["data"]))
        elif family in ACCESS_PREFIXES:
            body = json.loads(text)
            self.stats.access_changes += 1
            self.access.row(
                (
                    seq,
                    body["at"],
                    kind,
                    actor,
                    target,
                    canonical.strict_bytes(body["data"]).decode(),
                )
            )

    def _state(self, target: str) -> Later:
        state = self.later.get(target)
        if state is None:
            state = self.later[target] = Later()
        return state

    def _status(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        state = self._state(target)
        state.latest = STATUS_OF[kind]
        state.decider = actor
        if state.latest in FINAL:
            state.decided_at = _at(text)
            if kind == catalogue.ACTION_APPROVED:
                state.approved_at = state.decided_at

    def _outcome(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        body = json.loads(text)
        state = self._state(target)
        state.outcome = str(body["data"].get("result", ""))
        state.outcome_at = body["at"]

    def _review(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        body = json.loads(text)
        data, at = body["data"], body["at"]
        accepted = kind == catalogue.ACTION_REVIEWED
        via = str(data.get("via", ""))
        if accepted:
            state = self._state(target)
            state.via = via
            if data.get("verdict") == "approve":
                state.approvals.append((_email(actor), at, via))
            else:
                state.denials.append(_email(actor))
        else:
            self.stats.refused_reviews[str(data.get("code", ""))] += 1
        self.reviews.row(
            (
                seq,
                at,
                _request_id(target),
                _email(actor),
                data.get("verdict", ""),
                accepted,
                "" if accepted else data.get("code", ""),
                via,
            )
        )

    def _reveal(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        body = json.loads(text)
        allowed = kind == catalogue.ACTION_REVEALED
        row = (
            seq,
            body["at"],
            _request_id(target),
            _email(actor),
            allowed,
            "" if allowed else body["data"].get("code", ""),
            body["data"].get("reason", ""),
        )
        self.reveals.append(row)
        self.stats.reveals.append(dict(zip(REVEAL_COLUMNS, row, strict=True)))

    def _redeemed(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        body = json.loads(text)
        state = self._state(target)
        state.redeemed_at = body["at"]
        state.redeemed_by = str(body["data"].get("executor") or actor.removeprefix("agent:"))
        self.stats.grants_redeemed += 1

    def _credential_failed(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        # The broker could not mint: the redemption was undone, the grant is unused.
        state = self._state(target)
        if state.redeemed_at and not state.credential_at:
            state.redeemed_at = state.redeemed_by = ""
            self.stats.grants_redeemed -= 1

    def _revoked(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        state = self._state(target)
        state.revoked_at = _at(text)
        state.revoked_by = _email(actor)
        self.stats.grants_revoked += 1

    def _credential(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        state = self._state(target)
        if not state.credential_at:
            state.credential_at = _at(text)

    def _channel(self, seq: int, kind: str, actor: str, target: str, text: str) -> None:
        self.channel_changes.setdefault(target, []).append(seq)


def _at(text: str) -> str:
    """An event's time from its canonical bytes without parsing them: RFC 8785 sorts the
    keys, so "at" comes right after "actor", whose string cannot hold a bare quote."""
    i = text.find(',"at":"')
    if i > 0 and len(text) > i + 34 and text[i + 34] == '"':
        return text[i + 7 : i + 34]
    return str(json.loads(text)["at"])


def _chunks(iterator: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in iterator:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _seconds(since: str, until: str) -> int:
    """Whole seconds between two of the log's timestamps."""
    return int((datetime.fromisoformat(until) - datetime.fromisoformat(since)).total_seconds())


def _ts(moment: Any) -> str:
    from audit.services import timestamp

    return timestamp(moment) if moment else ""


def write_requests(
    package: Package,
    collector: Collector,
    seq_from: int,
    seq_to: int,
    positions: list[int],
    progress: Callable[[float], None],
) -> list[tuple[int, str, int]]:
    """One row per ``action.created`` event of the range, in seq order; returns the
    sampled (position, request id, created seq)."""
    stats = collector.stats
    wanted = set(positions)
    sampled: list[tuple[int, str, int]] = []
    people = request_rows.People()
    population = max(collector.created, 1)
    position = 0
    none = Later()
    texts = log_events.canonical_of_type(seq_from, seq_to, [catalogue.ACTION_CREATED])
    with package.csv("populations/approval_requests.csv", REQUEST_COLUMNS) as out:
        for batch in _chunks(texts, CHUNK):
            bodies = [json.loads(text) for text in batch]
            rows = request_rows.requests([_request_id(body["target"]) for body in bodies])
            for body in bodies:
                target, data, seq = body["target"], body["data"], body["seq"]
                request = rows.get(_request_id(target))
                later = collector.later.get(target, none)
                created_status = str(data.get("status", ""))
                state = later.latest or created_status
                stats.by_status[state] += 1
                channel = ""
                if state in FINAL:
                    who = later.decider if later.latest else "policy"
                    if who == "policy":
                        channel = "policy"
                    elif state == "expired":
                        channel = "expiry"
                    elif state == "cancelled":
                        channel = "requester"
                    else:
                        channel = later.via or "api"
                    stats.by_channel[channel] += 1
                requester_side = people.requester_side(request, data)
                approvers = sorted({email for email, _, _ in later.approvals})
                overlap = bool(requester_side & set(approvers))
                stats.requester_side_approvals += overlap
                seconds: int | None = None
                decided_at = ""
                if state in FINAL:
                    decided_at = later.decided_at or body["at"]
                    seconds = _seconds(body["at"], decided_at)
                    if channel not in ("policy", "requester", "expiry", ""):
                        stats.decision_seconds.append(seconds)
                # A grant is a pure function of an approved agent's request and the
                # grant its rules give (approvals.grants.spec_of): issued at approval.
                issued = ""
                if state == "approved" and request is not None and request.has_grant:
                    issued = later.approved_at or body["at"]
                    stats.grants_issued += 1
                policy = data.get("policy") or {}
                requester_type, _, requester = str(body["actor"]).partition(":")
                out.row(
                    (
                        _request_id(target),
                        seq,
                        body["at"],
                        data.get("action", ""),
                        data.get("resource", ""),
                        data.get("environment", ""),
                        requester_type,
                        requester,
                        people.owner(request),
                        data.get("on_behalf_of") or "",
                        policy.get("version"),
                        ";".join(policy.get("rules") or []),
                        policy.get("effect", ""),
                        state,
                        decided_at,
                        data.get("expires_at") or "",
                        channel,
                        ";".join(approvers),
                        ";".join(f"{e} {t} {v}" for e, t, v in later.approvals),
                        ";".join(sorted(set(later.denials))),
                        overlap,
                        seconds,
                        issued,
                        later.redeemed_at if issued else "",
                        later.redeemed_by if issued else "",
                        later.revoked_at if issued else "",
                        later.revoked_by if issued else "",
                        later.credential_at if issued else "",
                        later.outcome,
                        later.outcome_at,
                    )
                )
                if position in wanted:
                    sampled.append((position, _request_id(target), seq))
                position += 1
            progress(position / population)
    return sampled


def write_event_populations(package: Package, collector: Collector) -> None:
    """The populations of one row per event: reviews, policy changes, access changes,
    reveals."""
    package.add("populations/review_actions.csv", collector.reviews)
    numbers = []
    for *_, target, _data in collector.policy:
        try:
            numbers.append(int(target.removeprefix("policy:")))
        except ValueError:
            continue
    versions = policy_selectors.versions_numbered(numbers)
    with package.csv("populations/policy_changes.csv", POLICY_COLUMNS) as out:
        for seq, at, event_type, actor, target, data in collector.policy:
            number = target.removeprefix("policy:")
            stored = versions.get(int(number)) if number.isdigit() else None
            row = {
                "seq": seq,
                "at": at,
                "event": event_type,
                "version": number,
                "actor": _email(actor),
                "sha256": data.get("sha256", ""),
                "proposed_by": _email(stored.author_name) if stored else "",
                "decided_by": stored.decided_by.email if stored and stored.decided_by else "",
            }
            collector.stats.policy_changes.append(row)
            out.row(tuple(row.values()))
    package.add("populations/access_changes.csv", collector.access)
    with package.csv("populations/reveals.csv", REVEAL_COLUMNS) as out:
        for reveal in collector.reveals:
            out.row(reveal)


def write_roster(package: Package) -> None:
    with package.csv(
        "populations/approver_roster.csv",
        ROSTER_COLUMNS,
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


def write_channels(package: Package, collector: Collector, seq_to: int) -> int:
    """The notification channels configured at the period's end: every channel the
    log created up to ``seq_to`` and did not delete by then, with the events of the
    period that changed it. The target is shown redacted (request_rows.redact)."""
    live: dict[str, tuple[int, dict[str, Any]]] = {}
    for seq, text in log_events.canonical_before(seq_to, CHANNEL_TYPES):
        body = json.loads(text)
        if body["type"] == catalogue.CHANNEL_CREATED:
            live[body["target"]] = (seq, body)
        else:
            live.pop(body["target"], None)
    stored = request_rows.channels([target.removeprefix("channel:") for target in live])
    with package.csv(
        "populations/configured_channels.csv",
        CHANNEL_COLUMNS,
        note="targets are redacted: a URL shows only its scheme and host",
    ) as out:
        for target, (seq, body) in sorted(live.items(), key=lambda item: item[1][0]):
            data = body["data"]
            row = stored.get(target.removeprefix("channel:"))
            out.row(
                (
                    target.removeprefix("channel:"),
                    data.get("kind", ""),
                    data.get("name", ""),
                    ";".join(data.get("groups") or []),
                    data.get("mode", ""),
                    request_rows.redact(str(data.get("kind", "")), row["target"])
                    if row
                    else "(not stored any more)",
                    seq,
                    body["at"],
                    _email(body["actor"]),
                    ";".join(str(s) for s in collector.channel_changes.get(target, [])),
                )
            )
    return len(live)
