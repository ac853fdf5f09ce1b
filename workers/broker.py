"""One RabbitMQ connection per process and a pool of confirming channels to publish on."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from datetime import UTC, datetime
from typing import Any, cast

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractRobustChannel, AbstractRobustConnection

from config.settings import Settings
from models.errors import TransientError
from workers import topology

log = logging.getLogger(__name__)

PERSISTENT = int(aio_pika.DeliveryMode.PERSISTENT)


class BrokerUnavailable(TransientError):
    """RabbitMQ did not take the message: down, unreachable or too slow to confirm."""


class PublishInDoubt(BrokerUnavailable):
    """The message went out but no confirm came back: RabbitMQ may or may not have it.

    A client cannot take back what it has written to the socket (a broker blocking its
    publishers, say under a memory alarm, takes it once the alarm clears), so whoever
    retries must send the very same message again, never a new one.
    """


class Refused(BrokerUnavailable):
    """RabbitMQ answered the publish with a nack: it did not take the message (a full queue, say)."""


class Unroutable(TransientError):
    """RabbitMQ confirmed the message could not be routed to any queue."""


class Deadlines:
    """Time limits for the publishes in flight, checked together a few times a second.

    `asyncio.timeout` arms a timer on the event loop's heap for every publish and disarms it
    again: at thousands of messages a second that was 3-4 % of the API's CPU. Here a publish
    only notes its task and deadline; one timer, armed while anything is in flight, cancels
    the tasks whose deadline has passed, so a publish gives up at most TICK seconds late.
    The cancellation lands where the task waits, inside the publish: a publish always ends
    (and forgets its deadline) before its task can run anything else.
    """

    TICK = 0.25

    def __init__(self) -> None:
        self._due: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def start(self, task: asyncio.Task[Any], timeout: float) -> None:
        loop = task.get_loop()
        self._due[task] = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_later(self.TICK, self._check, loop)

    def finish(self, task: asyncio.Task[Any]) -> bool:
        """Forget the task's deadline; whether it had passed (and the task was cancelled for it)."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for task, deadline in self._due.items():
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._timer = loop.call_later(self.TICK, self._check, loop) if self._due else None


