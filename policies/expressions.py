"""``when`` expressions: Google's Common Expression Language through cel-python.

CEL is side-effect free and not Turing-complete, and cel-python interprets it
without ``eval``. Expressions see the request: ``action``, ``resource``,
``environment``, ``agent`` (null for a person), ``payload``, ``context`` and
``justification``. An expression that reads a field the request does not have
(a missing key, an index past the end, a field of null) raises ``ExpressionError``
with ``missing`` set; any other failure (a comparison of a string with a number, a
result that is not true or false) raises it with ``missing`` unset. What each means
for the rule is decided by the evaluator.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import celpy
from celpy import celtypes

# cel-python logs every parse and evaluation at DEBUG/INFO; none of it is ours to show.
logging.getLogger("celpy").setLevel(logging.WARNING)
logging.getLogger("Environment").setLevel(logging.WARNING)
logging.getLogger("Evaluator").setLevel(logging.WARNING)
logging.getLogger("NameContainer").setLevel(logging.WARNING)

_ENVIRONMENT = celpy.Environment()


class ExpressionError(ValueError):
    """An expression that does not compile, or did not give true or false."""

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.missing = missing


def _is_missing(error: celpy.CELEvalError) -> bool:
    kind = error.args[1] if len(error.args) > 1 else None
    if kind in (KeyError, IndexError):
        return True
    message = error.args[0] if error.args and isinstance(error.args[0], str) else ""
    return kind is TypeError and message.startswith("None with type")


def _reason(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], str) and exc.args[0]:
        first = exc.args[0]
    else:
        first = str(exc) or type(exc).__name__
    lines = first.splitlines()
    caret = next((line.index("^") for line in lines[1:] if line.strip() == "^"), None)
    if isinstance(exc, celpy.CELParseError) and caret is not None:
        return f"syntax error at column {caret + 1}"
    return lines[0] if lines else type(exc).__name__


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    try:
        return _ENVIRONMENT.program(_ENVIRONMENT.compile(source))
    except Exception as exc:  # celpy raises several unrelated types for bad input
        raise ExpressionError(_reason(exc)) from exc


def activation(facts: dict[str, Any]) -> dict[str, Any]:
    """The CEL variables for one request (JSON values only)."""
    return {name: celpy.json_to_cel(value) for name, value in facts.items()}


def evaluate(source: str, variables: dict[str, Any]) -> bool:
    program = compile_expression(source)
    try:
        result = program.evaluate(variables)
    except celpy.CELEvalError as exc:
        raise ExpressionError(_reason(exc), missing=_is_missing(exc)) from exc
    except Exception as exc:
        raise ExpressionError(_reason(exc)) from exc
    if isinstance(result, celpy.CELEvalError):
        raise ExpressionError(_reason(result), missing=_is_missing(result))
    if not isinstance(result, celtypes.BoolType):
        raise ExpressionError(f"gave {type(result).__name__}, not true or false")
    return bool(result)
