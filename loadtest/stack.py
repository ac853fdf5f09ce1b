"""A private copy of the whole service, for the integration tests and benchmarks: own database and vhost.

The API, the worker pool (command workers and notifier) and the SMTP sink run as real
subprocesses, started with the same commands `make run` uses, on free ports.
"""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx

from config.settings import Settings
from workers.process import die_with_parent

ROOT = Path(__file__).resolve().parents[1]


# The stack's defaults make time pass quickly for the tests (short waits and relays);
# benchmarks and chaos runs put the real ones back with these overrides.
PRODUCTION_TIMINGS = {"OUT_OF_ORDER_WAIT": "300", "RETRY_DELAYS": "2,10,60",
                      "OUTBOX_RELAY_AFTER": "600", "OUTBOX_RELAY_INTERVAL": "30"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def quote_vhost(vhost: str) -> str:
    return quote(vhost, safe="")


def with_vhost(url: str, vhost: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{quote(vhost, safe='')}"))


@dataclass
class Stack:
    """Handles on the running copy: where the API is, where mail lands, who can log in."""

    base: Settings
    root: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    users: list[dict[str, str]] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    seed_args: tuple[str, ...] = ("--companies", "6", "--per-company", "8", "--superusers", "2")

    def __post_init__(self) -> None:
        self.db_name = f"activations_test_{self.run_id}"
        self.vhost = f"activations-test-{self.run_id}"
        self.api_port, self.smtp_port = free_port(), free_port()
        self.mail_dir = self.root / "mail"
        self.logs = self.root / "logs"
        self.database_url = with_database(self.base.database_url, self.db_name)
        self.amqp_url = with_vhost(self.base.amqp_url, self.vhost)
        self.api = f"http://127.0.0.1:{self.api_port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "AMQP_URL": self.amqp_url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_SINK_HOST": "127.0.0.1",
            "SMTP_SINK_PORT": str(self.smtp_port),
            "MAIL_DIR": str(self.mail_dir),
            # Small, so that a few stacks and a running instance fit PostgreSQL's 100 connections.
            "API_DB_POOL_SIZE": "5",
            "WORKER_MIN_PROCESSES": "2",
            "WORKER_MAX_PROCESSES": "2",
            "NOTIFIER_MIN_PROCESSES": "1",
            "NOTIFIER_MAX_PROCESSES": "1",
            "STATUS_FILE": str(self.root / "supervisor.json"),
            "SHUTDOWN_GRACE": "5",
            "OUT_OF_ORDER_WAIT": "10",
            "RETRY_DELAYS": "1,2,4",
            "OUTBOX_RELAY_AFTER": "3",
            "OUTBOX_RELAY_INTERVAL": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **self.overrides,
        }

    # --- life cycle -------------------------------------------------------------------

    def start(self, pool: bool = True) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        asyncio.run(self._create_database())
        self._management("PUT", f"/api/vhosts/{quote(self.vhost, safe='')}")
        user = urlsplit(self.base.amqp_url).username or "guest"
        self._management("PUT", f"/api/permissions/{quote(self.vhost, safe='')}/{user}",
                         json={"configure": ".*", "write": ".*", "read": ".*"})
        self._run_once("migrate", [str(ROOT / ".venv/bin/aerich"), "upgrade"])
        csv_path = self.root / "users.csv"
        self._run_once("seed", [sys.executable, "-m", "models.seed", *self.seed_args, "--csv", str(csv_path)])
        with csv_path.open() as handle:
            self.users = list(csv.DictReader(handle))
        self.start_sink()
        self._spawn("api", [sys.executable, "-m", "web"])
        self._wait_ready()
        if pool:
            self.start_pool()

    def stop_process(self, name: str) -> None:
        """Stop one of the stack's processes (SIGTERM), e.g. the SMTP sink for an outage."""
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    def start_sink(self) -> None:
        self._spawn("smtp-sink", [sys.executable, "-m", "workers", "smtp-sink"])
        deadline = time.monotonic() + 10
        while not self._sink_up() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start_pool(self) -> None:
        """Start the supervisor and its worker pools (tests may queue work before this)."""
        self._spawn("pool", [sys.executable, "-m", "workers", "pool"])

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                print(f"{name} did not stop within 20 s of SIGTERM and was killed", file=sys.stderr)
        asyncio.run(self._drop_database())
        self._management("DELETE", f"/api/vhosts/{quote(self.vhost, safe='')}", check=False)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"----- {path.name} -----\n" + "\n".join(text))
        return "\n".join(out)

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                preexec_fn=die_with_parent)

    def _run_once(self, name: str, argv: list[str]) -> None:
        result = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.api}/ready", timeout=2).status_code == 200 and self._sink_up():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the stack was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def _sink_up(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.smtp_port)) == 0

    @property
    def management_base(self) -> str:
        parts = urlsplit(self.base.rabbitmq_management_url)
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}"))

    @property
    def management_auth(self) -> tuple[str, str]:
        parts = urlsplit(self.base.rabbitmq_management_url)
        return (parts.username or "guest", parts.password or "guest")

    def _management(self, method: str, path: str, check: bool = True, **kwargs: Any) -> None:
        base, auth = self.management_base, self.management_auth
        # The management plugin may still be starting (preflight may just have enabled it).
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.request(method, f"{base}{path}", auth=auth, timeout=10, **kwargs)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        if check:
            response.raise_for_status()

    async def _create_database(self) -> None:
        conn = await asyncpg.connect(with_database(self.base.database_url, "postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await conn.close()

    async def _drop_database(self) -> None:
        conn = await asyncpg.connect(with_database(self.base.database_url, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await conn.close()

    # --- helpers for tests ---------------------------------------------------------

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    def mails(self) -> Iterator[Message]:
        for path in sorted(self.mail_dir.glob("*.eml")):
            yield email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
