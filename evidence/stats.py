"""What an evidence summary reports, gathered while the package streams."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """What the summary reports, gathered while the CSVs stream."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    decision_seconds: list[int] = field(default_factory=list)
    requester_side_approvals: int = 0
    refused_reviews: Counter[str] = field(default_factory=Counter)
    policy_changes: list[dict[str, Any]] = field(default_factory=list)
    reveals: list[dict[str, Any]] = field(default_factory=list)
    access_changes: int = 0
    grants_issued: int = 0
    grants_redeemed: int = 0
    grants_revoked: int = 0
    channels: int = 0
    event_types: dict[str, int] = field(default_factory=dict)
    verification_failures: int = 0
