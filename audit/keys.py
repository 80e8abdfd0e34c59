"""The checkpoint signing key and the published public keys.

The private key comes from the environment (``AUDIT_SIGNING_KEY``, base64 of the 32
raw bytes, or PEM) or a file (``AUDIT_SIGNING_KEY_FILE``), never from the database:
someone who can write the database must not also be able to re-sign it. With DEBUG
on and no key configured, a development key is created in ``var/`` so that the
embedded default has checkpoints too.

Public keys are published at ``/.well-known/airlock-audit-keys`` with their validity
periods: the current key (valid from ``AUDIT_SIGNING_KEY_SINCE``) and retired keys
from ``AUDIT_RETIRED_KEYS_FILE`` (a JSON list of {name, public_key, not_before,
not_after}), so checkpoints signed before a rotation still verify.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from audit import verify as chain


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey


def origin() -> str:
    return str(settings.AUDIT["ORIGIN"])


def development_key(name: str) -> str:
    """A key of this machine's own for DEBUG only: made once in var/``name`` (mode
    0600, never overwritten), base64 of 32 raw Ed25519 bytes."""
    path = Path(settings.BASE_DIR) / "var" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = Ed25519PrivateKey.generate().private_bytes_raw()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(raw).decode())
    return path.read_text()


@functools.lru_cache(maxsize=1)
def _load(secret: str) -> Ed25519PrivateKey:
    return chain.load_private_key(secret)


def signing_key() -> Signer | None:
    secret = settings.AUDIT["SIGNING_KEY"]
    if not secret and settings.DEBUG:
        secret = development_key("audit-signing-key")
    if not secret:
        return None
    return Signer(str(settings.AUDIT["KEY_NAME"]), _load(secret))


def published_keys() -> list[dict[str, Any]]:
    out = []
    signer = signing_key()
    if signer is not None:
        public = signer.private_key.public_key()
        out.append(
            {
                "name": signer.name,
                "algorithm": "ed25519",
                "public_key": base64.b64encode(public.public_bytes_raw()).decode(),
                "key_id": chain.key_id(signer.name, public).hex(),
                "not_before": settings.AUDIT["SIGNING_KEY_SINCE"] or None,
                "not_after": None,
            }
        )
    retired_file = settings.AUDIT["RETIRED_KEYS_FILE"]
    if retired_file:
        for entry in json.loads(Path(str(retired_file)).read_text()):
            public = chain.public_key_from_b64(entry["public_key"])
            out.append(
                {
                    "name": entry["name"],
                    "algorithm": "ed25519",
                    "public_key": entry["public_key"],
                    "key_id": chain.key_id(entry["name"], public).hex(),
                    "not_before": entry.get("not_before"),
                    "not_after": entry.get("not_after"),
                }
            )
    return out
