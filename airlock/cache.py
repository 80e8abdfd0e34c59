"""One cache backend per process, shared by every thread.

``django.core.cache.cache`` is per thread, and under ASGI every request has a thread
of its own, so each request built a new Redis client and opened a new connection
(2.5 ms of a 16 ms request, measured in docs/performance.md). One backend shared by
all threads keeps one connection pool; redis-py's pool is thread-safe, and so is
Django's local-memory cache.
"""

from __future__ import annotations

import threading

from django.core.cache import BaseCache, caches

_backend: BaseCache | None = None
_lock = threading.Lock()


def shared_cache() -> BaseCache:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = caches.create_connection("default")
    return _backend
