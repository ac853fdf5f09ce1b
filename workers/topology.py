"""The RabbitMQ exchanges, queues and bindings, declared idempotently by every process."""

from __future__ import annotations

import logging

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.common import FieldTable

from config.settings import Settings
from models.errors import ConfigurationError
from models.messages import (
    COMMANDS_EXCHANGE,
    COMMANDS_QUEUE,
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    MAIL_EXCHANGE,
    MAIL_QUEUE,
    MAIL_ROUTING_KEY,
    dead_letter_queue,
    delay_queue,
)
from models.state_machine import CommandType

log = logging.getLogger(__name__)

# queue -> (exchange, routing keys bound to it)
BINDINGS: dict[str, tuple[str, list[str]]] = {
    COMMANDS_QUEUE: (COMMANDS_EXCHANGE, [c.value for c in CommandType]),
    MAIL_QUEUE: (MAIL_EXCHANGE, [MAIL_ROUTING_KEY]),
}


def queue_arguments(queue: str, settings: Settings) -> FieldTable:
    """Quorum queue whose messages go to its dead-letter queue after `delivery_limit` tries."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.delivery_limit,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": dead_letter_queue(queue),
    }


async def declare(channel: AbstractChannel, settings: Settings) -> dict[str, AbstractExchange]:
    """Declare everything; a conflicting existing declaration stops the process with advice."""
    try:
        return await _declare(channel, settings)
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        raise ConfigurationError(
            f"RabbitMQ refused our declaration because an existing exchange or queue has other "
            f"arguments ({exc}). Delete the conflicting object in the management UI or with "
            f"rabbitmqctl, then restart."
        ) from exc


async def _declare(channel: AbstractChannel, settings: Settings) -> dict[str, AbstractExchange]:
    exchanges = {
        DEAD_LETTER_EXCHANGE: await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        ),
        COMMANDS_EXCHANGE: await channel.declare_exchange(
            COMMANDS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        ),
        MAIL_EXCHANGE: await channel.declare_exchange(MAIL_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True),
        EVENTS_EXCHANGE: await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        ),
    }
    for queue_name, (exchange_name, keys) in BINDINGS.items():
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments=queue_arguments(queue_name, settings)
        )
        for key in keys:
            await queue.bind(exchanges[exchange_name], routing_key=key)
        dead = await channel.declare_queue(
            dead_letter_queue(queue_name), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dead.bind(exchanges[DEAD_LETTER_EXCHANGE], routing_key=dead_letter_queue(queue_name))
        for seconds in settings.delay_tiers:
            await channel.declare_queue(
                delay_queue(queue_name, seconds), durable=True, arguments=delay_arguments(queue_name, seconds)
            )
    return exchanges


def delay_arguments(queue: str, seconds: int) -> FieldTable:
    """A waiting room: messages expire after `seconds` and go back, unchanged, to `queue`.

    Published to through the default exchange (routing key = the delay queue's name) and
    dead-lettered through it (routing key = `queue`). At-least-once dead-lettering, so a
    message cannot vanish between the two queues.
    """
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": seconds * 1000,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
