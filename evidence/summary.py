"""``summary.pdf``: what the package evidences, per SOC 2 criterion, for a reader.

reportlab draws it in pure Python (no system libraries). Every figure here is also
in the CSVs and the events; the PDF is for reading, the files are for checking.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from audit import catalogue
from evidence.stats import Stats

CRITERIA = {
    "CC6.1": (
        "Logical access",
        "Every review path (console, API, chat) is authenticated and authorised; reveals of "
        "masked payloads are audited with a reason.",
    ),
    "CC6.2": (
        "Credentials registered and removed",
        "People, agents and tokens are registered, rotated and revoked through audited "
        "services (populations/access_changes.csv).",
    ),
    "CC6.3": (
        "Least privilege, segregation of duties",
        "A reviewer is never the requester, the agent's owner or the on-behalf-of person; "
        "each refused attempt is an event (populations/review_actions.csv).",
    ),
    "CC7.2": (
        "Anomalies detected",
        "Denied and expired requests, refused reviews, reveals and sign-ins, and failed "
        "log verifications are recorded.",
    ),
    "CC8.1": (
        "Changes authorised before they are made",
        "Each privileged action is approved under a named policy version before the agent "
        "acts; policy changes are themselves proposed and approved.",
    ),
    "CC4.1": (
        "Controls monitored",
        "The hash-chained log is verified on a schedule and at build time; checkpoints are "
        "signed with a key kept outside the database.",
    ),
}

BUCKETS = (
    ("<1m", 60),
    ("1-5m", 300),
    ("5-15m", 900),
    ("15-60m", 3600),
    ("1-4h", 14400),
    ("4-24h", 86400),
    (">1d", None),
)


def percentile(sorted_values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(fraction * 1000) * len(sorted_values) // 1000))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def _chart(seconds: list[int]) -> Drawing:
    counts = [0] * len(BUCKETS)
    for value in seconds:
        for index, (_, limit) in enumerate(BUCKETS):
            if limit is None or value < limit:
                counts[index] += 1
                break
    drawing = Drawing(170 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 10 * mm
    chart.width, chart.height = 150 * mm, 44 * mm
    chart.data = [counts]
    chart.categoryAxis.categoryNames = [label for label, _ in BUCKETS]
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#2f6f9f")
    drawing.add(chart)
    drawing.add(String(12 * mm, 57 * mm, "Requests decided by a person, by time to decision"))
    return drawing


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef3")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render(scope: dict[str, Any], stats: Stats, files: list[dict[str, Any]]) -> bytes:
    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = styles["BodyText"].clone("small", fontSize=7, leading=9)
    story: list[Any] = []
    period = scope["period"]
    story.append(Paragraph("Airlock SOC 2 evidence summary", h1))
    story.append(
        Paragraph(
            f"Period <b>{period['from']}</b> to <b>{period['to']}</b> (inclusive, UTC). "
            f"Audit events <b>{scope['seq_from']}</b> to <b>{scope['seq_to']}</b>, anchored to the "
            f"checkpoint of size {scope['checkpoint_size']} signed by <b>{scope['key_name']}</b>. "
            f"Report {scope['report_id']}, requested by {scope['generated_by']}.",
            body,
        )
    )
    verdict = (
        f"verified: {scope['verified_events']} events, chain and checkpoints intact"
        if scope["verified"]
        else "FAILED: see manifest.json audit.verify_at_build"
    )
    story.append(Paragraph(f"Whole-log verification when this package was built: {verdict}.", body))
    story.append(Spacer(1, 4 * mm))

    story.append(Paragraph("Decisions", h2))
    statuses = ["approved", "denied", "expired", "cancelled", "pending", "screening"]
    total = sum(stats.by_status.values())
    story.append(
        _table(
            [
                ["requests", *statuses],
                [total, *[stats.by_status.get(s, 0) for s in statuses]],
            ]
        )
    )
    story.append(Spacer(1, 2 * mm))
    channels = sorted(stats.by_channel)
    if channels:
        story.append(
            _table([["decided via", *channels], ["", *[stats.by_channel[c] for c in channels]]])
        )
    ordered = sorted(stats.decision_seconds)
    story.append(Spacer(1, 2 * mm))
    story.append(
        _table(
            [
                ["time to decision (people)", "n", "p50", "p90", "p99", "max"],
                [
                    "",
                    len(ordered),
                    _duration(percentile(ordered, 0.5)),
                    _duration(percentile(ordered, 0.9)),
                    _duration(percentile(ordered, 0.99)),
                    _duration(ordered[-1] if ordered else None),
                ],
            ]
        )
    )
    story.append(_chart(ordered))

    story.append(Paragraph("Criteria", h2))
    for code, (title, text) in CRITERIA.items():
        types = [t for t in catalogue.CATALOGUE.values() if code in t.criteria]
        count = sum(stats.event_types.get(t.name, 0) for t in types)
        story.append(
            Paragraph(f"<b>{code} {title}</b>: {count} events in the period. {text}", body)
        )
        exceptions = _exceptions(code, stats)
        if exceptions:
            story.append(Paragraph("Exceptions: " + "; ".join(exceptions) + ".", body))
    story.append(Paragraph("Segregation of duties", h2))
    blocked = stats.refused_reviews.get("self_approval", 0)
    story.append(
        Paragraph(
            f"Self-approval attempts blocked: <b>{blocked}</b>. Approvals by someone on the "
            f"requester's side that succeeded: <b>{stats.requester_side_approvals}</b>. "
            "Refused reviews by reason: "
            + (", ".join(f"{k} {v}" for k, v in sorted(stats.refused_reviews.items())) or "none")
            + ".",
            body,
        )
    )
    story.append(Paragraph("Policy changes", h2))
    if stats.policy_changes:
        story.append(
            _table(
                [["seq", "event", "version", "by", "proposed by", "decided by"]]
                + [
                    [
                        c["seq"],
                        c["event"],
                        c["version"],
                        c["actor"],
                        c["proposed_by"],
                        c["decided_by"],
                    ]
                    for c in stats.policy_changes[:40]
                ]
            )
        )
    else:
        story.append(Paragraph("None in the period.", body))
    story.append(Paragraph("Reveals of masked payloads", h2))
    if stats.reveals:
        story.append(
            _table(
                [["seq", "request", "by", "allowed", "reason"]]
                + [
                    [
                        r["seq"],
                        str(r["request_id"])[:8],
                        r["actor"],
                        r["allowed"],
                        Paragraph(str(r["reason"])[:200], small),
                    ]
                    for r in stats.reveals[:40]
                ],
                [14 * mm, 20 * mm, 45 * mm, 14 * mm, 80 * mm],
            )
        )
    else:
        story.append(Paragraph("None in the period.", body))
    story.append(Paragraph("Grants and notification channels", h2))
    story.append(
        Paragraph(
            f"Grants issued to the period's approved agent requests: <b>{stats.grants_issued}</b>; "
            f"redeemed: <b>{stats.grants_redeemed}</b>; revoked: <b>{stats.grants_revoked}</b> "
            "(populations/approval_requests.csv). Notification channels configured at the "
            f"period's end: <b>{stats.channels}</b>, targets redacted "
            "(populations/configured_channels.csv).",
            body,
        )
    )
    story.append(Paragraph("Verification failures", h2))
    story.append(
        Paragraph(
            f"Scheduled verifications that found the log altered in the period: "
            f"<b>{stats.verification_failures}</b>.",
            body,
        )
    )
    story.append(Paragraph("Files (SHA-256)", h2))
    story.append(
        _table(
            [["file", "rows", "bytes", "sha256"]]
            + [
                [f["name"], f.get("rows", ""), f["bytes"], Paragraph(f["sha256"], small)]
                for f in files
                if not f["name"].startswith("proofs/")
            ],
            [58 * mm, 14 * mm, 20 * mm, 80 * mm],
        )
    )
    story.append(
        Paragraph(
            "manifest.json lists every file with its hash and is signed in manifest.sig; "
            "verify/README.md says how to check the package without Airlock.",
            small,
        )
    )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title="Airlock SOC 2 evidence summary",
        author="Airlock",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=1,
    )
    document.build(story)
    return out.getvalue()


def _exceptions(code: str, stats: Stats) -> list[str]:
    found = []
    if code == "CC6.3":
        if stats.refused_reviews:
            found.append(f"{sum(stats.refused_reviews.values())} reviews refused")
        if stats.requester_side_approvals:
            found.append(f"{stats.requester_side_approvals} approvals by the requester's side")
    if code == "CC7.2":
        for state in ("denied", "expired"):
            if stats.by_status.get(state):
                found.append(f"{stats.by_status[state]} {state}")
    if code == "CC6.1":
        refused = stats.event_types.get(catalogue.ACTION_REVEAL_REFUSED, 0)
        if refused:
            found.append(f"{refused} reveals refused")
    if code == "CC4.1" and stats.verification_failures:
        found.append(f"{stats.verification_failures} verification failures")
    return found
