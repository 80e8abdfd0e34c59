"""Shared by the browser tests: Debian's Chromium through Playwright, sign-in, a page
that fails on script errors, and axe-core run inside the page."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "correct horse battery staple"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not os.environ.get("CI"):
    pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium for the browser tests")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402


def sign_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Waiting for your review")).to_be_visible()


def watched(page: Page) -> list[str]:
    """Console errors (CSP violations among them) and page errors, collected."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _axe_source() -> str:
    source = AXE.read_bytes()
    expected = (AXE.parent / "axe.min.js.sha256").read_text().split()[0]
    if hashlib.sha256(source).hexdigest() != expected:
        raise RuntimeError("tests/e2e/vendor/axe.min.js is not the vendored axe-core")
    return source.decode("utf-8")


_AXE_SOURCE: str | None = None
SERIOUS = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA checks (and its best practices) on the page as
    it stands; the serious and critical violations. The script is evaluated through
    the browser's debugging protocol, so the page's own CSP is not loosened for it."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = _axe_source()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE_SOURCE)
    result = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: [
                'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]
