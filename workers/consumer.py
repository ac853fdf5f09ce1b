"""Runs one queue's handler in this process: retries, ack/nack in one place, graceful stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage

from config.settings import Settings
from models.errors import PermanentError, TransientError
from workers.broker import Broker

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[None]]

# Back-off between in-place retries of a transient failure (database or broker blip).
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


class Consumer:
    """Consume `queue` with `handler` until `stop` is set, then drain and close."""

    def __init__(self, settings: Settings, broker: Broker, queue: str, handler: Handler, prefetch: int) -> None:
        self.settings = settings
        self.broker = broker
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.in_flight: set[asyncio.Task[None]] = set()
        self.counts = {"acked": 0, "retried": 0, "dead_lettered": 0}

    async def run(self, stop: asyncio.Event) -> None:
        assert self.broker.connection is not None
        channel = await self.broker.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await channel.get_queue(self.queue, ensure=False)
        tag = await queue.consume(self._on_message)
        log.info("Consuming %s with prefetch %d.", self.queue, self.prefetch)
        await stop.wait()

        # Stop taking work, finish what started, then let the broker requeue the rest.
        await queue.cancel(tag)
        log.info("Stopped consuming %s; waiting for %d message(s) in flight.", self.queue, len(self.in_flight))
        if self.in_flight:
            _, late = await asyncio.wait(self.in_flight, timeout=self.settings.shutdown_grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("Cancelled %d message(s) still running after %.0f s; RabbitMQ will redeliver them.",
                            len(late), self.settings.shutdown_grace)
        await channel.close()
        log.info("Consumer of %s stopped: %s.", self.queue,
                 ", ".join(f"{n} {k}" for k, n in self.counts.items()))

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)  # type: ignore[arg-type]
        try:
            await self._settle(message)
        finally:
            self.in_flight.discard(task)  # type: ignore[arg-type]

    async def _settle(self, message: AbstractIncomingMessage) -> None:
        """The one place where a message is acked, requeued or dead-lettered."""
        msg_id = message.message_id or "?"
        try:
            await self._handle_with_retries(message)
        except PermanentError as exc:
            log.error("Message %s on %s can never be processed (%s); sending it to the dead-letter queue.",
                      msg_id, self.queue, exc)
            self.counts["dead_lettered"] += 1
            await message.reject(requeue=False)
        except Exception as exc:
            log.exception("Message %s on %s failed (%s); returning it to the queue for another try.",
                          msg_id, self.queue, exc)
            self.counts["retried"] += 1
            await message.nack(requeue=True)
        else:
            self.counts["acked"] += 1
            await message.ack()

    async def _handle_with_retries(self, message: AbstractIncomingMessage) -> None:
        for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
            try:
                await self.handler(message.body)
                return
            except TransientError as exc:
                if delay is None:
                    raise
                log.warning("Message %s on %s hit a transient failure (%s); retry %d in %.1f s.",
                            message.message_id, self.queue, exc, attempt, delay)
                await asyncio.sleep(delay)
