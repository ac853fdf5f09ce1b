"""The supervisor: keeps each worker pool between its limits, sized by its queue's depth.

Every few seconds it reads each queue's ready and unacknowledged counts and ack rate from
the RabbitMQ management API, asks `autoscale.desired_workers` for the size, and starts or
retires worker processes. Retiring is graceful (SIGTERM: the worker stops consuming,
finishes and acks what it holds, exits); only a worker past its grace period is killed.
A worker that dies on its own is replaced, with back-off if it keeps dying.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import logging as logging_config
from config.settings import Settings
from models.messages import COMMANDS_QUEUE, MAIL_QUEUE
from workers.autoscale import Decision, Limits, Observation, desired_workers, needed
from workers.queues import QueueProbe

log = logging.getLogger(__name__)

MAX_RESTART_DELAY = 30.0
CONFIGURATION_EXIT = 2  # what a worker exits with when its settings or the broker's topology are wrong


def restart_delay(failures: int) -> float:
    """Back-off before replacing a worker that died `failures` times in a row."""
    return min(0.5 * 2 ** (failures - 1), MAX_RESTART_DELAY) if failures > 0 else 0.0


@dataclass
class Worker:
    """One worker process and what the supervisor knows of it."""

    role: str
    process: asyncio.subprocess.Process
    retiring: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Pool:
    """The processes of one role and the history the scaling decision needs."""

    role: str
    queue: str
    limits: Limits
    workers: list[Worker] = field(default_factory=list)
    retiring: list[Worker] = field(default_factory=list)
    failures: int = 0
    last_change: float = 0.0
    last_backlog: float = 0.0
    last_observation: Observation | None = None
    last_decision: Decision | None = None

    @property
    def size(self) -> int:
        return len(self.workers)

    def snapshot(self) -> dict[str, Any]:
        seen = self.last_observation
        return {
            "queue": self.queue,
            "current": self.size,
            "desired": self.last_decision.size if self.last_decision else self.size,
            "minimum": self.limits.minimum,
            "maximum": self.limits.maximum,
            "ready": seen.ready if seen else None,
            "unacked": seen.unacked if seen else None,
            "ack_rate": seen.rate if seen else None,
            "pids": [w.pid for w in self.workers],
            "retiring": [w.pid for w in self.retiring],
            "reason": self.last_decision.reason if self.last_decision else "starting",
        }


def pools_from(settings: Settings, roles: list[str]) -> list[Pool]:
    def limits(low: int, high: int) -> Limits:
        return Limits(minimum=low, maximum=high, backlog_per_worker=settings.scale_backlog_per_worker,
                      drain_target=settings.scale_drain_target, cooldown=settings.scale_cooldown)

    every = {
        "command": Pool("command", COMMANDS_QUEUE,
                        limits(settings.worker_min_processes, settings.worker_max_processes)),
        "notifier": Pool("notifier", MAIL_QUEUE,
                         limits(settings.notifier_min_processes, settings.notifier_max_processes)),
    }
    return [every[role] for role in roles]


class Supervisor:
    """Runs the pools until SIGTERM/SIGINT, then stops every worker gracefully."""

    def __init__(self, settings: Settings, pools: list[Pool]) -> None:
        self.settings = settings
        self.pools = pools
        self.probe = QueueProbe(settings)
        self.stopping = asyncio.Event()
        self.watchers: set[asyncio.Task[None]] = set()
        self.exit_code = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        now = time.monotonic()
        for pool in self.pools:
            pool.last_change = pool.last_backlog = now
            await self._resize(pool, pool.limits.minimum)
        log.info("Supervising %s; polling every %.1f s, cooldown %.0f s.",
                 ", ".join(f"{p.role} pool {p.limits.minimum}..{p.limits.maximum}" for p in self.pools),
                 self.settings.scale_poll_interval, self.settings.scale_cooldown)
        try:
            while not self.stopping.is_set():
                await self._tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=self.settings.scale_poll_interval)
        finally:
            await self._shutdown()
            await self.probe.close()

    async def _tick(self) -> None:
        for pool in self.pools:
            observation = await self.probe.observe(pool.queue)
            now = time.monotonic()
            if observation is None:  # the management API did not answer: keep the size
                continue
            pool.last_observation = observation
            if needed(observation, pool.size, pool.limits) >= pool.size:
                pool.last_backlog = now
            decision = desired_workers(observation, pool.size, pool.limits, pool.last_change,
                                       pool.last_backlog, now)
            pool.last_decision = decision
            if decision.changes(pool.size):
                log.info("Scaling the %s pool from %d to %d: %s.", pool.role, pool.size, decision.size,
                         decision.reason)
                await self._resize(pool, decision.size)
                pool.last_change = now
        self._write_status()

    async def _resize(self, pool: Pool, size: int) -> None:
        while pool.size < size:
            await self._start(pool)
        while pool.size > size:
            self._retire(pool, pool.workers[-1])

    async def _start(self, pool: Pool) -> Worker:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "workers", "run", pool.role)
        worker = Worker(pool.role, process)
        pool.workers.append(worker)
        log.info("Started %s worker pid %d (%d in the pool).", pool.role, worker.pid, pool.size)
        task = asyncio.create_task(self._watch(pool, worker))
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)
        return worker

    def _retire(self, pool: Pool, worker: Worker) -> None:
        pool.workers.remove(worker)
        pool.retiring.append(worker)
        worker.retiring = True
        if worker.process.returncode is None:
            worker.process.send_signal(signal.SIGTERM)
            asyncio.get_running_loop().call_later(self.settings.shutdown_grace + 5, self._kill_late, worker)
        log.info("Retiring %s worker pid %d: it finishes its messages in hand and exits.", pool.role, worker.pid)

    def _kill_late(self, worker: Worker) -> None:
        if worker.process.returncode is None:
            log.warning("%s worker pid %d did not finish within %.0f s of SIGTERM; killing it.",
                        worker.role, worker.pid, self.settings.shutdown_grace + 5)
            worker.process.kill()

    async def _watch(self, pool: Pool, worker: Worker) -> None:
        """Wait for a worker to exit; replace it if it died rather than retired."""
        started = time.monotonic()
        code = await worker.process.wait()
        if worker.retiring:
            pool.retiring.remove(worker)
            log.info("%s worker pid %d exited with code %d after retiring.", pool.role, worker.pid, code)
            return
        pool.workers.remove(worker)
        if code == CONFIGURATION_EXIT:
            log.critical("%s worker pid %d stopped on a configuration error (see its log above); restarting it "
                         "would fail the same way. Fix the configuration; stopping the supervisor.",
                         pool.role, worker.pid)
            self.exit_code = CONFIGURATION_EXIT
            self.stopping.set()
            return
        # A worker that ran a while before dying is not crash-looping: restart the back-off.
        pool.failures = pool.failures + 1 if time.monotonic() - started < 60 else 1
        delay = restart_delay(pool.failures)
        log.warning("%s worker pid %d died with code %d; replacing it in %.1f s. RabbitMQ redelivers what "
                    "it held.", pool.role, worker.pid, code, delay)
        await asyncio.sleep(delay)
        if not self.stopping.is_set() and pool.size < pool.limits.maximum:
            await self._start(pool)

    async def _shutdown(self) -> None:
        log.info("Stopping every worker; each finishes its messages in hand (up to %.0f s).",
                 self.settings.shutdown_grace)
        for pool in self.pools:
            for worker in list(pool.workers):
                self._retire(pool, worker)
        if self.watchers:
            await asyncio.wait(self.watchers, timeout=self.settings.shutdown_grace + 10)
        self._write_status()
        log.info("All workers stopped.")

    def _write_status(self) -> None:
        path = Path(self.settings.status_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"supervisor_pid": os.getpid(), "updated_at": time.time(),
                "stopping": self.stopping.is_set(),
                "pools": {pool.role: pool.snapshot() for pool in self.pools}}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, indent=2))
        os.replace(temporary, path)


def main(settings: Settings, roles: list[str]) -> int:
    logging_config.setup(settings.log_level, "supervisor")
    supervisor = Supervisor(settings, pools_from(settings, roles))
    asyncio.run(supervisor.run())
    return supervisor.exit_code
