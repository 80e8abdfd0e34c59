"""Offline verification of an Airlock grant (API.md, "Grants").

A grant is a compact JWS: header ``{"alg": "EdDSA", "typ": "airlock-grant+jwt",
"kid": …}`` signed with Ed25519; claims ``iss``, ``sub``, ``aud``, ``iat``, ``nbf``,
``exp``, ``jti`` and ``airlock: {request_id, action, resource, environment,
payload_sha256, policy_version, approvers}``. An executor checks it against the
JWKS, then recomputes ``payload_sha256`` over the RFC 8785 bytes of the payload it
is about to run. Verifying is not redeeming: redeem once online
(``POST /api/v1/grants/redeem``) so a grant cannot be replayed.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import jwt

from airlock_client.canonical import payload_sha256
from airlock_client.errors import InvalidGrant, PayloadMismatch

GRANT_TYPE = "airlock-grant+jwt"
ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"]
_MISSING: Any = object()


def _keys(jwks: dict[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(jwks, str):
        jwks = json.loads(jwks)
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise InvalidGrant("the JWKS has no keys")
    return [k for k in keys if isinstance(k, dict)]


def verify_grant(
    token: str,
    jwks: dict[str, Any] | str,
    *,
    payload: Any = _MISSING,
    audience: str = "airlock",
    issuer: str | None = None,
    leeway: float = 30,
) -> dict[str, Any]:
    """The grant's claims, once its type, algorithm, key, signature, audience, times
    and (if ``payload`` is given) payload digest all check out; ``InvalidGrant`` (or
    ``PayloadMismatch``) otherwise.

    The algorithm is pinned to EdDSA and the key is taken from the JWKS by ``kid``
    only if it is an Ed25519 (OKP) key: ``alg: none`` and an HS256 token "signed" with
    the public key are refused before any signature is looked at.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidGrant(f"not a JWS: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidGrant(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
    # PyJWT does not check typ: without this an ID token signed by the same key
    # would pass for a grant.
    if header.get("typ") != GRANT_TYPE:
        raise InvalidGrant(f"type {header.get('typ')!r} is not {GRANT_TYPE}")
    kid = header.get("kid")
    if not kid:
        raise InvalidGrant("the grant names no key (kid)")
    matches = [k for k in _keys(jwks) if k.get("kid") == kid]
    if not matches:
        raise InvalidGrant(f"no key {kid!r} in the JWKS")
    jwk = matches[0]
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidGrant(f"key {kid!r} is not an Ed25519 key")
    try:
        key = jwt.PyJWK({**jwk, "alg": ALGORITHM}).key
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidGrant(f"grant refused: {exc}") from exc
    details = claims.get("airlock")
    if not isinstance(details, dict) or not isinstance(details.get("payload_sha256"), str):
        raise InvalidGrant("the grant carries no airlock.payload_sha256")
    if payload is not _MISSING and not hmac.compare_digest(
        payload_sha256(payload), details["payload_sha256"]
    ):
        raise PayloadMismatch("the payload is not the one approved")
    return claims
