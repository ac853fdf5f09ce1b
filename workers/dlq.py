"""`make dlq`: list, replay or purge the dead letters.

    python -m workers.dlq list   [--queue commands|mail]
    python -m workers.dlq replay [--queue commands|mail] [--id MESSAGE_ID]
    python -m workers.dlq purge  [--queue commands|mail]

Replaying publishes each dead letter back where it first came from (its original exchange
and routing key), with publisher confirms, and only then removes it from the dead-letter
queue. Replaying is safe: a command that was applied already is recognised and skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from config.settings import load
from models.messages import COMMANDS_QUEUE, MAIL_QUEUE, dead_letter_queue

QUEUES = {"commands": COMMANDS_QUEUE, "mail": MAIL_QUEUE}
OUR_HEADERS = ("x-error", "x-error-type", "x-source-queue", "x-failed-at", "x-deferrals", "x-deferred-because",
               "x-original-exchange", "x-original-routing-key")


def reason(message: AbstractIncomingMessage) -> str:
    """Why the message is dead: our own note, or RabbitMQ's (e.g. the delivery limit)."""
    headers = message.headers or {}
    if "x-error" in headers:
        return f"{headers.get('x-error-type')!s}: {headers['x-error']!s}"
    deaths: Any = headers.get("x-death") or []
    if deaths:
        return f"RabbitMQ: {deaths[0].get('reason')} (from {deaths[0].get('queue')})"
    return "unknown"


def origin(message: AbstractIncomingMessage) -> tuple[str, str]:
    """The exchange and routing key the message was first published to."""
    headers = message.headers or {}
    if "x-original-routing-key" in headers:
        return str(headers.get("x-original-exchange") or ""), str(headers["x-original-routing-key"])
    deaths: Any = headers.get("x-death") or []
    if deaths:
        return str(deaths[-1].get("exchange") or ""), str((deaths[-1].get("routing-keys") or [""])[0])
    return "", ""


async def take_all(channel: AbstractChannel, queue_name: str, limit: int) -> list[AbstractIncomingMessage]:
    """Up to `limit` messages, held unacknowledged: closing the channel puts them back in order."""
    queue = await channel.get_queue(queue_name)
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await queue.get(fail=False)
        if message is None:
            break
        taken.append(message)
    return taken


async def run(action: str, names: list[str], only_id: str | None, limit: int) -> int:
    settings = load()
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        for name in names:
            dead = dead_letter_queue(QUEUES[name])
            channel = await connection.channel(publisher_confirms=True)
            if action == "purge":
                queue = await channel.get_queue(dead)
                result = await queue.purge()
                sys.stdout.write(f"{dead}: purged {result.message_count} message(s)\n")
                await channel.close()
                continue
            messages = await take_all(channel, dead, limit)
            sys.stdout.write(f"{dead}: {len(messages)} message(s)\n")
            for message in messages:
                if only_id and message.message_id != only_id:
                    continue
                exchange, key = origin(message)
                preview = message.body[:120].decode("utf-8", "replace").replace("\n", " ")
                sys.stdout.write(f"  {message.message_id}  -> {exchange or '(default)'}/{key}  {reason(message)}\n"
                                 f"      {len(message.body)} bytes: {preview}\n")
                if action == "replay":
                    await replay(channel, message, exchange, key)
                    sys.stdout.write("      replayed\n")
            await channel.close()  # whatever was not replayed goes back to the dead-letter queue
    finally:
        await connection.close()
    return 0


async def replay(channel: AbstractChannel, message: AbstractIncomingMessage, exchange: str, key: str) -> None:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in OUR_HEADERS and k != "x-death"}
    target = channel.default_exchange if not exchange else await channel.get_exchange(exchange, ensure=False)
    await target.publish(aio_pika.Message(message.body, headers=headers, message_id=message.message_id,
                                          content_type=message.content_type,
                                          delivery_mode=aio_pika.DeliveryMode.PERSISTENT), key, mandatory=True)
    await message.ack()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.dlq", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["list", "replay", "purge"])
    parser.add_argument("--queue", choices=[*QUEUES, "all"], default="all")
    parser.add_argument("--id", dest="only_id", help="only the message with this message id")
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args(argv)
    names = list(QUEUES) if args.queue == "all" else [args.queue]
    return asyncio.run(run(args.action, names, args.only_id, args.limit))


if __name__ == "__main__":
    sys.exit(main())
