"""Real worker, CLI and Redis processes for the failure tests: started, watched and killed.

The processes talk to the test database and a broker of the test's choosing through the
same environment variables production uses; nothing in them is faked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
# Short enough that a lost worker is noticed within seconds in a test, not minutes.
FAST_LIFE_CYCLE = {
    "SEGREC_RUN_LEASE_SECONDS": "3",
    "SEGREC_RUN_SWEEP_SECONDS": "0.5",
    "SEGREC_RUN_RESEND_SECONDS": "3",
}


def app_env(broker_url: str) -> dict[str, str]:
    """The environment of an app process on the test database and ``broker_url``."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        **FAST_LIFE_CYCLE,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Worker:
    """A Celery worker process (``pool`` solo or prefork with one child)."""

    def __init__(self, env: dict[str, str], log: Path, *, pool: str = "solo") -> None:
        self.log = log
        self._log_file = log.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "segrec_site",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{pool}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def child_pid(self) -> int:
        """The prefork pool's child process, which executes the task."""

        def child() -> int | None:
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = path.read_text().split() if path.exists() else []
            return int(pids[0]) if pids else None

        return wait_for(child, timeout=60, what="the prefork child")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Redis:
    """A throw-away Redis on a free port without persistence, as CI's own Redis runs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=30, what=f"redis on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)  # no save: a crash loses the queue
            self.process.wait(timeout=30)
            self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _test_database_dsn() -> str:
    db = connection.settings_dict
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Hold ``table`` under ACCESS EXCLUSIVE from a connection of its own: whoever touches it
    next waits until the block ends. A test stops a worker at a known point this way instead
    of catching it inside a stage that lasts milliseconds on a fast machine."""
    holder = psycopg.connect(_test_database_dsn())
    try:
        holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        yield
    finally:
        holder.close()  # ends the transaction and the lock, even if the server dropped us


def terminate_other_connections() -> int:
    """pg_terminate_backend on every connection to the test database but this process's."""
    mine = connection.cursor().connection.info.backend_pid
    with psycopg.connect(_test_database_dsn(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
            [mine],
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)
