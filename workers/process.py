"""The life of one worker process: connect, consume until told to stop, drain, close."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from collections.abc import Callable

import uvloop

from config import logging as logging_config
from config.settings import Settings
from models import db
from models.errors import ConfigurationError
from models.messages import COMMANDS_QUEUE, MAIL_QUEUE
from workers import commands, notifier, relay
from workers.broker import Broker
from workers.consumer import BatchHandler, Consumer

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1

ROLES: dict[str, tuple[str, Callable[[Settings, Broker], BatchHandler]]] = {
    "command": (COMMANDS_QUEUE, commands.make_handler),
    "notifier": (MAIL_QUEUE, lambda settings, broker: notifier.make_handler(settings)),
}


def prefetch_for(role: str, settings: Settings) -> tuple[int, int]:
    """How many unacknowledged messages the role's consumer holds, and how many it takes as one batch."""
    if role == "command":
        return settings.worker_prefetch, settings.worker_batch
    # A mail job holds the e-mails of a whole batch of commands: a few jobs are plenty, and
    # jobs held by one notifier are jobs another cannot take.
    return settings.notifier_prefetch, max(1, settings.notifier_prefetch // 2)


async def serve(role: str, settings: Settings, stop: asyncio.Event) -> None:
    """Run one consumer of `role` until `stop` is set."""
    queue, make_handler = ROLES[role]
    name = f"{role}-worker pid {os.getpid()}"
    await db.connect(settings, plans="per_batch")  # a plan for each batch's arrays of ids
    broker = Broker(settings, name)
    try:
        await broker.connect_with_retry()
        consumer = Consumer(settings, broker, queue, make_handler(settings, broker), *prefetch_for(role, settings))
        if role == "notifier":
            await asyncio.gather(consumer.run(stop), relay.run(settings, broker, stop))
        else:
            await consumer.run(stop)
    finally:
        await broker.close()
        await db.disconnect()


def die_with_parent() -> None:
    """Have Linux send SIGTERM to this process when its parent dies, so no orphan keeps consuming."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main(role: str, settings: Settings) -> int:
    """Entry point of one worker process; returns its exit code."""
    logging_config.setup(settings.log_level, f"{role}[{os.getpid()}]")
    die_with_parent()
    if settings.worker_nice:
        os.nice(settings.worker_nice - os.nice(0))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(role, settings, stop)

    try:
        # uvloop, as the API has through Sanic: the event loop and socket writes in C take a
        # fifth less CPU per message than asyncio's own loop.
        uvloop.run(run())
    except ConfigurationError as exc:
        log.error("Cannot start the %s worker: %s", role, exc)
        return 2
    return 0
