"""Start from scratch: drop the database, delete the service's queues, remove the stored e-mails.

Run as `python -m workers.reset` (`make reset`) with the service stopped; the next
`make run` recreates, migrates and seeds everything. Queued and deferred commands would
otherwise be applied to the new database, and old e-mails would sit beside the new ones.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
from pathlib import Path

import asyncpg
import httpx

from config import logging as logging_config
from config.preflight import server_url
from config.settings import Settings, load
from workers.queues import QueueProbe, queue_names

log = logging.getLogger("reset")


async def database_in_use(settings: Settings) -> None:
    """Refuse (RuntimeError) while anything else is connected to the service's database."""
    server, name = server_url(settings.database_url)
    conn = await asyncpg.connect(server, timeout=5)
    try:
        busy = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
    finally:
        await conn.close()
    if busy:
        raise RuntimeError(f"{busy} connection(s) still use database {name}; stop the service first.")


async def drop_database(settings: Settings) -> None:
    """Drop the service's database (PostgreSQL itself refuses while a connection still uses it)."""
    server, name = server_url(settings.database_url)
    conn = await asyncpg.connect(server, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        log.info("Dropped database %s.", name)
    finally:
        await conn.close()


async def delete_queues(settings: Settings, *, dry_run: bool = False) -> None:
    """Delete the service's queues; refuse (RuntimeError) while one has consumers. `dry_run`: only check."""
    probe = QueueProbe(settings)
    try:
        for name in queue_names(settings):
            queue = await probe.queue(name)
            if queue is None:
                raise RuntimeError("the RabbitMQ management API does not answer.")
            if not queue:  # never declared
                continue
            if queue.get("consumers"):
                raise RuntimeError(f"Queue {name} still has consumers; stop the service first.")
            if not dry_run:
                await probe.delete(name)
                log.info("Deleted queue %s with its %s message(s).", name, queue.get("messages", 0))
    finally:
        await probe.close()


async def reset(settings: Settings) -> int:
    try:
        # Both checked before either is touched: a half reset (queues gone, database kept
        # because the API still held it) would leave a service that cannot start cleanly.
        await delete_queues(settings, dry_run=True)
        await database_in_use(settings)
        await delete_queues(settings)
        await drop_database(settings)
    except (RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as exc:
        log.error("Could not reset: %s", exc)
        return 1
    return 0


def remove_local_state(settings: Settings) -> None:
    """The stored e-mails and the supervisor's status file."""
    mail = Path(settings.mail_dir)
    if mail.is_dir():
        shutil.rmtree(mail)
        log.info("Removed %s.", mail)
    Path(settings.status_file).unlink(missing_ok=True)


def main() -> int:
    settings = load()
    logging_config.setup(settings.log_level)
    code = asyncio.run(reset(settings))
    if code == 0:
        remove_local_state(settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
