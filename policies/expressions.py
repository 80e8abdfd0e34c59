"""``when`` expressions: Google's Common Expression Language (CEL).

Evaluated by cel-expr-python, the Python binding of CEL's C++ reference
implementation: side-effect free, not Turing-complete, no ``eval``, and about 8 us
an evaluation (the pure-Python cel-python took 250-460 us; see
docs/performance.md).

Expressions see the request: ``action``, ``resource``, ``environment``, ``agent``
(null for a person), ``payload`` (``{}`` when there is none), ``context`` and
``justification``. An expression that reads a field the request does not have (a
missing key, an index past the end) raises ``ExpressionError`` with ``missing``
set; any other failure (a string compared with a number, a field of a number, a
result that is not true or false) raises it with ``missing`` unset. What each means
for the rule is decided by the evaluator.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from cel_expr_python import cel

_VARIABLES = {
    "action": cel.Type.STRING,
    "resource": cel.Type.STRING,
    "environment": cel.Type.STRING,
    "agent": cel.Type.DYN,
    "payload": cel.Type.DYN,
    "context": cel.Type.DYN,
    "justification": cel.Type.STRING,
}
_ENVIRONMENT = cel.NewEnv(variables=_VARIABLES)
_MISSING = re.compile(r"^(NOT_FOUND: Key not found|.*Index error)")


class ExpressionError(ValueError):
    """An expression that does not compile, or did not give true or false."""

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.missing = missing


def _compile_message(exc: Exception) -> str:
    text = str(exc).replace("INVALID_ARGUMENT: ", "").replace("ERROR: <input>:", "at ")
    first = text.splitlines()[0].strip() if text.strip() else type(exc).__name__
    return first.split(" expecting {")[0]


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    try:
        return _ENVIRONMENT.compile(source)
    except Exception as exc:  # the binding raises RuntimeError for every compile problem
        raise ExpressionError(_compile_message(exc)) from exc


def activation(facts: dict[str, Any]) -> dict[str, Any]:
    """The CEL variables for one request (JSON values only)."""
    variables = dict(facts)
    if variables.get("payload") is None:
        variables["payload"] = {}
    if variables.get("context") is None:
        variables["context"] = {}
    return variables


def evaluate(source: str, variables: dict[str, Any]) -> bool:
    program = compile_expression(source)
    try:
        result = program.eval(data=variables)
    except Exception as exc:
        raise ExpressionError(str(exc) or type(exc).__name__) from exc
    kind = result.type().name().lower()
    if kind == "error":
        message = str(result.value())
        raise ExpressionError(message, missing=bool(_MISSING.match(message)))
    if kind != "bool":
        raise ExpressionError(f"gave {kind.lower()}, not true or false")
    return bool(result.value())
