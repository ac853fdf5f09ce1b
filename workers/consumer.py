"""Runs one queue's handler in this process: retries, ack/nack in one place, graceful stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from config.settings import Settings
from models.errors import Deferred, PermanentError, TransientError
from models.messages import DEAD_LETTER_EXCHANGE, dead_letter_queue, delay_for, delay_queue
from workers import topology
from workers.broker import Broker

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[None]]

# Back-off between in-place retries of a transient failure (database or broker blip); past
# them the message waits in a delay queue instead, so a long outage holds no worker.
RETRY_DELAYS = (0.5, 1.0, 2.0)


def _origin(message: AbstractIncomingMessage) -> dict[str, Any]:
    """Where the message first came from, kept across deferrals so it can be replayed there."""
    headers = message.headers or {}
    return {
        "x-original-exchange": headers.get("x-original-exchange", message.exchange or ""),
        "x-original-routing-key": headers.get("x-original-routing-key", message.routing_key or ""),
    }


def deferral_count(value: Any) -> int:
    """How often a message was deferred already, from its header; 0 for anything but a count."""
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


class Consumer:
    """Consume `queue` with `handler` until `stop` is set, then drain and close."""

    def __init__(self, settings: Settings, broker: Broker, queue: str, handler: Handler, prefetch: int) -> None:
        self.settings = settings
        self.broker = broker
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.in_flight: set[asyncio.Task[None]] = set()
        self.counts = {"acked": 0, "deferred": 0, "dead_lettered": 0, "requeued": 0}

    async def run(self, stop: asyncio.Event) -> None:
        assert self.broker.connection is not None
        channel = await self.broker.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        # Declared (identically), not just looked up: the robust channel then re-declares the
        # queue and restarts this consumer by itself after RabbitMQ comes back.
        queue = await channel.declare_queue(self.queue, durable=True,
                                            arguments=topology.queue_arguments(self.queue, self.settings))
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
        """The one place where a message is acked, deferred, dead-lettered or requeued."""
        try:
            await self._conclude(message)
        except Exception as exc:
            # A message must never stay unsettled, holding a prefetch slot until the broker's
            # consumer timeout: whatever went wrong while settling, it goes back to the queue
            # (RabbitMQ dead-letters it after DELIVERY_LIMIT deliveries).
            log.exception("Could not settle message %s on %s (%s); returning it to the queue.",
                          message.message_id, self.queue, exc)
            self.counts["requeued"] += 1
            await self._quietly(message.nack(requeue=True))

    async def _conclude(self, message: AbstractIncomingMessage) -> None:
        try:
            await self._handle_with_retries(message)
        except Deferred as exc:
            await self._defer(message, str(exc))
        except TransientError as exc:
            # Never dead-letter for an outage: wait outside the queue, as long as it lasts.
            await self._defer(message, f"still failing after {len(RETRY_DELAYS)} quick retries: {exc}")
        except PermanentError as exc:
            await self._dead_letter(message, exc)
        except Exception as exc:
            log.exception("Message %s on %s failed unexpectedly (%s); returning it to the queue. After %d "
                          "deliveries RabbitMQ dead-letters it.", message.message_id, self.queue, exc,
                          self.settings.delivery_limit)
            self.counts["requeued"] += 1
            await self._quietly(message.nack(requeue=True))
        else:
            self.counts["acked"] += 1
            await message.ack()

    async def _defer(self, message: AbstractIncomingMessage, reason: str) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        deferrals = deferral_count(headers.get("x-deferrals"))
        seconds = delay_for(deferrals, self.settings.delay_tiers)
        headers.update({**_origin(message), "x-deferrals": deferrals + 1, "x-deferred-because": reason[:500]})
        try:
            await self.broker.publish("", delay_queue(self.queue, seconds), message.body,
                                      message.message_id or "", headers=headers)
        except TransientError as exc:
            log.warning("Could not defer message %s (%s); returning it to %s instead.", message.message_id,
                        exc, self.queue)
            await self._quietly(message.nack(requeue=True))
            return
        log.info("Deferred message %s on %s for %d s (deferral %d): %s", message.message_id, self.queue,
                 seconds, deferrals + 1, reason)
        self.counts["deferred"] += 1
        await message.ack()

    async def _dead_letter(self, message: AbstractIncomingMessage, error: Exception) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        headers.update({
            **_origin(message),
            "x-error": str(error)[:1000],
            "x-error-type": type(error).__name__,
            "x-source-queue": self.queue,
            "x-failed-at": datetime.now(UTC).isoformat(),
        })
        self.counts["dead_lettered"] += 1
        try:
            await self.broker.publish(DEAD_LETTER_EXCHANGE, dead_letter_queue(self.queue), message.body,
                                      message.message_id or "", headers=headers)
        except TransientError:
            # RabbitMQ's own dead-lettering still keeps it, only without our reason.
            await self._quietly(message.reject(requeue=False))
            return
        log.error("Message %s on %s can never be processed (%s); it is in %s.", message.message_id,
                  self.queue, error, dead_letter_queue(self.queue))
        await message.ack()

    async def _quietly(self, settling: Awaitable[None]) -> None:
        """Settle on a channel that may be gone; if it is, RabbitMQ redelivers the message anyway."""
        try:
            await settling
        except Exception as exc:  # the channel died with the connection: nothing left to do here
            log.warning("Could not settle a message on %s (%s); RabbitMQ will redeliver it.", self.queue, exc)

    async def _handle_with_retries(self, message: AbstractIncomingMessage) -> None:
        """Run the handler, retrying a transient failure a few times in place first."""
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
