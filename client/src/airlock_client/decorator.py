"""``@requires_approval``: a function that runs only once Airlock approves the call.

The call's arguments (bound to the signature, defaults applied, ``grant`` left out)
are the payload. Each call files its own request: a key derived from the arguments
alone would let an approval given once run the same call again next week. The
function gets ``grant=`` (the signed grant, or None while the server issues none)
when it accepts it; afterwards the outcome is reported to Airlock.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airlock_client import errors

if TYPE_CHECKING:
    from airlock_client.client import Airlock, AsyncAirlock

logger = logging.getLogger(__name__)

Resource = str | Callable[..., str]


def _payload(signature: inspect.Signature, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    payload: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        if name == "grant":
            continue
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            payload.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            payload[name] = list(value)
        else:
            payload[name] = value
    return payload


def _resource(resource: Resource, payload: dict[str, Any]) -> str:
    return resource(**payload) if callable(resource) else resource


def _takes_grant(signature: inspect.Signature) -> bool:
    return "grant" in signature.parameters


def requires_approval(
    *,
    client: Airlock | AsyncAirlock,
    action: str,
    resource: Resource,
    environment: str | None = None,
    justification: str | None = None,
    timeout: float = 300.0,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a function (sync with ``Airlock``, async with ``AsyncAirlock``): file the
    call, wait up to ``timeout`` seconds, raise ``Denied`` / ``Expired`` /
    ``Cancelled`` / ``StillPending`` unless approved, else run it with the grant."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn)
        takes_grant = _takes_grant(signature)
        is_async = inspect.iscoroutinefunction(fn)
        from airlock_client.client import AsyncAirlock

        if is_async != isinstance(client, AsyncAirlock):
            raise TypeError(
                "an async function needs an AsyncAirlock client, a sync one an Airlock client"
            )

        def filing(args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
            payload = _payload(signature, args, kwargs)
            return {
                "action": action,
                "resource": _resource(resource, payload),
                "environment": environment,
                "justification": justification,
                "payload": payload,
                "context": {"function": f"{fn.__module__}.{fn.__qualname__}"},
            }

        if is_async:
            aclient: Any = client

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                request = await aclient.submit_and_wait(timeout=timeout, **filing(args, kwargs))
                if request.get("status") != "approved":
                    raise errors.for_decision(request)
                if takes_grant:
                    kwargs["grant"] = request.get("grant")
                try:
                    result = await fn(*args, **kwargs)
                except BaseException:
                    await _report_async(aclient, request["id"], "failed")
                    raise
                await _report_async(aclient, request["id"], "succeeded")
                return result

            return async_wrapper

        sclient: Any = client

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = sclient.submit_and_wait(timeout=timeout, **filing(args, kwargs))
            if request.get("status") != "approved":
                raise errors.for_decision(request)
            if takes_grant:
                kwargs["grant"] = request.get("grant")
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                _report(sclient, request["id"], "failed")
                raise
            _report(sclient, request["id"], "succeeded")
            return result

        return wrapper

    return decorate


# The action has already happened (or failed) when the outcome is reported: a lost
# report must not turn a done action into an exception the caller retries.
def _report(client: Any, action_id: str, result: str) -> None:
    try:
        client.report_outcome(action_id, result)
    except errors.AirlockError as exc:
        logger.warning("could not report the outcome of %s to Airlock: %s", action_id, exc)


async def _report_async(client: Any, action_id: str, result: str) -> None:
    try:
        await client.report_outcome(action_id, result)
    except errors.AirlockError as exc:
        logger.warning("could not report the outcome of %s to Airlock: %s", action_id, exc)
