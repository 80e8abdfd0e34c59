"""Is this inbound activity from the Bot Connector, for our bot? (Bot Framework
"Connector to bot" authentication, written out rather than taken from an SDK so the
keys come through Airlock's SSRF guard.)

An activity carries ``Authorization: Bearer <JWT>``. It is accepted only when the
token is RS256, signed by a key that the OpenID metadata document's ``jwks_uri``
publishes (both fetched through ``outbound``, cached), issued by
``TEAMS_TOKEN_ISSUER``, for our app id, within its validity (five minutes of clock
skew, as the Bot Framework allows), for the ``serviceUrl`` the activity names, and,
where the key carries endorsements, endorsed for the activity's channel. Anything
else raises ``Refused`` with a reason the caller audits.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.conf import settings

from notifications import outbound
from notifications.outbound import PermanentFailure, TransientFailure

LEEWAY_SECONDS = 300
# An unknown key id sends us to fetch the keys again, but not more often than this:
# forged tokens naming made-up key ids cannot make us hammer the key endpoint.
REFETCH_MIN_SECONDS = 60
ALGORITHM = "RS256"


class Refused(Exception):
    """The activity is not authentic; ``reason`` says why, for the audit log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class _Keys:
    metadata_url: str
    fetched_at: float = 0.0
    tried_at: float = 0.0
    keys: dict[str, tuple[Any, list[str]]] = field(default_factory=dict)


_lock = threading.Lock()
_cache: dict[str, _Keys] = {}


def forget_keys() -> None:
    """Drop the cached keys (tests publish new ones)."""
    with _lock:
        _cache.clear()


def _get_json(url: str) -> dict[str, Any]:
    airlock = settings.AIRLOCK
    answer = outbound.request(
        "GET",
        url,
        None,
        {"Accept": "application/json", "User-Agent": "Airlock-Teams/1"},
        allow_http=airlock["ALLOW_HTTP_CALLBACKS"],
        allow_private=airlock["ALLOW_PRIVATE_CALLBACKS"],
        timeout=settings.NOTIFY["HTTP_TIMEOUT_SECONDS"],
        max_response_bytes=256 * 1024,
    )
    data = json.loads(answer.body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _fetch(metadata_url: str) -> dict[str, tuple[Any, list[str]]]:
    metadata = _get_json(metadata_url)
    jwks_uri = metadata.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError("the OpenID metadata names no jwks_uri")
    published = _get_json(jwks_uri).get("keys")
    if not isinstance(published, list):
        raise ValueError("the key set has no keys")
    keys: dict[str, tuple[Any, list[str]]] = {}
    for entry in published:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            key = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        except jwt.PyJWTError:
            continue
        endorsements = [str(e) for e in entry.get("endorsements") or [] if isinstance(e, str)]
        keys[str(entry["kid"])] = (key, endorsements)
    if not keys:
        raise ValueError("the key set has no usable RSA signing key")
    return keys


def signing_key(kid: str) -> tuple[Any, list[str]]:
    """The published key ``kid`` and its endorsements; fetched when the cache is empty,
    old, or does not know the id, at most once a minute after the first try."""
    metadata_url = settings.TEAMS["OPENID_METADATA_URL"]
    max_age = settings.TEAMS["KEYS_CACHE_SECONDS"]
    with _lock:
        cached = _cache.setdefault(metadata_url, _Keys(metadata_url))
        now = time.monotonic()
        wanted = not cached.keys or now - cached.fetched_at > max_age or kid not in cached.keys
        if wanted and (not cached.tried_at or now - cached.tried_at > REFETCH_MIN_SECONDS):
            cached.tried_at = now
            try:
                cached.keys = _fetch(metadata_url)
                cached.fetched_at = now
            except (PermanentFailure, TransientFailure, ValueError) as exc:
                if not cached.keys:
                    raise Refused("keys_unavailable", str(exc)[:200]) from exc
                # Keep serving the keys we had: a passing outage of the key endpoint
                # must not lock every reviewer out.
        found = cached.keys.get(kid)
    if found is None:
        raise Refused("unknown_key")
    return found


def _service_url(value: Any) -> str:
    return str(value or "").strip().rstrip("/").lower()


def validate(authorization: str, activity: dict[str, Any]) -> dict[str, Any]:
    """The token's claims if ``activity`` came from the Bot Connector for our bot;
    otherwise ``Refused``."""
    conf = settings.TEAMS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("unsigned")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Refused("malformed", str(exc)[:200]) from exc
    if header.get("alg") != ALGORITHM:
        raise Refused("algorithm", str(header.get("alg"))[:20])
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Refused("malformed", "no key id")
    key, endorsements = signing_key(kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=conf["APP_ID"],
            issuer=conf["ISSUER"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Refused("expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise Refused("not_yet_valid") from exc
    except jwt.InvalidAudienceError as exc:
        raise Refused("wrong_audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise Refused("wrong_issuer") from exc
    except jwt.InvalidSignatureError as exc:
        raise Refused("forged") from exc
    except jwt.PyJWTError as exc:
        raise Refused("malformed", str(exc)[:200]) from exc
    channel = activity.get("channelId")
    if endorsements and channel not in endorsements:
        raise Refused("endorsement", str(channel)[:40])
    claimed = claims.get("serviceurl", claims.get("serviceUrl"))
    if not claimed or _service_url(claimed) != _service_url(activity.get("serviceUrl")):
        raise Refused("service_url")
    return claims
