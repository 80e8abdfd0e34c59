"""The original payload at rest: AES-256-GCM, bound to its request.

Two keys can seal an original:

- ``PAYLOAD_ENCRYPTION_KEY`` (from the environment, never the database): the original
  is kept for an audited reveal.
- without it, a transit key derived from ``SECRET_KEY``: the original waits, sealed,
  for its screening worker, and is erased when screening ends.

Either way the database never holds a payload in the clear. The request id is the
associated data, so a sealed blob copied onto another request does not open.
Layout: ``b"A1"`` + 8-byte key id + 12-byte nonce + ciphertext with tag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"A1"


class SealError(Exception):
    """A sealed payload that cannot be opened (unknown key, or tampered)."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"airlock payload key id" + key).digest()[:8]


def reveal_key() -> bytes | None:
    raw = settings.PAYLOAD_ENCRYPTION_KEY
    if not raw:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("PAYLOAD_ENCRYPTION_KEY is not base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("PAYLOAD_ENCRYPTION_KEY must be 32 bytes (base64)")
    return key


def transit_key() -> bytes:
    return HKDF(
        algorithm=SHA256(), length=32, salt=None, info=b"airlock payload in transit"
    ).derive(settings.SECRET_KEY.encode("utf-8"))


def keeps_originals() -> bool:
    return reveal_key() is not None


def seal(payload: Any, action_id: UUID) -> bytes:
    """The payload sealed with the reveal key if there is one, else the transit key."""
    key = reveal_key() or transit_key()
    plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, str(action_id).encode("ascii"))
    return MAGIC + _key_id(key) + nonce + sealed


def sealed_for_reveal(blob: bytes | memoryview | None) -> bool:
    """Whether ``blob`` is sealed with the configured reveal key (so it is kept)."""
    key = reveal_key()
    return blob is not None and key is not None and bytes(blob)[2:10] == _key_id(key)


def unseal(blob: bytes | memoryview, action_id: UUID) -> Any:
    blob = bytes(blob)
    if not blob.startswith(MAGIC) or len(blob) < 2 + 8 + 12 + 16:
        raise SealError("not a sealed payload")
    key_id, nonce, sealed = blob[2:10], blob[10:22], blob[22:]
    for key in (reveal_key(), transit_key()):
        if key is not None and _key_id(key) == key_id:
            try:
                plaintext = AESGCM(key).decrypt(nonce, sealed, str(action_id).encode("ascii"))
            except InvalidTag as exc:
                raise SealError("the sealed payload does not open (tampered or moved)") from exc
            return json.loads(plaintext)
    raise SealError("the key that sealed this payload is not configured")
