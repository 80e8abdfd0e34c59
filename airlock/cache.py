"""One cache backend per process, shared by every thread; Redis away is a miss.

``django.core.cache.cache`` is per thread, and under ASGI every request has a thread
of its own, so each request built a new Redis client and opened a new connection
(2.5 ms of a 16 ms request, measured in docs/performance.md). One backend shared by
all threads keeps one connection pool; redis-py's pool is thread-safe, and so is
Django's local-memory cache.

Redis is a cache here, never the truth: ``ResilientRedisCache`` answers a miss
(and drops writes) while Redis is away instead of raising, and after a failure
skips Redis for ``RETRY_SECONDS`` so that a hung server costs one timeout per
process per interval rather than one per request.

Keys that nearly every API request reads (the active policy's pointer) can ride
along with the rate limiter's round trip, which every API request makes first
(``read_along``): the limiter's script reads them too, and a ``get`` of one later in
the same request is answered from that read instead of another round trip (on the
allowed fast path, a Redis call of about 130 us of CPU and 190 us of wall time). The
value is the one Redis held a fraction of a millisecond earlier in the same
request; a write or delete of the key through this cache forgets it, and the next
request reads afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from contextvars import ContextVar
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.signals import request_started

logger = logging.getLogger(__name__)

_backend: BaseCache | None = None
_lock = threading.Lock()


def shared_cache() -> BaseCache:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = caches.create_connection("default")
    return _backend


_riders: list[str] = []
# This request's values of the riders, as the rate limiter's script read them (raw
# bytes, None for a missing key). A context of its own per request under ASGI;
# cleared when a request starts, for a WSGI thread that serves one after another.
_read_along: ContextVar[dict[str, bytes | None] | None] = ContextVar(
    "airlock_cache_read_along", default=None
)


def read_along(key: str) -> None:
    """Have each rate-limited request read cache key ``key`` in the limiter's round
    trip, so that a ``get`` of it later in the request costs none (see above)."""
    if key not in _riders:
        _riders.append(key)


def riders() -> list[str]:
    return list(_riders)


def keep_read_along(values: dict[str, bytes | None]) -> None:
    """The riders' raw values, read for this request (by the rate limiter)."""
    _read_along.set(values)


def _forget_read_along(**_: Any) -> None:
    if _read_along.get() is not None:
        _read_along.set(None)


request_started.connect(_forget_read_along, dispatch_uid="airlock.cache.read_along")


def cache_available(cache: BaseCache) -> bool:
    """False while a resilient backend is skipping its server after a failure."""
    available = getattr(cache, "available", None)
    return available() if callable(available) else True


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError, OSError)


def _forget(key: Any) -> None:
    read = _read_along.get()
    if read is not None:
        read.pop(key, None)


class _OneClientPerPool(RedisCacheClient):
    """Django builds a new ``redis.Redis`` for every cache call (its constructor fills
    a table of ~200 response callbacks: three times per API request, a tenth of a
    millisecond each). A client is only a handle on its connection pool and is
    thread-safe, so one per pool does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[bool, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        client = self._clients.get(write)
        if client is None:
            client = self._clients[write] = super().get_client(key, write=write)
        return client


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, where an unreachable server is a miss, not an error."""

    RETRY_SECONDS = 5.0

    def __init__(self, server: str, params: dict[str, Any]):
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._down_until = 0.0
        self._errors = _redis_errors()

    def run(self, command: Any, default: Any) -> Any:
        """``command(redis_client)``, or ``default`` while Redis is away: for what the
        cache API cannot say in one round trip (the rate limiter's script)."""
        return self._guard("_run_raw", default, command)

    def _run_raw(self, command: Any) -> Any:
        return command(self._cache.get_client(write=True))

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _guard(self, name: str, default: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.available():
            return default
        try:
            method = self._run_raw if name == "_run_raw" else getattr(super(), name)
            result = method(*args, **kwargs)
        except self._errors as exc:
            if self.available():  # log once per outage interval, not once per call
                logger.warning(
                    "cache unavailable (%s); treating as a miss for %.0f s",
                    type(exc).__name__,
                    self.RETRY_SECONDS,
                )
            self._down_until = time.monotonic() + self.RETRY_SECONDS
            return default
        return result

    def decode(self, raw: bytes) -> Any:
        """A value as this cache stored it (Django's Redis serializer)."""
        return self._cache._serializer.loads(raw)  # type: ignore[attr-defined]

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        read = _read_along.get()
        if read is not None and version is None and key in read:
            raw = read[key]
            return default if raw is None else self.decode(raw)
        return self._guard("get", default, key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._guard("get_many", {}, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard("has_key", False, key, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        _forget(key)
        self._guard("set", None, key, value, timeout, version)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        for key in data:
            _forget(key)
        return self._guard("set_many", list(data), data, timeout, version)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        _forget(key)
        return self._guard("add", False, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("touch", False, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        _forget(key)
        return self._guard("delete", False, key, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        for key in keys:
            _forget(key)
        self._guard("delete_many", None, keys, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A counter that cannot be read must not pretend to a value.
        if not self.available():
            raise ValueError("cache unavailable")
        _forget(key)
        return super().incr(key, delta, version)

    def clear(self) -> None:
        _forget_read_along()
        self._guard("clear", None)
