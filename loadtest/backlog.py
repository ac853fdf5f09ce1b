"""Publishing a backlog of real commands straight to RabbitMQ, as if the API had accepted them."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime

import aio_pika

from models.ids import uuid7
from models.messages import COMMANDS_EXCHANGE, Command
from models.state_machine import CommandType


def request_commands(users: list[dict[str, str]], count: int) -> list[Command]:
    """`count` requests spread over every customer and company: the first per pair is applied,
    the others are rejected as duplicates of a pending request; each ends as one event."""
    customers = [u["cpf"] for u in users if u["role"] == "user"]
    companies = sorted({u["company_cnpj"] for u in users})
    pairs = itertools.cycle(itertools.product(customers, companies))
    now = datetime.now(UTC)
    return [Command(id=uuid7(), type=CommandType.REQUEST, activation_id=uuid7(), actor_cpf=cpf,
                    issued_at=now, company_cnpj=cnpj) for cpf, cnpj in itertools.islice(pairs, count)]


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
