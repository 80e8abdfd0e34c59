"""Servers a fault test owns: a Redis, a PostgreSQL cluster, an Airlock (uvicorn).

Each is started on a free loopback port in a temporary directory and stopped by the
test itself, so that stopping or restarting one never touches the shared services
other people's tests run on.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Every subprocess here runs our own binaries with our own arguments.
# ruff: noqa: S603

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: S110 - not up yet: try again until the deadline
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- Redis ---------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.port), 10, "redis-server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
        wait_for(lambda: not _port_open(self.port), 10, "redis-server to stop")


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    directory = Path(tempfile.mkdtemp(prefix="airlock-redis-"))
    server = RedisServer(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- PostgreSQL --------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresCluster:
    """A throwaway cluster: initdb into a temporary directory, trust auth, one port.

    initdb and postgres refuse to run as root; as root the cluster belongs to the
    ``postgres`` OS user and is driven through ``runuser``.
    """

    bindir: Path
    directory: Path
    port: int
    as_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/airlock"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.as_user, *args], check=True, timeout=timeout, capture_output=True, text=True
        )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), *args)

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.directory / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            timeout=120,
        )
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        (self.directory / "options").write_text(options)

    def start(self) -> None:
        options = (self.directory / "options").read_text()
        self._pg_ctl("-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self) -> None:
        # "fast": every connection is terminated ("terminating connection due to
        # administrator command"), as in a restart by an operator or a failover.
        self._pg_ctl("-m", "fast", "-w", "stop")

    def accepts_connections(self) -> bool:
        result = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
            timeout=10,
        )
        return result.returncode == 0

    def create_database(self, name: str) -> None:
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
            "postgres", name,
        )  # fmt: skip


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL's server binaries are not installed"
    directory = Path(tempfile.mkdtemp(prefix="airlock-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = PostgresCluster(bindir, directory, free_port(), as_user)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        if cluster.accepts_connections():
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- Airlock ------------------------------------------------------------------------------


def production_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """The production settings (DEBUG off), on the given services, rate limit lifted."""
    skip = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(
        DJANGO_SETTINGS_MODULE="airlock.settings",
        DEBUG="0",
        SECRET_KEY="fault-test-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        AIRLOCK_RATE_LIMIT="100000/min",
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout


def make_principals(env: dict[str, str]) -> dict[str, str]:
    """An agent and a reviewer made by the operator commands; their tokens."""
    script = (
        "import django, json; django.setup();"
        "from django.core.management import call_command;"
        "from accounts.services import create_agent, create_personal_token;"
        "call_command('create_user', 'owner@example.com');"
        "call_command('create_user', 'carol@example.com', groups='reviewers');"
        "_, agent = create_agent(name='etl-bot', owner_email='owner@example.com');"
        "_, person = create_personal_token(email='carol@example.com');"
        "print(json.dumps({'agent': agent, 'reviewer': person}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def airlock_server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "airlock.asgi:application"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(
                lambda: (
                    process.poll() is None
                    and httpx.get(f"{base}/healthz", timeout=5).status_code in (200, 503)
                ),
                90,
                "the Airlock server to answer",
            )
            assert process.poll() is None, log.read_text()
            yield base
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
