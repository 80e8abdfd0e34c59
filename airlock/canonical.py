"""Canonical JSON (RFC 8785, JCS) and the digests built on it.

The implementation lives in the agent-side package, ``airlock_client.canonical``
(client/): an executor recomputing a grant's ``payload_sha256`` and the server that
signed it run the same code. This module re-exports it for the server's apps, so
none of them imports the client package directly, and the import-linter contract
on this module keeps Django, Presidio and spaCy out of it.
"""

from __future__ import annotations

from airlock_client.canonical import (
    MAX_SAFE_INTEGER,
    NotCanonical,
    canonical_bytes,
    fingerprint,
    payload_sha256,
    sha256_hex,
    strict_bytes,
)

__all__ = [
    "MAX_SAFE_INTEGER",
    "NotCanonical",
    "canonical_bytes",
    "fingerprint",
    "payload_sha256",
    "sha256_hex",
    "strict_bytes",
]
