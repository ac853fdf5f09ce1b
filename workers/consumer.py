"""Runs one queue's handler in this process: retries, ack/nack in one place, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiormq
from aio_pika.abc import AbstractIncomingMessage

from config.settings import Settings
from models.errors import Deferred, PermanentError, TransientError
from models.messages import DEAD_LETTER_EXCHANGE, dead_letter_queue, delay_for, delay_queue
from workers import topology
from workers.broker import Broker

# What a call on a channel raises once RabbitMQ dropped the connection under it.
CHANNEL_GONE = (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, OSError)

log = logging.getLogger(__name__)

# One outcome per message of a batch, in order: None when it is done, else what stopped it.
Outcomes = list[Exception | None]
BatchHandler = Callable[[list[bytes]], Awaitable[Outcomes]]

# Back-off between in-place retries of a transient failure (database or broker blip); past
# them the message waits in a delay queue instead, so a long outage holds no worker.
RETRY_DELAYS = (0.5, 1.0, 2.0)


def outcomes_of(results: list[Any]) -> Outcomes:
    """`asyncio.gather(..., return_exceptions=True)` results as outcomes; a cancellation goes on up."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
    return [result if isinstance(result, Exception) else None for result in results]


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
    """Consume `queue` in batches of up to `batch_size` with `handler` until `stop` is set, then drain and close.

    One batch at a time: what arrives meanwhile (up to `prefetch` unacknowledged messages)
    waits for the next. A busy queue so gives full batches at once. A quiet one would give
    batches of one or two, each paying a whole transaction and its round trips (at 100
    commands a second, six times the CPU per command of a full batch), so a batch that is
    not full waits up to `settings.batch_window` seconds for more to arrive.
    """

    def __init__(self, settings: Settings, broker: Broker, queue: str, handler: BatchHandler, prefetch: int,
                 batch_size: int) -> None:
        self.settings = settings
        self.broker = broker
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.window = settings.batch_window
        self.waiting: list[AbstractIncomingMessage] = []
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self.counts = {"acked": 0, "deferred": 0, "dead_lettered": 0, "requeued": 0}

    async def run(self, stop: asyncio.Event) -> None:
        assert self.broker.connection is not None
        channel = await self.broker.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        # Declared (identically), not just looked up: the robust channel then re-declares the
        # queue and restarts this consumer by itself after RabbitMQ comes back.
        queue = await channel.declare_queue(self.queue, durable=True,
                                            arguments=topology.queue_arguments(self.queue, self.settings))
        work = asyncio.create_task(self._work(stop))
        tag = await queue.consume(self._on_message)
        log.info("Consuming %s with prefetch %d, up to %d message(s) a batch.", self.queue, self.prefetch,
                 self.batch_size)
        await stop.wait()

        # Stop taking work, finish the batch in hand, then let the broker requeue the rest.
        try:
            await queue.cancel(tag)
        except CHANNEL_GONE as exc:
            # Lost with the connection (RabbitMQ restarting): nothing is delivered on it any
            # more, and what it held unacknowledged goes back to the queue.
            log.warning("Could not cancel the consumer of %s (%r); its channel is gone with the connection.",
                        self.queue, exc)
        self._arrived.set()
        self._full.set()
        log.info("Stopped consuming %s; finishing the batch in hand, %d message(s) go back unstarted.",
                 self.queue, len(self.waiting))
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=self.settings.shutdown_grace)
        except TimeoutError:
            work.cancel()
            log.warning("Cancelled a batch still running after %.0f s; RabbitMQ will redeliver its messages.",
                        self.settings.shutdown_grace)
            with contextlib.suppress(asyncio.CancelledError):
                await work
        # Gone with the connection, if RabbitMQ is restarting.
        with contextlib.suppress(*CHANNEL_GONE):
            await channel.close()
        log.info("Consumer of %s stopped: %s.", self.queue,
                 ", ".join(f"{n} {k}" for k, n in self.counts.items()))

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.waiting.append(message)
        self._arrived.set()
        if len(self.waiting) >= self.batch_size:
            self._full.set()

    async def _work(self, stop: asyncio.Event) -> None:
        """Take the oldest waiting messages as a batch, settle every one of them, repeat."""
        while True:
            await self._arrived.wait()
            if len(self.waiting) < self.batch_size and self.window > 0 and not stop.is_set():
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.window)
            if stop.is_set():
                return
            batch = self.waiting[:self.batch_size]
            del self.waiting[:len(batch)]
            if not self.waiting:
                self._arrived.clear()
            try:
                await self._settle_batch(batch)
            except Exception as exc:
                # This loop is the consumer: it must outlive any one batch. What was left
                # unsettled is redelivered by RabbitMQ once its channel is gone.
                log.exception("Could not settle a batch of %d message(s) on %s (%r); RabbitMQ will redeliver "
                              "what was left unsettled. Carrying on with the next batch.", len(batch), self.queue,
                              exc)

    async def _settle_batch(self, messages: list[AbstractIncomingMessage]) -> None:
        """Settle every message of the batch: ack what is done, retry what failed transiently
        (together, a few times with back-off), then defer, dead-letter or requeue the rest."""
        outcomes = await self._run(messages)
        await self._ack([m for m, o in zip(messages, outcomes, strict=True) if o is None],
                        every_one_done=not any(outcomes))
        rest: list[tuple[AbstractIncomingMessage, Exception | None]] = [
            (m, o) for m, o in zip(messages, outcomes, strict=True) if o is not None]
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            transient = [m for m, o in rest if isinstance(o, TransientError)]
            if not transient:
                break
            log.warning("%d message(s) on %s hit a transient failure (%s); retry %d in %.1f s.", len(transient),
                        self.queue, next(o for _, o in rest if isinstance(o, TransientError)), attempt, delay)
            await asyncio.sleep(delay)
            retried = iter(await self._run(transient))
            rest = [(m, next(retried) if isinstance(o, TransientError) else o) for m, o in rest]
            await self._ack([m for m, o in rest if o is None], every_one_done=False)
            rest = [(m, o) for m, o in rest if o is not None]
        for message, outcome in rest:
            await self._settle(message, outcome)

    async def _run(self, messages: list[AbstractIncomingMessage]) -> Outcomes:
        """The handler's outcome for each message.

        If a batch failed as a whole, nothing of it was saved. A transient failure (an
        outage) is every message's: they are retried together. Any other may be one
        message's fault, so each is tried again alone, and only the one at fault fails.
        """
        try:
            return await self.handler([message.body for message in messages])
        except Exception as exc:
            if len(messages) == 1 or isinstance(exc, TransientError):
                if len(messages) > 1:
                    log.warning("A batch of %d messages on %s failed as a whole (%s).", len(messages), self.queue,
                                exc)
                return [exc] * len(messages)
            log.warning("A batch of %d messages on %s failed as a whole (%r); trying each alone, so that only a "
                        "message at fault fails.", len(messages), self.queue, exc)
            return [(await self._run([message]))[0] for message in messages]

    async def _ack(self, messages: list[AbstractIncomingMessage], every_one_done: bool) -> None:
        """Ack `messages`; when the whole batch is done, with one frame for all of them.

        A multiple ack covers every unacknowledged delivery up to the last one's tag on its
        channel. Batches are settled one after the other, in delivery order, so when the whole
        batch is done those deliveries are exactly the batch's messages.
        """
        if not messages:
            return
        self.counts["acked"] += len(messages)
        last = messages[-1]
        try:
            one_channel = all(m.channel is last.channel for m in messages)
        except aiormq.exceptions.ChannelInvalidStateError:  # closed under them: each ack fails quietly
            one_channel = False
        if every_one_done and one_channel:
            await self._quietly(last.ack(multiple=True), len(messages))
            return
        failed: list[Exception] = []
        for message in messages:
            try:
                await message.ack()
            except Exception as exc:  # the channel died with the connection: RabbitMQ redelivers these
                failed.append(exc)
        if failed:  # one line, not one a message: a broker restart leaves hundreds in flight
            log.warning("Could not acknowledge %d of %d message(s) on %s (%r); RabbitMQ will redeliver them.",
                        len(failed), len(messages), self.queue, failed[0])

    async def _settle(self, message: AbstractIncomingMessage, outcome: Exception | None) -> None:
        """The one place where a message its batch did not finish is deferred, dead-lettered or requeued."""
        try:
            await self._conclude(message, outcome)
        except Exception as exc:
            # A message must never stay unsettled, holding a prefetch slot until the broker's
            # consumer timeout: whatever went wrong while settling, it goes back to the queue
            # (RabbitMQ dead-letters it after DELIVERY_LIMIT deliveries).
            log.exception("Could not settle message %s on %s (%s); returning it to the queue.",
                          message.message_id, self.queue, exc)
            self.counts["requeued"] += 1
            await self._quietly(message.nack(requeue=True))

    async def _conclude(self, message: AbstractIncomingMessage, outcome: Exception | None) -> None:
        if outcome is None:
            self.counts["acked"] += 1
            await message.ack()
        elif isinstance(outcome, Deferred):
            await self._defer(message, str(outcome))
        elif isinstance(outcome, TransientError):
            # Never dead-letter for an outage: wait outside the queue, as long as it lasts.
            await self._defer(message, f"still failing after {len(RETRY_DELAYS)} quick retries: {outcome}")
        elif isinstance(outcome, PermanentError):
            await self._dead_letter(message, outcome)
        else:
            log.error("Message %s on %s failed unexpectedly (%s); returning it to the queue. After %d "
                      "deliveries RabbitMQ dead-letters it.", message.message_id, self.queue, outcome,
                      self.settings.delivery_limit, exc_info=outcome)
            self.counts["requeued"] += 1
            await self._quietly(message.nack(requeue=True))
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

    async def _quietly(self, settling: Awaitable[None], count: int = 1) -> None:
        """Settle on a channel that may be gone; if it is, RabbitMQ redelivers the message(s) anyway."""
        try:
            await settling
        except Exception as exc:  # the channel died with the connection: nothing left to do here
            log.warning("Could not settle %d message(s) on %s (%r); RabbitMQ will redeliver them.",
                        count, self.queue, exc)
