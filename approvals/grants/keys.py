"""The grant signing key and the keys a grant may be verified with.

The private key comes from the environment (``GRANT_SIGNING_KEY``, base64 of 32 raw
bytes or PEM) or a file (``GRANT_SIGNING_KEY_FILE``), never from the database:
whoever can write the database must not be able to mint grants. With DEBUG on and
no key configured a development key is made in ``var/``.

Rotation: put the new key in ``GRANT_SIGNING_KEY`` and the old public key, with the
moment it stopped signing, in ``GRANT_RETIRED_KEYS_FILE``. A grant is signed on read
and lives at most ``MAX_GRANT_TTL_SECONDS`` from its approval, so every grant a
retired key signed has expired that long after its retirement: until then the key
stays in the JWKS and is accepted at redemption, then it is dropped.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from approvals.grants import tokens
from audit import keys as audit_keys
from audit.verify import load_private_key, public_key_from_b64
from policies.document import MAX_GRANT_TTL_SECONDS

# Clock skew allowed between this server and an executor checking offline.
SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    public_key: Ed25519PublicKey
    retired_at: datetime | None = None


@functools.lru_cache(maxsize=4)
def _load(secret: str) -> Ed25519PrivateKey:
    return load_private_key(secret)


def signing_key() -> Ed25519PrivateKey | None:
    secret = settings.GRANTS["SIGNING_KEY"]
    if not secret and settings.DEBUG:
        secret = audit_keys.development_key("grant-signing-key")
    return _load(secret) if secret else None


@functools.lru_cache(maxsize=4)
def _retired(path: str, mtime: float) -> tuple[PublishedKey, ...]:
    out = []
    for entry in json.loads(Path(path).read_text()):
        public = public_key_from_b64(entry["public_key"])
        retired_at = parse_datetime(entry["retired_at"])
        if retired_at is None or retired_at.tzinfo is None:
            raise ValueError(f"{path}: retired_at must be an ISO 8601 time with a zone")
        out.append(PublishedKey(tokens.kid_of(public), public, retired_at))
    return tuple(out)


def published(now: datetime | None = None) -> list[PublishedKey]:
    """The current key and each retired key whose last grant may still be unexpired."""
    now = now or timezone.now()
    out = []
    current = signing_key()
    if current is not None:
        public = current.public_key()
        out.append(PublishedKey(tokens.kid_of(public), public))
    path = settings.GRANTS["RETIRED_KEYS_FILE"]
    if path:
        horizon = timedelta(seconds=MAX_GRANT_TTL_SECONDS) + SKEW
        for key in _retired(path, Path(path).stat().st_mtime):
            assert key.retired_at is not None
            if now < key.retired_at + horizon and all(k.kid != key.kid for k in out):
                out.append(key)
    return out


def verification_keys(now: datetime | None = None) -> dict[str, Ed25519PublicKey]:
    return {key.kid: key.public_key for key in published(now)}


def jwks(now: datetime | None = None) -> dict[str, Any]:
    return {"keys": [tokens.jwk_of(key.public_key) for key in published(now)]}
