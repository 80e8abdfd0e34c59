"""Grants as API.md describes them, tried the way an attacker would: signed with
EdDSA, verifiable offline with PyJWT and the JWKS, redeemable once, only by the
executor named, only for the payload approved, and never shown to anyone but the
requesting agent."""

from __future__ import annotations

import base64
import json
import logging
import os
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from airlock import canonical
from approvals import grants
from approvals.grants import keys, tokens
from approvals.models import ActionRequest, GrantRecord
from audit.models import AuditEvent
from tests.conftest import Api
from tests.factories import apply_policy, make_agent
from tests.grants.conftest import PAYLOAD, approved_grant, redeem

pytestmark = pytest.mark.usefixtures("grant_policy")


def _jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    return response.json()


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_grant_verifies_offline_with_pyjwt_and_the_jwks(
    client, agent_api, reviewer, executor_api
):
    action_id, token = approved_grant(agent_api, Api(reviewer.token), payload=PAYLOAD)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "airlock-grant+jwt"
    jwk_set = jwt.PyJWKSet.from_dict(_jwks(client))
    key = next(k for k in jwk_set.keys if k.key_id == header["kid"])
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        audience="warehouse-executor",
        issuer="airlock",
        options={"require": ["exp", "iat", "nbf", "jti", "sub", "aud", "iss"]},
    )
    assert claims["sub"] == "agent:etl-bot"
    assert claims["exp"] - claims["iat"] == 600  # the rule's grant_ttl
    assert claims["nbf"] == claims["iat"]
    assert claims["airlock"] == {
        "request_id": action_id,
        "action": "data.export",
        "resource": "postgres://warehouse/customers",
        "environment": "",
        "payload_sha256": canonical.payload_sha256(PAYLOAD),
        "policy_version": ActionRequest.objects.get(pk=action_id).policy_version,
        "approvers": [reviewer.user.email],
    }
    assert "act" not in claims
    # Another executor's name as the audience: refused offline too.
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["EdDSA"], audience="someone-else")
    assert redeem(executor_api, token, payload=PAYLOAD).status_code == 200


