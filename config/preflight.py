"""Before starting: check PostgreSQL and RabbitMQ answer, create the database, enable the UI.

Run as `python -m config.preflight`; exits non-zero with advice when a service is missing.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import httpx

from config import logging as logging_config
from config.settings import Settings, load

log = logging.getLogger("preflight")

START_HINT = (
    "Start it (for example `docker compose up -d postgres rabbitmq`, or your system's service "
    "manager) and run this again."
)


def server_url(database_url: str) -> tuple[str, str]:
    """The URL of the server's maintenance database, and the name of ours."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path="/postgres", query="")), name


async def ensure_database(settings: Settings) -> None:
    """Connect to PostgreSQL and create our database if it does not exist yet."""
    server, name = server_url(settings.database_url)
    conn = await asyncpg.connect(server, timeout=5)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            log.info("Created database %s.", name)
    finally:
        await conn.close()


async def check_broker(settings: Settings) -> None:
    connection = await aio_pika.connect(settings.amqp_url, timeout=5)
    await connection.close()


def ensure_management_ui(settings: Settings) -> None:
    """Enable RabbitMQ's management plugin when the broker runs on this machine and lacks it."""
    host = urlsplit(settings.rabbitmq_management_url).hostname or ""
    try:
        httpx.get(f"{settings.rabbitmq_management_url.rstrip('/')}/api/overview", timeout=3)
        return
    except httpx.HTTPError:
        pass
    if host not in {"127.0.0.1", "localhost", "::1"} or shutil.which("rabbitmq-plugins") is None:
        log.warning("The RabbitMQ management UI at %s does not answer; queue views and `make status` "
                    "need it (rabbitmq-plugins enable rabbitmq_management).", host)
        return
    log.info("Enabling the RabbitMQ management plugin on this machine.")
    result = subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.warning("Could not enable the management plugin: %s", result.stderr.strip() or result.stdout.strip())


async def check(settings: Settings) -> int:
    try:
        await ensure_database(settings)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        log.error("PostgreSQL at %s does not answer (%s). %s",
                  urlsplit(settings.database_url).hostname, exc, START_HINT)
        return 1
    try:
        await check_broker(settings)
    except Exception as exc:  # aio-pika raises several unrelated types for "not there"
        log.error("RabbitMQ at %s does not answer (%s). %s",
                  urlsplit(settings.amqp_url).hostname, exc, START_HINT)
        return 1
    ensure_management_ui(settings)
    log.info("PostgreSQL and RabbitMQ answer.")
    return 0


def banner(settings: Settings) -> str:
    """Where to find everything once `make run` is up."""
    ui = urlsplit(settings.rabbitmq_management_url)
    return "\n".join([
        "",
        f"  API ............ {settings.base_url}",
        f"  API docs ....... {settings.base_url}/docs",
        f"  RabbitMQ UI .... http://{ui.hostname}:{ui.port or 15672}  (user {ui.username or 'guest'})",
        f"  E-mails ........ {settings.mail_dir}/*.eml  "
        f"(SMTP sink on {settings.smtp_sink_host}:{settings.smtp_sink_port})",
        "  Demo logins .... loadtest/users.csv  (customers: cliente123, super-users: admin123)",
        "  Stop ........... Ctrl-C",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    settings = load()
    args = sys.argv[1:] if argv is None else argv
    if args == ["--banner"]:
        sys.stdout.write(banner(settings) + "\n")
        return 0
    logging_config.setup(settings.log_level)
    return asyncio.run(check(settings))


if __name__ == "__main__":
    sys.exit(main())