class Broker:
    """This process's link to RabbitMQ: connect once, publish with confirms, close once."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.connection: AbstractRobustConnection | None = None
        self._channels: list[AbstractChannel] | None = None
        self._turn = itertools.count()
        self._deadlines = Deadlines()

    @property
    def is_connected(self) -> bool:
        """Connected, with the topology declared and the publishing channels open."""
        # A robust connection is not closed while it reconnects; `connected` says if it is up now.
        return self._channels is not None and self.connection is not None and self.connection.connected.is_set()

    async def connect(self) -> None:
        """Open the connection, declare the topology, and prepare the publishing channels."""
        self.connection = await aio_pika.connect_robust(
            self.settings.amqp_url,
            client_properties={"connection_name": self.name},
            timeout=self.settings.publish_timeout,
        )
        channel = await self.connection.channel()
        await topology.declare(channel, self.settings)
        await channel.close()
        # Confirms are matched by delivery tag, so many publishes can wait on one channel at
        # once; a few channels only spread the work. They are robust: reopened after a reconnect.
        self._channels = [await self._open_channel() for _ in range(self.settings.publisher_channels)]
        self.connection.reconnect_callbacks.add(self._reconnected)
        log.info("Connected to RabbitMQ as %s; topology declared.", self.name)

    def _reconnected(self, connection: Any) -> None:
        log.info("Reconnected to RabbitMQ as %s; its channels and consumers are restored.", self.name)

    async def connect_with_retry(self) -> None:
        """Keep trying to connect until RabbitMQ answers, backing off up to 30 s."""
        delay = 1.0
        while True:
            try:
                await self.connect()
                return
            except (TimeoutError, OSError, aiormq.exceptions.AMQPError) as exc:
                log.warning(
                    "RabbitMQ at %s is not answering (%s); retrying in %.0f s. Is the broker running?",
                    _redact(self.settings.amqp_url), exc, delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _open_channel(self) -> AbstractChannel:
        assert self.connection is not None
        return await self.connection.channel(publisher_confirms=True, on_return_raises=True)

    async def publish(
        self, exchange: str, routing_key: str, body: bytes, message_id: str, *, mandatory: bool = True,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish a persistent JSON message and wait for the broker's confirm, or raise."""
        if self._channels is None or not self.is_connected:
            raise BrokerUnavailable("Not connected to RabbitMQ.")
        # pamqp's properties straight away: aio-pika's Message, only to be turned into these,
        # took eight times as long to build.
        properties = aiormq.spec.Basic.Properties(
            content_type="application/json",
            headers=headers,
            delivery_mode=PERSISTENT,
            message_id=message_id,
            timestamp=datetime.now(UTC),
            app_id=self.name,
        )
        timeout = self.settings.publish_timeout
        index = next(self._turn) % len(self._channels)
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        self._deadlines.start(task, timeout)
        try:
            try:
                await self._publish(index, exchange, routing_key, body, properties, mandatory)
            finally:
                expired = self._deadlines.finish(task)
        except asyncio.CancelledError as exc:
            # Ours only if nobody else cancelled the task meanwhile (a client that hung up, a stop).
            if expired and task.uncancel() <= cancelling:
                raise PublishInDoubt(f"RabbitMQ did not confirm within {timeout:.0f} s.") from exc
            raise
        except aiormq.exceptions.PublishError as exc:
            raise Unroutable(f"No queue is bound to {exchange}/{routing_key}.") from exc
        except aiormq.exceptions.DeliveryError as exc:  # a nack
            await self._replace_channel(index)
            raise Refused(f"RabbitMQ refused the message ({exc}); is a queue full?") from exc
        except aiormq.exceptions.ChannelInvalidStateError as exc:  # closed before anything was written
            raise BrokerUnavailable(f"RabbitMQ's channel is closed: {exc!r}") from exc
        except (aiormq.exceptions.AMQPError, OSError) as exc:
            raise PublishInDoubt(f"RabbitMQ dropped the connection before confirming: {exc!r}") from exc

    async def _replace_channel(self, index: int) -> None:
        """Publish on a new channel from now on: a quorum queue may go on refusing the one it nacked."""
        assert self._channels is not None
        old = self._channels[index]
        try:
            self._channels[index] = await asyncio.wait_for(self._open_channel(), self.settings.publish_timeout)
        except (TimeoutError, aiormq.exceptions.AMQPError, OSError) as exc:
            log.warning("Could not open a channel to replace publishing channel %d of %s: %r.", index, self.name, exc)
            return
        log.warning("Publishing channel %d of %s was refused a message; it is replaced by a new channel.",
                    index, self.name)
        with contextlib.suppress(Exception):  # it is dropped either way
            await old.close()

    async def _publish(self, index: int, exchange: str, routing_key: str, body: bytes,
                       properties: aiormq.spec.Basic.Properties, mandatory: bool) -> None:
        """Publish on the channel underneath robust channel `index`, as aio-pika's Exchange.publish does."""
        assert self._channels is not None
        channel = self._channels[index]
        if channel.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError(f"{channel!r} closed")
        underlay = await channel.get_underlay_channel()
        await underlay.basic_publish(body, exchange=exchange, routing_key=routing_key, properties=properties,
                                     mandatory=mandatory)

    async def queue_depth(self, queue: str) -> int:
        """Messages ready in `queue` right now (a passive declare: no management API needed)."""
        if self._channels is None or not self.is_connected:
            raise BrokerUnavailable("Not connected to RabbitMQ.")
        try:
            # Not kept for restoring (robust=False): a kept passive queue would be answered from
            # the cache next time, with a stale count.
            channel = cast(AbstractRobustChannel, self._channels[0])
            declared = await asyncio.wait_for(channel.declare_queue(queue, passive=True, robust=False),
                                              timeout=self.settings.publish_timeout)
        except (TimeoutError, aiormq.exceptions.AMQPError, OSError) as exc:
            raise BrokerUnavailable(f"Could not look at queue {queue}: {exc!r}") from exc
        return int(declared.declaration_result.message_count or 0)

    async def close(self) -> None:
        for channel in self._channels or []:
            await channel.close()
        if self.connection is not None:
            await self.connection.close()
        log.info("Closed the RabbitMQ connection of %s.", self.name)


def _redact(url: str) -> str:
    """The URL without its password, for log lines."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[1]}"
