"""The ``airlock`` command, configured by ``AIRLOCK_URL`` and ``AIRLOCK_TOKEN``.

Exit codes: 0 approved (or a valid grant), 1 denied, expired or cancelled (or an
invalid grant), 3 still pending at the deadline, 2 any error (bad usage, Airlock
unreachable, bad credentials). The token is never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from airlock_client import errors, hooks
from airlock_client.client import OPEN, Airlock, RetryPolicy
from airlock_client.grants import verify_grant

EXIT_APPROVED, EXIT_NOT_APPROVED, EXIT_ERROR, EXIT_PENDING = 0, 1, 2, 3


def _exit_for(request: dict[str, Any]) -> int:
    status = request.get("status")
    if status == "approved":
        return EXIT_APPROVED
    if status in OPEN:
        return EXIT_PENDING
    return EXIT_NOT_APPROVED


def _print(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def _json_arg(raw: str, name: str) -> Any:
    if raw == "-":
        raw = sys.stdin.read()
    elif raw.startswith("@"):
        raw = Path(raw[1:]).read_text()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{name} is not JSON: {exc}") from None


def _client(args: argparse.Namespace) -> Airlock:
    return Airlock(args.url, timeout=args.http_timeout)


def cmd_request(args: argparse.Namespace) -> int:
    kwargs: dict[str, Any] = {
        "environment": args.environment,
        "justification": args.justification,
        "idempotency_key": args.idempotency_key,
    }
    if args.payload is not None:
        kwargs["payload"] = _json_arg(args.payload, "--payload")
    with _client(args) as client:
        if args.wait:
            request = client.submit_and_wait(
                args.action, args.resource, timeout=args.wait, **kwargs
            )
        else:
            request = client.submit(args.action, args.resource, **kwargs)
    _print(request)
    return _exit_for(request)


def cmd_wait(args: argparse.Namespace) -> int:
    with _client(args) as client:
        request = client.wait(args.id, timeout=args.timeout)
    _print(request)
    return _exit_for(request)


def cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        request = client.get(args.id)
    _print(request)
    return _exit_for(request)


def cmd_verify_grant(args: argparse.Namespace) -> int:
    token = (sys.stdin.read() if args.grant == "-" else args.grant).strip()
    if args.jwks.startswith(("http://", "https://")):
        import httpx

        jwks = httpx.get(args.jwks, timeout=args.http_timeout).raise_for_status().json()
    else:
        jwks = json.loads(Path(args.jwks).read_text())
    kwargs: dict[str, Any] = {"audience": args.audience}
    if args.payload is not None:
        kwargs["payload"] = _json_arg(args.payload, "--payload")
    try:
        claims = verify_grant(token, jwks, **kwargs)
    except errors.InvalidGrant as exc:
        sys.stderr.write(f"airlock: invalid grant: {exc.message}\n")
        return EXIT_NOT_APPROVED
    _print(claims)
    return EXIT_APPROVED


def cmd_hook(args: argparse.Namespace) -> int:
    call = hooks.parse(args.agent, sys.stdin.read())
    # The agent is blocked while the hook runs: two quick retries, then fail closed.
    retry = RetryPolicy(max_retries=2)
    with Airlock(args.url, timeout=args.http_timeout, retry=retry) as client:
        request = client.submit(
            wait=min(args.wait, 30), **hooks.filing(call, prefix=args.action_prefix)
        )
        if request.get("status") in OPEN and args.wait > 30:
            request = client.wait(request["id"], timeout=args.wait - 30)
        url = client.console_url(request["id"])
    _print(hooks.answer(args.agent, request, url, defer=args.defer))
    return 0


def cmd_mcp_serve(args: argparse.Namespace) -> int:
    from airlock_client import mcp_server

    mcp_server.serve(args)
    return 0


def cmd_mcp_gateway(args: argparse.Namespace) -> int:
    from airlock_client import mcp_gateway

    mcp_gateway.run(args)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="airlock",
        description="Ask Airlock before acting. Configured by AIRLOCK_URL and AIRLOCK_TOKEN.",
        epilog="exit codes: 0 approved, 1 denied/expired/cancelled, 3 still pending, 2 error",
    )
    top.add_argument("--url", help="Airlock's base URL (default $AIRLOCK_URL)")
    top.add_argument("--http-timeout", type=float, default=10.0, help=argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("request", help="file an action request; print it as JSON")
    p.add_argument("action")
    p.add_argument("resource")
    p.add_argument("--environment")
    p.add_argument("--payload", help="JSON, @FILE, or - for stdin")
    p.add_argument("--justification")
    p.add_argument("--idempotency-key")
    p.add_argument("--wait", type=float, default=0, help="seconds to wait for a decision")
    p.set_defaults(func=cmd_request)

    p = sub.add_parser("wait", help="wait for a request's decision")
    p.add_argument("id")
    p.add_argument("--timeout", type=float, default=300)
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser("status", help="print a request")
    p.add_argument("id")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("verify-grant", help="check a grant offline against a JWKS")
    p.add_argument("grant", help="the grant, or - for stdin")
    p.add_argument("--jwks", required=True, help="a JWKS file or URL")
    p.add_argument("--payload", help="the payload about to run: JSON, @FILE, or -")
    p.add_argument("--audience", default="airlock")
    p.set_defaults(func=cmd_verify_grant)

    p = sub.add_parser("hook", help="a coding agent's pre-tool-use hook (JSON on stdin)")
    p.add_argument("agent", choices=hooks.AGENTS)
    p.add_argument("--wait", type=float, default=25, help="seconds to hold the tool call")
    p.add_argument("--defer", action="store_true", help="headless Claude: defer held calls")
    p.add_argument("--action-prefix", default="tool")
    p.set_defaults(func=cmd_hook)

    mcp = sub.add_parser("mcp", help="MCP: an approval server, or a gateway to another server")
    mcp_sub = mcp.add_subparsers(dest="mcp_command", required=True)
    p = mcp_sub.add_parser("serve", help="stdio MCP server: request_approval, wait_for_decision")
    p.add_argument("--wait", type=int, default=25, help="the bound on each call, in seconds")
    p.set_defaults(func=cmd_mcp_serve)
    p = mcp_sub.add_parser("gateway", help="wrap an upstream MCP server; gate named tools")
    p.add_argument("--config", required=True, help='JSON: {"gated": {tool: {action, resource}}}')
    p.add_argument("--wait", type=int, default=25, help="seconds to hold a gated call")
    p.add_argument("upstream", nargs=argparse.REMAINDER, help="-- the upstream command")
    p.set_defaults(func=cmd_mcp_gateway)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as exc:
        # Fail closed, whatever went wrong: exit 2 blocks a hook's tool call in every
        # agent, and a script must not read an error as "not approved" (1).
        message = getattr(exc, "message", None) or str(exc)
        sys.stderr.write(f"airlock: {type(exc).__name__}: {message}\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
