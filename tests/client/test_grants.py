"""verify_grant against tokens signed here with our own Ed25519 key, in the exact
shape of API.md's "Grants"."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock_client import InvalidGrant, PayloadMismatch, payload_sha256, verify_grant
from airlock_client.cli import main

PAYLOAD = {"query": "select 1", "destination": "s3://bucket/x.csv"}
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def jwks(key: Ed25519PrivateKey = KEY, kid: str = "k1") -> dict[str, Any]:
    return {
        "keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": b64(public_raw(key)), "kid": kid, "alg": "EdDSA"}
        ]
    }


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": "https://airlock.example.com",
        "sub": "agent:etl-bot",
        "aud": "airlock",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "airlock": {
            "request_id": str(uuid.uuid4()),
            "action": "data.export",
            "resource": "postgres://warehouse/customers",
            "environment": "production",
            "payload_sha256": payload_sha256(PAYLOAD),
            "policy_version": 3,
            "approvers": ["carol@example.com"],
        },
    }
    base.update(overrides)
    return base


def grant(key: Any = KEY, alg: str = "EdDSA", typ: str = "airlock-grant+jwt", **overrides: Any):
    return jwt.encode(claims(**overrides), key, algorithm=alg, headers={"kid": "k1", "typ": typ})


def test_it_accepts_a_genuine_grant_for_the_approved_payload():
    verified = verify_grant(grant(), jwks(), payload=PAYLOAD)
    assert verified["airlock"]["payload_sha256"] == payload_sha256(PAYLOAD)
    # Key order and whitespace do not matter: the digest is over RFC 8785 bytes.
    assert verify_grant(grant(), jwks(), payload=dict(reversed(PAYLOAD.items())))


def test_it_refuses_a_changed_payload():
    with pytest.raises(PayloadMismatch):
        verify_grant(grant(), jwks(), payload={**PAYLOAD, "destination": "s3://evil/x.csv"})


def test_it_refuses_alg_none():
    token = jwt.encode(
        claims(), None, algorithm="none", headers={"kid": "k1", "typ": "airlock-grant+jwt"}
    )
    with pytest.raises(InvalidGrant, match="algorithm"):
        verify_grant(token, jwks(), payload=PAYLOAD)


def test_it_refuses_hs256_signed_with_the_public_key():
    # Algorithm confusion: the public key used as an HMAC secret.
    header = b64(b'{"alg":"HS256","typ":"airlock-grant+jwt","kid":"k1"}')
    body = b64(jwt.api_jws.json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_raw(KEY), f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidGrant, match="algorithm"):
        verify_grant(f"{header}.{body}.{b64(signature)}", jwks(), payload=PAYLOAD)
    # And an EdDSA header on an HMAC signature fails the signature check itself.
    eddsa_header = b64(b'{"alg":"EdDSA","typ":"airlock-grant+jwt","kid":"k1"}')
    forged = hmac.new(public_raw(KEY), f"{eddsa_header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidGrant, match="refused"):
        verify_grant(f"{eddsa_header}.{body}.{b64(forged)}", jwks(), payload=PAYLOAD)


def test_it_refuses_the_wrong_audience():
    with pytest.raises(InvalidGrant, match="refused"):
        verify_grant(grant(aud="billing-executor"), jwks(), payload=PAYLOAD)
    assert verify_grant(grant(aud="billing-executor"), jwks(), audience="billing-executor")


def test_it_refuses_an_expired_grant_and_one_not_yet_valid():
    now = int(time.time())
    with pytest.raises(InvalidGrant, match="expired"):
        verify_grant(grant(iat=now - 900, nbf=now - 900, exp=now - 60), jwks())
    with pytest.raises(InvalidGrant, match="not yet valid"):
        verify_grant(grant(nbf=now + 600, exp=now + 900), jwks())


def test_it_refuses_another_keys_signature_another_type_and_missing_claims():
    with pytest.raises(InvalidGrant, match="refused"):
        verify_grant(grant(key=OTHER_KEY), jwks(), payload=PAYLOAD)
    with pytest.raises(InvalidGrant, match="type"):
        verify_grant(grant(typ="JWT"), jwks(), payload=PAYLOAD)
    with pytest.raises(InvalidGrant, match="no key"):
        verify_grant(grant(), jwks(kid="k2"), payload=PAYLOAD)
    token = jwt.encode(
        {k: v for k, v in claims().items() if k != "jti"},
        KEY,
        algorithm="EdDSA",
        headers={"kid": "k1", "typ": "airlock-grant+jwt"},
    )
    with pytest.raises(InvalidGrant, match="jti"):
        verify_grant(token, jwks())
    with pytest.raises(InvalidGrant, match="payload_sha256"):
        verify_grant(grant(airlock={"request_id": "x"}), jwks())


def test_the_cli_verifies_a_grant(tmp_path, capsys):
    keys = tmp_path / "jwks.json"
    keys.write_text(jwt.api_jws.json.dumps(jwks()))
    token = grant()
    assert (
        main(
            [
                "verify-grant",
                token,
                "--jwks",
                str(keys),
                "--payload",
                jwt.api_jws.json.dumps(PAYLOAD),
            ]
        )
        == 0
    )
    assert '"payload_sha256"' in capsys.readouterr().out
    assert main(["verify-grant", token, "--jwks", str(keys), "--payload", '{"query": "drop"}']) == 1
    assert "not the one approved" in capsys.readouterr().err
