"""Issue 11, item 6: the Docker image builds, and CI would notice if it did not.

``.ci/image_build.py`` replays the Dockerfile without Docker (its COPY lines into an
empty /app, ``pip install`` there into a clean venv, ``check --deploy``,
``collectstatic``); ``.ci/run`` runs it on the real Dockerfile. These tests pin
that the Dockerfile copies every app, and that the replay fails when one is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".ci"))
from image_build import copies  # noqa: E402


def _local_apps() -> set[str]:
    return {
        app.split(".")[0]
        for app in settings.INSTALLED_APPS
        if (ROOT / app.split(".")[0] / "__init__.py").exists()
    }


def test_the_dockerfile_copies_every_local_app():
    copied = {Path(source).name for sources, _ in copies(ROOT / "Dockerfile") for source in sources}
    assert _local_apps() - copied == set()
    assert {"airlock", "manage.py", "pyproject.toml"} <= copied


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="needs no database: runs once, in the embedded-default run",
)
@pytest.mark.timeout(300)
def test_the_image_replay_fails_when_an_app_is_not_copied(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "\n".join(
            line
            for line in (ROOT / "Dockerfile").read_text().splitlines()
            if not line.startswith("COPY sanitization")
        )
    )
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / ".ci" / "image_build.py"), str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "No module named 'sanitization'" in result.stderr
    assert "image build failed" in result.stderr
