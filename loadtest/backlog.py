"""Publishing a backlog of real commands straight to RabbitMQ, as if the API had accepted them."""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import random
import sys
import time
import uuid
from datetime import UTC, datetime

import aio_pika

from config import logging as logging_config
from config.settings import load
from models.ids import uuid7
from models.messages import COMMANDS_EXCHANGE, Command
from models.state_machine import CommandType

log = logging.getLogger(__name__)


async def publish_all(amqp_url: str, commands: list[Command], batch: int = 500) -> None:
    """Publish with confirms, `batch` at a time in flight."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
        for start in range(0, len(commands), batch):
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(c.encode(), message_id=str(c.id),
                                                  delivery_mode=aio_pika.DeliveryMode.PERSISTENT), c.type.value)
                for c in commands[start:start + batch]
            ))
    finally:
        await connection.close()


def ids(commands: list[Command]) -> list[uuid.UUID]:
    return [c.id for c in commands]


def spread_requests(users: list[dict[str, str]], count: int, seed: int = 7) -> list[Command]:
    """`count` requests from random customers at random companies (same list for the same seed)."""
    customers = [u["cpf"] for u in users if u["role"] == "user"]
    companies = sorted({u["company_cnpj"] for u in users})
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [Command(id=uuid7(), type=CommandType.REQUEST, activation_id=uuid7(), actor_cpf=rng.choice(customers),
                    issued_at=now, company_cnpj=rng.choice(companies)) for _ in range(count)]


def read_users(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with a fresh seed when none is given."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.backlog", description=main.__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--users", default="loadtest/users.csv")
    parser.add_argument("--seed", type=int, default=None,
                        help="picks the customers and companies; the same seed picks the same ones "
                             "(default: a new seed each run)")
    args = parser.parse_args(argv)
    if args.seed is None:
        # A fixed seed would pick the same pairs every run, so a second run would be all duplicates.
        args.seed = random.randrange(1_000_000)
    return args


def main(argv: list[str] | None = None) -> int:
    """`python -m loadtest.backlog --count N [--seed S]`: publish N requests from the demo customers."""
    args = arguments(argv)
    logging_config.setup("INFO", "backlog")
    settings = load()
    commands = spread_requests(read_users(args.users), args.count, seed=args.seed)
    started = time.monotonic()
    asyncio.run(publish_all(settings.amqp_url, commands))
    log.info("Published %d request commands in %.1f s with seed %d (the same seed picks the same customers and "
             "companies again); watch them drain with `make status`.",
             len(commands), time.monotonic() - started, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
