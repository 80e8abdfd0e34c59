"""Websocket routes of every app. The reviewer console's live queue joins here."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
