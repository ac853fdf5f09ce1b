"""The raw worker ceiling: consume messages and do one PostgreSQL transaction each, nothing more.

Each message becomes one row inserted in its own transaction, then the ack. `make bench`
drains the same number of messages through this and through our worker pool.

    python -m loadtest.ceiling_worker --queue bench.ceiling.drain --prefetch 16
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import aio_pika
import asyncpg
import uvloop
from aio_pika.abc import AbstractIncomingMessage

from config.settings import load

TABLE = "bench_ceiling"


async def run(queue_name: str, prefetch: int, pool_size: int) -> None:
    settings = load()
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=pool_size)
    assert pool is not None
    async with pool.acquire() as conn:
        # done_at: when each message was handled, so the bench times the drain itself, not start-up.
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, body bytea NOT NULL, "
                           "done_at timestamptz NOT NULL DEFAULT clock_timestamp())")
    connection = await aio_pika.connect_robust(settings.amqp_url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})

    async def handle(message: AbstractIncomingMessage) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"INSERT INTO {TABLE} (body) VALUES ($1)", message.body)
        await message.ack()

    await queue.consume(handle)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await connection.close()
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.ceiling_worker", description=__doc__)
    parser.add_argument("--queue", default="bench.ceiling.drain")
    parser.add_argument("--prefetch", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=5)
    args = parser.parse_args()
    uvloop.run(run(args.queue, args.prefetch, args.pool_size))  # the event loop our workers run on


if __name__ == "__main__":
    main()
