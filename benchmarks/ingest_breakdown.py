r"""Where the time of one POST /api/v1/actions goes, inside the server.

Serves Airlock with uvicorn (one process) with timers around the stages of the
request, for use with benchmarks/ingest.py at -c 1; prints the median of each stage
when stopped with Ctrl-C. Uses the environment's DATABASE_URL / REDIS_URL.

    DEBUG=0 SECRET_KEY=... DATABASE_URL=... REDIS_URL=... \
        python benchmarks/ingest_breakdown.py --port 18802
"""

from __future__ import annotations

import argparse
import atexit
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django

django.setup()

from rest_framework.views import APIView  # noqa: E402

from accounts.authentication import BearerTokenAuthentication  # noqa: E402
from approvals import views  # noqa: E402

TIMES: dict[str, list[float]] = {}


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    return wrapper


def report() -> None:
    for name, values in TIMES.items():
        print(f"{name:28s} n={len(values):6d} median {statistics.median(values):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18802)
    args = parser.parse_args()

    APIView.dispatch = timed("DRF dispatch (all below)", APIView.dispatch)  # type: ignore[method-assign]
    BearerTokenAuthentication.authenticate = timed(  # type: ignore[method-assign]
        "token authentication", BearerTokenAuthentication.authenticate
    )
    APIView.check_throttles = timed("rate limit", APIView.check_throttles)  # type: ignore[method-assign]
    views.ActionCreateSerializer.is_valid = timed(  # type: ignore[method-assign]
        "input validation", views.ActionCreateSerializer.is_valid
    )
    views.services.submit = timed("submit (service)", views.services.submit)  # type: ignore[attr-defined]
    views._represent = timed("representation", views._represent)
    atexit.register(report)

    import uvicorn

    from airlock.asgi import application

    uvicorn.run(
        application, host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
