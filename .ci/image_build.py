"""Build what the Dockerfile builds, without Docker, and fail as its build would.

The Dockerfile's COPY lines are followed literally into an empty directory (the
image's /app); the project is installed from there into a clean venv, as its
``pip install .`` does; then, from that directory, ``manage.py check --deploy`` and
the Dockerfile's own ``collectstatic``. An app in INSTALLED_APPS that the
Dockerfile forgets to copy is then missing from the wheel and from /app alike, and
``django.setup()`` fails here as it would in the image.

To stay cheap the clean venv installs the project alone (``--no-deps``) and reads
the dependencies from the project venv's site-packages, added as a plain path so
that none of its ``.pth`` files (the editable install's among them) take effect;
``pip check`` then proves that the dependency list the image installs is satisfied.

    .venv/bin/python .ci/image_build.py [Dockerfile]
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copies(dockerfile: Path) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context."""
    out = []
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line.upper().startswith("COPY "):
            continue
        args = [a for a in shlex.split(line[5:]) if not a.startswith("--")]
        if any(a.startswith("--from") for a in shlex.split(line[5:])):
            continue  # from another stage, not from the context
        out.append((args[:-1], args[-1]))
    return out


def lay_out(dockerfile: Path, app: Path) -> None:
    for sources, destination in copies(dockerfile):
        for source in sources:
            src = ROOT / source
            if destination.endswith("/") or len(sources) > 1:
                target = app / destination / Path(source).name
            else:
                target = app / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, target)


def run(args: list[str], **kwargs) -> None:
    print("+", " ".join(shlex.quote(a) for a in args), flush=True)
    subprocess.run(args, check=True, **kwargs)  # noqa: S603 - our own commands


def main() -> int:
    dockerfile = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "Dockerfile"
    with tempfile.TemporaryDirectory(prefix="airlock-image-") as tmp:
        work = Path(tmp)
        app = work / "app"
        app.mkdir()
        lay_out(dockerfile, app)
        venv = work / "venv"
        run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
        python = str(venv / "bin" / "python")
        site = subprocess.run(  # noqa: S603 - our own venv
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # The project venv's packages, as plain paths: their .pth files stay inert.
        deps = [p for p in sys.path if p.endswith("site-packages")] or [
            sysconfig.get_paths()["purelib"]
        ]
        Path(site, "airlock-image-deps.pth").write_text("".join(f"{p}\n" for p in deps))
        pip = [sys.executable, "-m", "pip", "--python", python]
        # The Dockerfile installs ./client (airlock-client) with the project.
        local = [str(p.parent) for p in sorted(app.glob("*/pyproject.toml"))]
        run([*pip, "install", "--quiet", "--no-deps", *local, str(app)])
        run([*pip, "check"])
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PYTHONPATH"}
        }
        env.update(DEBUG="0", PYTHONDONTWRITEBYTECODE="1")
        deploy = {
            **env,
            "SECRET_KEY": "image-check-" + "x" * 50,
            "ALLOWED_HOSTS": "airlock.example.com",
        }
        run(
            [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=app,
            env=deploy,
        )
        # The Dockerfile's own line.
        run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=app,
            env={**env, "SECRET_KEY": "collectstatic-only"},
        )
        manifest = app / "var" / "static" / "staticfiles.json"
        if not manifest.exists():
            print(f"collectstatic wrote no manifest at {manifest}", file=sys.stderr)
            return 1
    print("the image's build steps pass")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        print(f"image build failed: {' '.join(exc.cmd)} exited {exc.returncode}", file=sys.stderr)
        sys.exit(1)
