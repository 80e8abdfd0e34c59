"""The bot's outgoing calls: the Bot Connector REST API (send an activity to a
conversation, reply in its thread, rewrite an activity) with a token from the Entra
token endpoint (client credentials). Every call goes through ``outbound``: the SSRF
guard, a pinned address, bounded time and size. Errors are ``PermanentFailure`` or
``TransientFailure``, as for every sender."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings

from notifications import outbound
from notifications.outbound import PermanentFailure, TransientFailure

# Teams conversation ids: channels and group chats "19:…@thread.…", personal chats
# "a:…" (and the older "29:…", "8:…"). Never a URL, never a path.
CONVERSATION_RE = re.compile(r"^(?:19|a|29|8):[^\s/?#\\]{1,380}$")
TOKEN_MARGIN_SECONDS = 300

_lock = threading.Lock()
_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def is_conversation(target: str) -> bool:
    return bool(CONVERSATION_RE.match(target))


def configured() -> bool:
    return bool(settings.TEAMS["APP_ID"])


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> outbound.Answer:
    airlock = settings.AIRLOCK
    return outbound.request(
        method,
        url,
        body,
        {"User-Agent": "Airlock-Teams/1", **headers},
        allow_http=airlock["ALLOW_HTTP_CALLBACKS"],
        allow_private=airlock["ALLOW_PRIVATE_CALLBACKS"],
        timeout=settings.NOTIFY["HTTP_TIMEOUT_SECONDS"],
        max_response_bytes=settings.NOTIFY["HTTP_MAX_RESPONSE_BYTES"],
    )


def _json(answer: outbound.Answer) -> dict[str, Any]:
    try:
        data = json.loads(answer.body or b"{}")
    except ValueError as exc:
        raise TransientFailure("teams: the answer is not JSON") from exc
    return data if isinstance(data, dict) else {}


def token() -> str:
    """The bot's access token for the Bot Connector, cached until shortly before it
    expires."""
    conf = settings.TEAMS
    if not conf["APP_ID"]:
        raise PermanentFailure("the Teams bot is not configured (TEAMS_APP_ID)")
    key = (conf["TOKEN_URL"], conf["APP_ID"])
    with _lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] > time.time():
            return cached[0]
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": conf["APP_ID"],
            "client_secret": conf["APP_PASSWORD"],
            "scope": conf["TOKEN_SCOPE"],
        }
    ).encode()
    try:
        answer = _request(
            "POST",
            conf["TOKEN_URL"],
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
    except PermanentFailure as exc:
        raise PermanentFailure(f"teams token: {exc}") from exc
    except TransientFailure as exc:
        raise TransientFailure(f"teams token: {exc}") from exc
    data = _json(answer)
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise TransientFailure("teams token: the answer has no access_token")
    try:
        lifetime = int(data.get("expires_in") or 0)
    except (TypeError, ValueError):
        lifetime = 0
    with _lock:
        _tokens[key] = (access, time.time() + max(0, lifetime - TOKEN_MARGIN_SECONDS))
    return access


def _call(method: str, path: str, activity: dict[str, Any]) -> dict[str, Any]:
    url = settings.TEAMS["SERVICE_URL"].rstrip("/") + path
    bearer = token()
    try:
        answer = _request(
            method,
            url,
            json.dumps(activity, separators=(",", ":")).encode(),
            {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
        )
    except PermanentFailure as exc:
        if str(exc) in ("HTTP 401", "HTTP 403"):
            # A token revoked or rotated early: fetch a new one next time.
            forget_tokens()
            raise TransientFailure(f"teams: {exc}") from exc
        raise PermanentFailure(f"teams: {exc}") from exc
    except TransientFailure as exc:
        raise TransientFailure(f"teams: {exc}") from exc
    return _json(answer)


def _path(conversation_id: str, activity_id: str = "") -> str:
    if not is_conversation(conversation_id):
        raise PermanentFailure("teams: not a conversation id")
    path = f"/v3/conversations/{quote(conversation_id, safe='')}/activities"
    return f"{path}/{quote(activity_id, safe='')}" if activity_id else path


def send(conversation_id: str, activity: dict[str, Any]) -> str:
    """Post ``activity`` to a conversation (a channel: a new post); its activity id."""
    answer = _call("POST", _path(conversation_id), activity)
    activity_id = answer.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        raise TransientFailure("teams: the Bot Connector returned no activity id")
    return activity_id


def reply(conversation_id: str, activity_id: str, activity: dict[str, Any]) -> None:
    """Post ``activity`` in the thread of ``activity_id``."""
    _call("POST", _path(conversation_id, activity_id), activity)


def update(conversation_id: str, activity_id: str, activity: dict[str, Any]) -> None:
    """Rewrite the posted activity ``activity_id``, for everyone in the conversation."""
    _call("PUT", _path(conversation_id, activity_id), {**activity, "id": activity_id})
