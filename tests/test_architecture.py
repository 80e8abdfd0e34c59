"""Structure the code must keep: one writer of a request's status."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Every app that could touch an action request (policies has a status of its own, for
# policy versions, and never sees requests).
APPS = ("accounts", "airlock", "approvals", "audit", "frontend", "sanitization")
WRITER = ROOT / "approvals" / "services" / "transitions.py"


def _receiver(call: ast.Call) -> str:
    """The name a call chain starts from: ``ActionRequest`` in
    ``ActionRequest.objects.filter(...).update(...)``."""
    node: ast.AST = call.func
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def _status_writes(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            writes = name in {"update", "create", "ActionRequest", "update_or_create"}
            # The outbox keeps a copy of the status an event moved to; it writes no request.
            writes = writes and _receiver(node) != "OutboxEvent"
            if writes and any(k.arg == "status" for k in node.keywords):
                lines.append(node.lineno)
    return lines


def test_only_the_transitions_module_writes_a_request_status():
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path != WRITER
        for line in _status_writes(path)
    }
    assert found == set()
    assert _status_writes(WRITER)  # and the check does see writes where they are
