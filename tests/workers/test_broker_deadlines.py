"""A publish that RabbitMQ never confirms gives up after PUBLISH_TIMEOUT, and only that publish."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from config.settings import Settings
from workers.broker import Broker, Deadlines, PublishInDoubt

TIMEOUT = 0.3


class FakeBroker(Broker):
    """A broker whose publishes take `delay` seconds (forever by default) instead of reaching RabbitMQ."""

    is_connected = True  # type: ignore[assignment]

    def __init__(self, delay: float = 3600.0) -> None:
        super().__init__(Settings(publish_timeout=TIMEOUT), "test")
        self._channels = [None]  # type: ignore[list-item]
        self.delay = delay

    async def _publish(self, *args: Any) -> None:
        await asyncio.sleep(self.delay)


async def test_an_unconfirmed_publish_is_in_doubt_once_its_time_is_up() -> None:
    started = time.monotonic()
    with pytest.raises(PublishInDoubt, match="did not confirm within"):
        await FakeBroker().publish("x", "y", b"{}", "id")

    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + Deadlines.TICK + 0.5


async def test_a_confirmed_publish_leaves_nothing_behind_that_could_cancel_its_task_later() -> None:
    await FakeBroker(delay=0.01).publish("x", "y", b"{}", "id")

    await asyncio.sleep(TIMEOUT + 2 * Deadlines.TICK)  # past where its deadline was: still running


async def test_many_publishes_at_once_each_keep_their_own_deadline() -> None:
    slow, quick = FakeBroker(), FakeBroker(delay=0.05)
    results = await asyncio.gather(*(slow.publish("x", "y", b"{}", str(n)) for n in range(20)),
                                   *(quick.publish("x", "y", b"{}", str(n)) for n in range(20)),
                                   return_exceptions=True)

    assert all(isinstance(r, PublishInDoubt) for r in results[:20])
    assert results[20:] == [None] * 20


async def test_a_task_cancelled_by_someone_else_stays_cancelled() -> None:
    publishing = asyncio.ensure_future(FakeBroker().publish("x", "y", b"{}", "id"))
    await asyncio.sleep(0.05)
    publishing.cancel()  # a client that hung up, a server stopping

    with pytest.raises(asyncio.CancelledError):
        await publishing
