"""The Teams app package an admin uploads: ``manifest.json`` (the Airlock bot, our
app id, the console's domain) and its two icons, zipped. Built by
``manage.py teams_manifest``."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

MANIFEST_VERSION = "1.19"
SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
ACCENT = (0x1F, 0x4E, 0x79)


def manifest(*, version: str, developer: str) -> dict[str, Any]:
    conf = settings.TEAMS
    base = settings.NOTIFY["BASE_URL"].rstrip("/")
    name = conf["APP_NAME"][:30]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": conf["APP_ID"],
        "developer": {
            "name": developer[:32],
            "websiteUrl": base,
            "privacyUrl": base,
            "termsOfUseUrl": base,
        },
        "name": {"short": name, "full": f"{name}: approvals for AI agents"[:100]},
        "description": {
            "short": "Review the privileged actions your agents ask for."[:80],
            "full": (
                "Airlock holds the privileged actions of AI agents and pipelines until "
                "enough people who are not the requester approve them. The Airlock bot "
                "posts each request that waits for your group's review to the channels "
                "your admin chose, with Approve and Deny in the card; the same rules as "
                "the console apply (nobody approves their own request) and every click "
                "is in Airlock's audit log. Link your Teams account once, by signing in "
                "to Airlock."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": conf["APP_ID"],
                "scopes": ["team", "groupChat", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [urlsplit(base).hostname or "localhost"],
    }


def _png(size: int, pixel: Any) -> bytes:
    """A minimal RGBA PNG (no imaging library needed)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _lock(x: int, y: int, size: int) -> bool:
    """A padlock: a shackle over a body."""
    u, v = x / size, y / size
    body = 0.25 <= u <= 0.75 and 0.45 <= v <= 0.8
    ring = (u - 0.5) ** 2 + (v - 0.45) ** 2
    shackle = 0.015 <= ring <= 0.04 and v <= 0.45
    return body or shackle


def color_icon() -> bytes:
    """192 by 192, full colour."""
    return _png(192, lambda x, y, n: (255, 255, 255, 255) if _lock(x, y, n) else (*ACCENT, 255))


def outline_icon() -> bytes:
    """32 by 32, white on transparent, as Teams requires."""
    return _png(32, lambda x, y, n: (255, 255, 255, 255) if _lock(x, y, n) else (0, 0, 0, 0))


def package(*, version: str, developer: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json", json.dumps(manifest(version=version, developer=developer), indent=2)
        )
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return buffer.getvalue()
