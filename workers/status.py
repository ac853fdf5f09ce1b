"""`make status`: pool sizes, queue depths and activation counts, in one screen.

Run as `python -m workers.status`. Reads the supervisor's status file, the RabbitMQ
management API and PostgreSQL; whatever does not answer is reported as such.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from config.settings import Settings, load
from workers.queues import QueueProbe, queue_names


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A plain text table with columns as wide as their widest cell."""
    cells = [header, *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in cells)


def pools_section(settings: Settings, now: float) -> str:
    path = Path(settings.status_file)
    if not path.exists():
        return f"Worker pools: no supervisor status at {path} (is `make run` going?)"
    status = json.loads(path.read_text())
    age = now - float(status["updated_at"])
    stale = "  (stale: the supervisor is not running?)" if age > max(10, 5 * settings.scale_poll_interval) else ""
    rows = [[role, p["current"], p["desired"], f"{p['minimum']}..{p['maximum']}", p["ready"], p["unacked"],
             None if p["ack_rate"] is None else f"{p['ack_rate']:.1f}", " ".join(map(str, p["pids"])) or "-"]
            for role, p in status["pools"].items()]
    head = f"Worker pools (supervisor pid {status['supervisor_pid']}, updated {age:.1f} s ago){stale}"
    return head + "\n" + table(["pool", "current", "desired", "limits", "ready", "in flight", "acks/s", "pids"], rows)


async def queues_section(settings: Settings) -> str:
    probe = QueueProbe(settings)
    try:
        rows = []
        for name in queue_names(settings):
            body = await probe.queue(name)
            if body is None:
                return "Queues: the RabbitMQ management API does not answer."
            rows.append([name, body.get("messages_ready"), body.get("messages_unacknowledged"),
                         body.get("consumers")])
    finally:
        await probe.close()
    return "Queues\n" + table(["queue", "ready", "unacked", "consumers"], rows)


async def counts_section(settings: Settings) -> str:
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"Database: PostgreSQL does not answer ({exc})."
    try:
        activations = await conn.fetch("SELECT status, count(*) AS n FROM activations GROUP BY status ORDER BY status")
        mails = await conn.fetch("SELECT status, count(*) AS n FROM notifications GROUP BY status ORDER BY status")
        events = await conn.fetch("SELECT outcome, count(*) AS n FROM activation_events GROUP BY outcome")
    finally:
        await conn.close()

    def line(rows: list[asyncpg.Record], key: str) -> str:
        return ", ".join(f"{r[key]} {r['n']}" for r in rows) or "none"

    return (f"Activations:   {line(activations, 'status')}\n"
            f"Events:        {line(events, 'outcome')}\n"
            f"Notifications: {line(mails, 'status')}")


async def report(settings: Settings) -> str:
    queues, counts = await asyncio.gather(queues_section(settings), counts_section(settings))
    return "\n\n".join([pools_section(settings, time.time()), queues, counts])


def main() -> int:
    sys.stdout.write(asyncio.run(report(load())) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
