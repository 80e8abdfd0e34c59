"""Token format: ``alk_<kind>_<43 url-safe characters>``.

The prefix tells a secret scanner (and a person) what leaked; the body carries 256
bits from ``secrets``. Only the SHA-256 of the whole string is stored.
"""

from __future__ import annotations

import hashlib
import secrets

AGENT_PREFIX = "alk_agt_"
PERSONAL_PREFIX = "alk_usr_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """Enough of the token to recognise it in a list, far too little to use it."""
    return token[: len(AGENT_PREFIX) + 4]