def test_on_behalf_of_becomes_the_act_claim(agent_api, reviewer):
    _, token = approved_grant(agent_api, Api(reviewer.token), on_behalf_of="alice@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["act"] == {"sub": "user:alice@example.com"}


def test_an_allow_rule_hands_the_grant_over_in_the_filing_response(agent_api, executor):
    filed = agent_api.file({"action": "metrics.read", "resource": "prom://prod"})
    assert filed.json()["status"] == "approved"
    token = filed.json()["grant"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "airlock"  # the default audience: any executor at Airlock
    assert claims["exp"] - claims["iat"] == 300  # the default grant_ttl
    assert claims["airlock"]["approvers"] == []
    assert redeem(Api(executor.token), token).status_code == 200


def test_forged_and_stale_grants_are_refused(agent_api, reviewer, executor_api, requester_agent):
    action_id, token = approved_grant(agent_api, Api(reviewer.token))
    header_b64, claims_b64, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    public = keys.signing_key().public_key()

    # alg: none, with and without a signature.
    none_header = _b64({"alg": "none", "typ": "airlock-grant+jwt", "kid": header_b64})
    unsigned = f"{none_header}.{claims_b64}."
    # HS256 keyed with the public key (algorithm confusion).
    hs256 = jwt.encode(
        claims,
        public.public_bytes_raw(),
        algorithm="HS256",
        headers={"typ": "airlock-grant+jwt", "kid": tokens.kid_of(public)},
    )
    # A changed payload: the claims edited, the signature kept.
    edited = dict(claims, airlock={**claims["airlock"], "resource": "postgres://warehouse/*"})
    tampered = f"{header_b64}.{_b64(edited)}.{signature}"
    # A wrong typ (an ordinary JWT, signed by the right key).
    plain_jwt = jwt.encode(claims, keys.signing_key(), algorithm="EdDSA")
    # A signature by a key that is not ours.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = tokens.sign(claims, Ed25519PrivateKey.generate())

    for forged in (unsigned, hs256, tampered, plain_jwt, stranger, "not-a-token"):
        response = redeem(executor_api, forged)
        assert response.status_code == 401, response.json()
        assert response.json()["error"]["code"] == "invalid_grant"

    # The right key, but claims the approved request would not give (a longer life).
    longer = tokens.sign(dict(claims, exp=claims["exp"] + 3600), keys.signing_key())
    assert redeem(executor_api, longer).json()["error"]["code"] == "invalid_grant"

    # The requesting agent is not the audience the rule names.
    wrong_aud = redeem(Api(requester_agent.token), token)
    assert wrong_aud.status_code == 401
    assert "audience" in wrong_aud.json()["error"]["message"]

    # Nothing above used it up: the real grant still redeems, once.
    assert redeem(executor_api, token).status_code == 200
    refusals = AuditEvent.objects.filter(event_type="grant.redeem_refused")
    assert refusals.count() == 8
    assert all(token not in e.canonical and signature not in e.canonical for e in refusals)
    assert GrantRecord.objects.get(action_id=action_id).redeemed_by.name == "warehouse-executor"


def test_an_expired_grant_is_refused(agent_api, reviewer, executor_api):
    action_id, _ = approved_grant(agent_api, Api(reviewer.token))
    # The grant the agent was handed eleven minutes ago, when the request was approved.
    ActionRequest.objects.filter(pk=action_id).update(
        decided_at=timezone.now() - timedelta(minutes=11)
    )
    action = ActionRequest.objects.get(pk=action_id)
    old = tokens.sign(grants.claims_for(action), keys.signing_key())
    response = redeem(executor_api, old)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    # And the agent is no longer handed one.
    assert agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"] is None
    state = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant_state"]
    assert state["status"] == "expired"


def test_the_payload_the_executor_runs_must_be_the_one_approved(agent_api, reviewer, executor_api):
    _, token = approved_grant(agent_api, Api(reviewer.token), payload=PAYLOAD)
    other = redeem(executor_api, token, payload={**PAYLOAD, "limit": 1_000_000})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "payload_mismatch"
    # Key order is not a difference: RFC 8785 canonical form.
    same = redeem(executor_api, token, payload={"ids": [1, 2, 3], "limit": 100})
    assert same.status_code == 200
    assert same["Cache-Control"] == "no-store"


def test_a_grant_is_redeemed_once(agent_api, reviewer, executor_api, executor):
    action_id, token = approved_grant(agent_api, Api(reviewer.token))
    first = redeem(executor_api, token)
    assert first.status_code == 200
    assert first.json()["claims"]["jti"] == tokens.jti_for(action_id)
    again = redeem(executor_api, token)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_redeemed"
    state = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant_state"]
    assert state["status"] == "redeemed"
    assert state["redeemed_by"] == "warehouse-executor"
    # Once used, it is not handed out again.
    assert agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"] is None
    events = AuditEvent.objects.filter(target=f"action:{action_id}")
    redeemed = events.get(event_type="grant.redeemed")
    assert redeemed.actor == "agent:warehouse-executor"
    assert redeemed.data["jti"] == tokens.jti_for(action_id)
    assert events.get(event_type="grant.redeem_refused").data["code"] == "already_redeemed"


def test_people_cannot_redeem(agent_api, reviewer):
    _, token = approved_grant(agent_api, Api(reviewer.token))
    response = redeem(Api(reviewer.token), token)
    assert response.status_code == 403


def test_only_the_requesting_agent_ever_sees_the_token(
    client, agent_api, reviewer, agent_owner, executor, caplog
):
    caplog.set_level(logging.DEBUG)
    action_id, token = approved_grant(agent_api, Api(reviewer.token), payload=PAYLOAD)
    signature = token.rsplit(".", 1)[1]
    seen: list[str] = []
    for person in (reviewer, agent_owner):
        api = Api(person.token)
        seen.append(api.get(f"/api/v1/actions/{action_id}").content.decode())
        seen.append(api.get("/api/v1/actions").content.decode())
        client.force_login(person.user)
        page = client.get(f"/actions/{action_id}/")
        assert page.status_code == 200
        seen.append(page.content.decode())
        client.logout()
    other_agent = Api(make_agent(agent_owner.user, name="other-bot").token)
    assert other_agent.get(f"/api/v1/actions/{action_id}").status_code == 404
    seen.append(other_agent.get("/api/v1/actions").content.decode())
    # The executor redeems it: the claims come back, the token does not.
    redeemed = redeem(Api(executor.token), token)
    seen.append(redeemed.content.decode())
    seen.extend(e.canonical for e in AuditEvent.objects.all())
    seen.append(caplog.text)
    assert not any(token in text or signature in text for text in seen)
    # What they do see is its state.
    client.force_login(agent_owner.user)
    page = client.get(f"/actions/{action_id}/").content.decode()
    assert 'id="grant"' in page
    assert "redeemed" in page
    assert "warehouse-executor" in page


def test_the_owner_revokes_an_unredeemed_grant(agent_api, reviewer, agent_owner, executor_api):
    action_id, token = approved_grant(agent_api, Api(reviewer.token))
    refused = Api(reviewer.token).post(
        f"/api/v1/actions/{action_id}/grant/revoke", {"reason": "not yours"}
    )
    assert refused.status_code == 403
    revoked = Api(agent_owner.token).post(
        f"/api/v1/actions/{action_id}/grant/revoke", {"reason": "the job was cancelled"}
    )
    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["grant_state"]["status"] == "revoked"
    assert revoked.json()["grant_state"]["revoked_by"] == "user:owner@example.com"
    response = redeem(executor_api, token)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "grant_revoked"
    assert agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"] is None
    twice = Api(agent_owner.token).post(
        f"/api/v1/actions/{action_id}/grant/revoke", {"reason": "again"}
    )
    assert twice.status_code == 409
    types = list(
        AuditEvent.objects.filter(target=f"action:{action_id}")
        .filter(event_type__startswith="grant.")
        .values_list("event_type", flat=True)
    )
    assert types == [
        "grant.revoke_refused",
        "grant.revoked",
        "grant.redeem_refused",
        "grant.revoke_refused",
    ]


def test_rules_that_disagree_on_the_executor_give_no_grant(agent_api, reviewer):
    apply_policy(
        """
rules:
  - name: a
    match: {action: data.export}
    effect: require_approval
    grant: {audience: executor-a}
  - name: b
    match: {resource: "postgres://*"}
    effect: require_approval
    grant: {audience: executor-b}
"""
    )
    filed = agent_api.file({"action": "data.export", "resource": "postgres://warehouse/x"})
    Api(reviewer.token).approve(filed.json()["id"])
    body = agent_api.get(f"/api/v1/actions/{filed.json()['id']}").json()
    assert body["status"] == "approved"
    assert body["grant"] is None
    assert body["grant_state"]["status"] == "none"


def test_key_rotation_keeps_old_grants_verifiable_until_they_expire(
    client, agent_api, reviewer, executor_api, settings, tmp_path
):
    _, old_token = approved_grant(agent_api, Api(reviewer.token))
    _, older_token = approved_grant(agent_api, Api(reviewer.token))
    old_key = keys.signing_key()
    old_kid = tokens.kid_of(old_key.public_key())
    old_public_b64 = base64.b64encode(old_key.public_key().public_bytes_raw()).decode()
    new_raw = bytes(range(32))
    retired = tmp_path / "retired.json"
    retired.write_text(
        json.dumps(
            [
                {
                    "public_key": old_public_b64,
                    "retired_at": timezone.now().isoformat(),
                }
            ]
        )
    )
    settings.GRANTS = {
        **settings.GRANTS,
        "SIGNING_KEY": base64.b64encode(new_raw).decode(),
        "RETIRED_KEYS_FILE": str(retired),
    }
    jwks = _jwks(client)
    assert len(jwks["keys"]) == 2
    assert old_kid in {k["kid"] for k in jwks["keys"]}
    # Verifies offline against the published set, and redeems.
    old_public = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == old_kid)
    jwt.decode(old_token, old_public.key, algorithms=["EdDSA"], audience="warehouse-executor")
    assert redeem(executor_api, old_token).status_code == 200
    # New grants are signed by the new key.
    _, new_token = approved_grant(agent_api, Api(reviewer.token))
    assert jwt.get_unverified_header(new_token)["kid"] != old_kid
    assert redeem(executor_api, new_token).status_code == 200
    # Once every grant the old key signed has expired, it is gone from the JWKS and
    # refused at redemption.
    retired.write_text(
        json.dumps(
            [
                {
                    "public_key": old_public_b64,
                    "retired_at": (timezone.now() - timedelta(minutes=17)).isoformat(),
                }
            ]
        )
    )
    os.utime(retired, (0, timezone.now().timestamp() + 1))  # a new mtime: re-read
    assert old_kid not in {k["kid"] for k in _jwks(client)["keys"]}
    response = redeem(executor_api, older_token)
    assert response.status_code == 401
    assert "retired" in response.json()["error"]["message"]
