"""A fixed-size pool of worker processes per role, restarted with back-off when they die."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field

from config import logging as logging_config
from config.settings import Settings

log = logging.getLogger(__name__)

MAX_RESTART_DELAY = 30.0


@dataclass
class Slot:
    """One place in the pool and the process currently holding it."""

    role: str
    index: int
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def pool_sizes(settings: Settings, roles: list[str]) -> dict[str, int]:
    sizes = {"command": settings.worker_processes, "notifier": settings.notifier_processes}
    return {role: sizes[role] for role in roles}


def restart_delay(restarts: int) -> float:
    """Back-off before restarting a process that died `restarts` times in a row."""
    return min(0.5 * 2 ** max(restarts - 1, 0), MAX_RESTART_DELAY) if restarts else 0.0


async def _keep_alive(slot: Slot, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        await asyncio.sleep(restart_delay(slot.restarts))
        if stopping.is_set():
            return
        slot.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers", "run", slot.role
        )
        log.info("Started %s worker %d as pid %d.", slot.role, slot.index, slot.process.pid)
        started = asyncio.get_running_loop().time()
        code = await slot.process.wait()
        if stopping.is_set():
            log.info("%s worker %d (pid %d) exited with code %d.", slot.role, slot.index, slot.process.pid, code)
            return
        # A process that ran for a while before dying is not crash-looping: reset the back-off.
        ran = asyncio.get_running_loop().time() - started
        slot.restarts = 1 if ran > 60 else slot.restarts + 1
        log.warning("%s worker %d (pid %d) died with code %d after %.0f s; restarting in %.1f s.",
                    slot.role, slot.index, slot.process.pid, code, ran, restart_delay(slot.restarts))


async def run_pool(settings: Settings, roles: list[str]) -> None:
    """Keep each role's processes running until SIGTERM or SIGINT, then stop them gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    slots = [Slot(role, i) for role, size in pool_sizes(settings, roles).items() for i in range(size)]
    log.info("Starting the worker pool: %s.", ", ".join(f"{n} {r}" for r, n in pool_sizes(settings, roles).items()))
    keepers = [asyncio.create_task(_keep_alive(slot, stopping)) for slot in slots]
    await stopping.wait()
    log.info("Stopping the worker pool; each worker finishes its messages in hand (up to %.0f s).",
             settings.shutdown_grace)
    live = [s.process for s in slots if s.process is not None and s.process.returncode is None]
    for process in live:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in live)), timeout=settings.shutdown_grace + 5)
    except TimeoutError:
        for process in live:
            if process.returncode is None:
                log.warning("Worker pid %d did not stop in time; killing it.", process.pid)
                process.kill()
    await asyncio.gather(*keepers, return_exceptions=True)
    log.info("Worker pool stopped.")


def main(settings: Settings, roles: list[str]) -> int:
    logging_config.setup(settings.log_level, "pool")
    asyncio.run(run_pool(settings, roles))
    return 0
