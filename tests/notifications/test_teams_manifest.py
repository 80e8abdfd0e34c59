"""The Teams app package the admin uploads, as `manage.py teams_manifest` writes it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from tests.notifications.conftest import APP_ID


@pytest.fixture
def bot_settings(settings):
    settings.TEAMS = {**settings.TEAMS, "APP_ID": APP_ID, "APP_NAME": "Airlock"}
    settings.NOTIFY = {**settings.NOTIFY, "BASE_URL": "https://airlock.example.com"}


def test_the_package_holds_a_manifest_for_our_bot_and_both_icons(bot_settings, tmp_path):
    out = tmp_path / "airlock-teams.zip"
    call_command("teams_manifest", "--output", str(out), "--app-version", "1.2.3")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = Image.open(io.BytesIO(package.read("color.png")))
        outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert manifest["manifestVersion"] == "1.19"
    assert manifest["$schema"].endswith("/v1.19/MicrosoftTeams.schema.json")
    assert (manifest["id"], manifest["version"]) == (APP_ID, "1.2.3")
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    assert bot["isNotificationOnly"] is False  # it receives the card's clicks
    assert manifest["validDomains"] == ["airlock.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://airlock.example.com"
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert (color.size, color.mode) == ((192, 192), "RGBA")
    assert (outline.size, outline.mode) == ((32, 32), "RGBA")
    # The outline icon is white on transparent, as Teams requires.
    pixels = {outline.getpixel((x, y)) for x in range(32) for y in range(32)}
    assert pixels == {(255, 255, 255, 255), (0, 0, 0, 0)}


def test_print_shows_the_manifest_and_a_missing_app_id_is_an_error(bot_settings, settings, capsys):
    call_command("teams_manifest", "--print")
    assert json.loads(capsys.readouterr().out)["bots"][0]["botId"] == APP_ID
    with pytest.raises(CommandError, match=r"MAJOR\.MINOR\.PATCH"):
        call_command("teams_manifest", "--print", "--app-version", "1.0")
    settings.TEAMS = {**settings.TEAMS, "APP_ID": ""}
    with pytest.raises(CommandError, match="TEAMS_APP_ID"):
        call_command("teams_manifest", "--print")


def test_manage_py_check_refuses_ids_that_are_not_guids(settings):
    from django.core.management.base import SystemCheckError

    settings.TEAMS = {**settings.TEAMS, "APP_ID": "airlock-bot", "TENANT_ID": "contoso.com"}
    with pytest.raises(SystemCheckError, match="TEAMS_TENANT_ID must be a GUID"):
        call_command("check")
    settings.TEAMS = {**settings.TEAMS, "APP_ID": APP_ID, "TENANT_ID": APP_ID}
    call_command("check")
