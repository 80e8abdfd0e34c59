"""Grant tokens: compact JWS (EdDSA over Ed25519, ``typ: airlock-grant+jwt``).

Django-free on purpose: an executor verifies a grant offline with exactly this code
(or any JOSE library) and the keys of ``/.well-known/jwks.json``. The server signs a
grant on read from the approved request alone (``approvals.grants.claims_for``), so
approving writes no extra row, and it checks a redeemed grant with ``verify``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TYP = "airlock-grant+jwt"
ALG = "EdDSA"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "nbf", "exp", "jti", "airlock")
# jti = uuid5(this, request id): one grant per approved request, the same whatever
# key signs it, so single use holds across re-signing and key rotation.
JTI_NAMESPACE = uuid.UUID("6f1c1f0e-5b7a-4c3e-9a57-2b4f3f0d8a11")


class GrantError(ValueError):
    """The token is not a grant this verifier accepts; ``reason`` says why (never
    the token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def jti_for(request_id: uuid.UUID | str) -> str:
    return str(uuid.uuid5(JTI_NAMESPACE, str(request_id)))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def kid_of(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint of the key's JWK: a ``kid`` nobody has to assign."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(public_key.public_bytes_raw())}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def jwk_of(public_key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(public_key.public_bytes_raw()),
        "kid": kid_of(public_key),
        "alg": ALG,
        "use": "sig",
    }


def sign(claims: Mapping[str, Any], private_key: Ed25519PrivateKey) -> str:
    kid = kid_of(private_key.public_key())
    return jwt.encode(dict(claims), private_key, algorithm=ALG, headers={"kid": kid, "typ": TYP})


def unverified_jti(token: str) -> str | None:
    """The ``jti`` a token claims, for the audit record of a refusal (never the
    token). Only a short printable string is kept."""
    try:
        claimed = jwt.decode(token, options={"verify_signature": False}).get("jti")
    except Exception:  # anything unparsable simply has no jti
        return None
    if isinstance(claimed, str) and len(claimed) <= 64 and claimed.isprintable():
        return claimed
    return None


def verify(
    token: str,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    audience: str | Iterable[str],
    issuer: str,
    leeway: int = 0,
) -> dict[str, Any]:
    """The claims of a grant signed by one of ``keys`` (by ``kid``) for ``audience``,
    or ``GrantError``. The algorithm is pinned (no ``none``, no HMAC with a public
    key), ``typ`` is checked (PyJWT does not), and every claim is required."""
    if not isinstance(token, str) or not token or len(token) > 8192:
        raise GrantError("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise GrantError(f"malformed: {exc}") from None
    if header.get("alg") != ALG:
        raise GrantError(f"algorithm {header.get('alg')!r} is not {ALG}")
    if header.get("typ") != TYP:
        raise GrantError(f"typ {header.get('typ')!r} is not {TYP}")
    key = keys.get(header.get("kid") or "")
    if key is None:
        raise GrantError("signed by an unknown or retired key")
    audiences = [audience] if isinstance(audience, str) else list(audience)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALG],
            audience=audiences,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise GrantError("expired") from None
    except jwt.ImmatureSignatureError:
        raise GrantError("not yet valid") from None
    except jwt.InvalidAudienceError:
        raise GrantError("issued for another audience") from None
    except jwt.InvalidSignatureError:
        raise GrantError("bad signature") from None
    except jwt.PyJWTError as exc:
        raise GrantError(str(exc)) from None
    if not isinstance(claims.get("airlock"), dict):
        raise GrantError("no airlock claims")
    return claims


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """``{kid: key}`` from a JWKS document, Ed25519 keys only."""
    out: dict[str, Ed25519PublicKey] = {}
    for entry in jwks.get("keys", []):
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        raw = base64.urlsafe_b64decode(entry["x"] + "=" * (-len(entry["x"]) % 4))
        key = Ed25519PublicKey.from_public_bytes(raw)
        if entry.get("kid") == kid_of(key):  # a kid that is not the thumbprint is refused
            out[entry["kid"]] = key
    return out
