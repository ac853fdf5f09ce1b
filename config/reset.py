"""Start from scratch: drop the database, delete the service's queues, remove the stored e-mails.

Run as `python -m config.reset` (`make reset`) with the service stopped; the next
`make run` recreates, migrates and seeds everything. Queued and deferred commands would
otherwise be applied to the new database, and old e-mails would sit beside the new ones.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx

from config import logging as logging_config
from config.preflight import server_url
from config.settings import Settings, load
from models.messages import COMMANDS_QUEUE, MAIL_QUEUE
from workers.queues import QueueProbe

log = logging.getLogger("reset")

# Every queue the service declares is named after its two work queues.
PREFIXES = (COMMANDS_QUEUE, MAIL_QUEUE)


async def drop_database(settings: Settings) -> None:
    server, name = server_url(settings.database_url)
    conn = await asyncpg.connect(server, timeout=5)
    try:
        busy = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        if busy:
            raise RuntimeError(f"{busy} connection(s) still use database {name}; stop the service first.")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        log.info("Dropped database %s.", name)
    finally:
        await conn.close()


async def delete_queues(settings: Settings) -> None:
    probe = QueueProbe(settings)
    try:
        response = await probe.client.get(f"{probe.base}/api/queues/{probe.vhost}")
        response.raise_for_status()
        for queue in response.json():
            name = queue["name"]
            if not name.startswith(PREFIXES):
                continue
            if queue.get("consumers"):
                raise RuntimeError(f"Queue {name} still has consumers; stop the service first.")
            deleted = await probe.client.delete(f"{probe.base}/api/queues/{probe.vhost}/{quote(name, safe='')}")
            deleted.raise_for_status()
            log.info("Deleted queue %s with its %s message(s).", name, queue.get("messages", 0))
    finally:
        await probe.close()


async def reset(settings: Settings) -> int:
    try:
        await delete_queues(settings)
        await drop_database(settings)
    except (RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as exc:
        log.error("Could not reset: %s", exc)
        return 1
    for folder in (Path(settings.mail_dir), Path(settings.status_file)):
        if folder.is_dir():
            shutil.rmtree(folder)
            log.info("Removed %s.", folder)
        elif folder.exists():
            folder.unlink()
    return 0


def main() -> int:
    settings = load()
    logging_config.setup(settings.log_level)
    return asyncio.run(reset(settings))


if __name__ == "__main__":
    sys.exit(main())
