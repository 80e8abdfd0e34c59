"""The one function the rest of Airlock asks for a decision.

Until policy documents are stored, every request gets API.md's built-in default:
one approval from ``reviewers``, expiring after one hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies.decisions import BUILTIN_DEFAULT, Decision, RequestFacts


def decide(facts: RequestFacts, findings: Sequence[dict[str, Any]] = ()) -> Decision:
    return BUILTIN_DEFAULT
