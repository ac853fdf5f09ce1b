"""The supervisor sizes the command pool by queue depth, and no command is lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from loadtest.backlog import ids, publish_all, spread_requests
from loadtest.stack import Stack
from models.messages import Command

pytestmark = pytest.mark.integration

MAXIMUM = 3
COOLDOWN = 4.0


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(Settings.from_env(), Path(tmp_path_factory.mktemp("scaled")), overrides={
        "WORKER_MIN_PROCESSES": "1", "WORKER_MAX_PROCESSES": str(MAXIMUM),
        "NOTIFIER_MIN_PROCESSES": "1", "NOTIFIER_MAX_PROCESSES": "2",
        "SCALE_POLL_INTERVAL": "0.5", "SCALE_COOLDOWN": str(COOLDOWN), "SCALE_BACKLOG_PER_WORKER": "50",
        "SHUTDOWN_GRACE": "10",
        # Small batches, so a backlog lasts long enough on a fast machine for the pool to grow.
        "WORKER_BATCH": "5", "WORKER_PREFETCH": "10",
    }, seed_args=("--companies", "30", "--per-company", "20", "--superusers", "2"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def status(stack: Stack) -> dict[str, Any]:
    return json.loads((stack.root / "supervisor.json").read_text())["pools"]["command"]  # type: ignore[no-any-return]


class SizeRecorder(threading.Thread):
    """Samples the command pool's size from the supervisor's status file in the background."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.sizes, self.done = stack, [], threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.sizes.append(status(self.stack)["current"])
            time.sleep(0.2)


def settle(stack: Stack, commands: list[Command], timeout: float = 180) -> int:
    """Wait until every command has its event; return how many events they have."""
    wanted = ids(commands)
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        rows = asyncio.run(stack.query(
            "SELECT count(*) AS n FROM activation_events WHERE command_id = ANY($1::uuid[])", wanted))
        count = int(rows[0]["n"])
        if count >= len(wanted):
            break
        time.sleep(0.5)
    return count


def wait_for_size(stack: Stack, size: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):  # the supervisor may not have written it yet
            now = status(stack)
            if now["current"] == size and not now["retiring"]:
                return True
        time.sleep(0.2)
    return False


def assert_books_balance(stack: Stack, commands: list[Command]) -> None:
    wanted = ids(commands)
    rows = asyncio.run(stack.query(
        "SELECT count(*) AS events, count(DISTINCT command_id) AS commands, "
        "count(*) FILTER (WHERE outcome = 'applied') AS applied "
        "FROM activation_events WHERE command_id = ANY($1::uuid[])", wanted))
    assert rows[0]["events"] == rows[0]["commands"] == len(wanted)
    mails = asyncio.run(stack.query(
        "SELECT count(*) AS n FROM notifications n JOIN activation_events e ON e.id = n.event_id "
        "WHERE e.command_id = ANY($1::uuid[])", wanted))
    assert mails[0]["n"] == rows[0]["applied"]


def dead_letters(stack: Stack) -> int:
    import httpx

    from loadtest.stack import quote_vhost
    answer = httpx.get(f"{stack.management_base}/api/queues/{quote_vhost(stack.vhost)}/activations.commands.dead",
                       auth=stack.management_auth, timeout=10)
    return int(answer.json().get("messages") or 0)


def test_a_backlog_grows_the_pool_to_its_maximum_and_the_pool_shrinks_back_after_the_cooldown(
    scaled: Stack,
) -> None:
    assert wait_for_size(scaled, 1, 30)
    # Large enough that one worker needs far longer than the management API's statistics lag
    # (5 s by default) plus the supervisor's reaction: the pool must grow while work waits.
    commands = spread_requests(scaled.users, 8000, seed=1)
    recorder = SizeRecorder(scaled)
    recorder.start()
    asyncio.run(publish_all(scaled.amqp_url, commands))
    assert settle(scaled, commands) == len(commands)
    recorder.done.set()
    assert max(recorder.sizes) == MAXIMUM, recorder.sizes
    assert_books_balance(scaled, commands)
    assert wait_for_size(scaled, 1, COOLDOWN + 30), status(scaled)


def test_a_worker_killed_mid_backlog_is_replaced_and_every_command_still_ends_as_one_event(scaled: Stack) -> None:
    commands = spread_requests(scaled.users, 8000, seed=2)
    asyncio.run(publish_all(scaled.amqp_url, commands))
    deadline = time.monotonic() + 30
    while len(status(scaled)["pids"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    victim = status(scaled)["pids"][0]
    os.kill(victim, signal.SIGKILL)
    assert settle(scaled, commands) == len(commands)
    deadline = time.monotonic() + 30  # the supervisor notices at its next poll
    while victim in status(scaled)["pids"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim not in status(scaled)["pids"]
    assert_books_balance(scaled, commands)
    assert dead_letters(scaled) == 0


def test_stopping_a_worker_with_full_prefetch_buffers_loses_nothing(scaled: Stack) -> None:
    commands = spread_requests(scaled.users, 2000, seed=3)
    asyncio.run(publish_all(scaled.amqp_url, commands))
    time.sleep(1.0)  # let the workers fill their prefetch buffers
    for pid in status(scaled)["pids"]:
        os.kill(pid, signal.SIGTERM)  # the same graceful path as a scale-down
    assert settle(scaled, commands) == len(commands)
    assert_books_balance(scaled, commands)
    assert dead_letters(scaled) == 0
