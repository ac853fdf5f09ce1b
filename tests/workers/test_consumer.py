"""How a consumer settles a batch whose handler failed, without RabbitMQ: messages are stand-ins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import aiormq
import pytest

from config.settings import Settings
from models.errors import PermanentError, TransientError
from workers.consumer import Consumer, Outcomes


class Message:
    """Just what the consumer reads of an incoming message."""

    def __init__(self, body: bytes, channel: object = None) -> None:
        self.body, self._channel = body, channel
        self.acks: list[bool] = []
        self.message_id = body.decode()

    @property
    def channel(self) -> object:
        if self._channel is None:
            raise aiormq.exceptions.ChannelInvalidStateError("closed")
        return self._channel

    async def ack(self, multiple: bool = False) -> None:
        self.acks.append(multiple)


def consumer(handler: Any) -> Consumer:
    """A consumer that takes each batch as soon as a message is there (no batch window)."""
    return Consumer(Settings(batch_window=0), cast(Any, None), "q", handler, prefetch=10, batch_size=5)


async def test_a_batch_broken_by_one_message_is_tried_message_by_message_so_only_that_one_fails() -> None:
    calls: list[list[bytes]] = []

    async def handler(bodies: list[bytes]) -> Outcomes:
        calls.append(bodies)
        if b"poison" in bodies:
            raise PermanentError("PostgreSQL cannot store this message's data")
        return [None] * len(bodies)

    messages = [Message(b"a"), Message(b"poison"), Message(b"b")]
    outcomes = await consumer(handler)._run(cast(Any, messages))
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], PermanentError)
    assert calls == [[b"a", b"poison", b"b"], [b"a"], [b"poison"], [b"b"]]


async def test_an_outage_is_every_message_s_failure_and_the_batch_stays_whole() -> None:
    calls: list[list[bytes]] = []

    async def handler(bodies: list[bytes]) -> Outcomes:
        calls.append(bodies)
        raise TransientError("PostgreSQL is unavailable")

    outcomes = await consumer(handler)._run(cast(Any, [Message(b"a"), Message(b"b")]))
    assert all(isinstance(o, TransientError) for o in outcomes)
    assert calls == [[b"a", b"b"]]


@pytest.mark.parametrize("channels", [("c", "c", "c"), ("c", None, "c")])
async def test_a_done_batch_is_acked_at_once_only_on_its_one_open_channel(channels: tuple[Any, ...]) -> None:
    messages = [Message(str(i).encode(), channel) for i, channel in enumerate(channels)]
    await consumer(None)._ack(cast(Any, messages), every_one_done=True)
    if None in channels:  # a channel closed under the batch: each ack on its own (failing quietly there)
        assert [m.acks for m in messages] == [[False], [False], [False]]
    else:
        assert [m.acks for m in messages] == [[], [], [True]]


class Unsettleable(Message):
    @property
    def channel(self) -> object:
        raise RuntimeError("the channel went away in a way nobody foresaw")


async def test_the_consumer_outlives_a_batch_it_could_not_settle() -> None:
    handled: list[bytes] = []

    async def handler(bodies: list[bytes]) -> Outcomes:
        handled.extend(bodies)
        return [None] * len(bodies)

    stop = asyncio.Event()
    worker = consumer(handler)
    work = asyncio.create_task(worker._work(stop))
    await worker._on_message(cast(Any, Unsettleable(b"first", "c")))
    await asyncio.sleep(0.01)
    later = Message(b"second", "c")
    await worker._on_message(cast(Any, later))
    await asyncio.sleep(0.01)
    stop.set()
    await worker._on_message(cast(Any, Message(b"after the stop", "c")))
    await asyncio.wait_for(work, 1)
    assert handled == [b"first", b"second"] and later.acks == [True]


@contextlib.asynccontextmanager
async def working(window: float) -> AsyncIterator[tuple[Consumer, list[list[bytes]]]]:
    """A consumer of batches of up to three with `window`, working, and the batches it handled."""
    batches: list[list[bytes]] = []

    async def handler(bodies: list[bytes]) -> Outcomes:
        batches.append(bodies)
        return [None] * len(bodies)

    worker = Consumer(Settings(batch_window=window), cast(Any, None), "q", handler, prefetch=10, batch_size=3)
    stop = asyncio.Event()
    work = asyncio.create_task(worker._work(stop))
    try:
        yield worker, batches
    finally:
        stop.set()
        worker._arrived.set()
        worker._full.set()
        await asyncio.wait_for(work, 1)


async def test_a_batch_that_is_not_full_gathers_for_the_batch_window_and_a_full_one_goes_at_once() -> None:
    async with working(1.0) as (quiet, batches):
        await quiet._on_message(cast(Any, Message(b"a", "c")))
        await asyncio.sleep(0.05)
        await quiet._on_message(cast(Any, Message(b"b", "c")))
        await asyncio.sleep(0.05)
        assert batches == []  # still gathering
        await quiet._on_message(cast(Any, Message(b"c", "c")))  # the batch is full: it goes now
        await asyncio.sleep(0.02)
        assert batches == [[b"a", b"b", b"c"]]
        await quiet._on_message(cast(Any, Message(b"d", "c")))
        await asyncio.sleep(0.1)
        assert len(batches) == 1
        await asyncio.sleep(1.0)  # the window has passed: it goes alone
        assert batches == [[b"a", b"b", b"c"], [b"d"]]


async def test_with_no_batch_window_a_message_goes_at_once() -> None:
    async with working(0) as (eager, batches):
        await eager._on_message(cast(Any, Message(b"a", "c")))
        await asyncio.sleep(0.02)
        assert batches == [[b"a"]]


class ClosedWithTheConnection:
    """A channel and its queue as RabbitMQ left them when it restarted: every call fails."""

    def __init__(self) -> None:
        self.consumers: list[Any] = []

    async def set_qos(self, prefetch_count: int) -> None:
        pass

    async def declare_queue(self, *args: Any, **kwargs: Any) -> ClosedWithTheConnection:
        return self

    async def consume(self, callback: Any) -> str:
        self.consumers.append(callback)
        return "tag"

    async def cancel(self, tag: str) -> None:
        raise aiormq.exceptions.ChannelInvalidStateError("<Channel: 5> closed")

    async def close(self) -> None:
        raise aiormq.exceptions.ChannelInvalidStateError("<Channel: 5> closed")


async def test_a_consumer_told_to_stop_while_its_channel_is_gone_stops_cleanly() -> None:
    channel = ClosedWithTheConnection()

    async def open_channel() -> ClosedWithTheConnection:
        return channel

    broker = type("Broker", (), {"connection": type("Connection", (), {"channel": staticmethod(open_channel)})()})()
    worker = Consumer(Settings(batch_window=0), cast(Any, broker), "activations.commands.request",
                      cast(Any, None), prefetch=10, batch_size=3)
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(worker.run(stop), 2)  # no ChannelInvalidStateError: a retiring worker exits 0
    assert len(channel.consumers) == 1
