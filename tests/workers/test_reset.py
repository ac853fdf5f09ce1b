"""`make reset` checks that nothing uses the queues or the database before it deletes either."""

from __future__ import annotations

import pytest

from config.settings import Settings
from workers import reset


def record_steps(monkeypatch: pytest.MonkeyPatch, database_busy: bool) -> list[str]:
    """Replace the reset's steps by ones that write down what they would do."""
    steps: list[str] = []

    async def queues(settings: Settings, *, dry_run: bool = False) -> None:
        steps.append("checked queues" if dry_run else "deleted queues")

    async def database_in_use(settings: Settings) -> None:
        if database_busy:
            raise RuntimeError("2 connection(s) still use database activations; stop the service first.")
        steps.append("checked database")

    async def drop(settings: Settings) -> None:
        steps.append("dropped database")

    monkeypatch.setattr(reset, "delete_queues", queues)
    monkeypatch.setattr(reset, "database_in_use", database_in_use)
    monkeypatch.setattr(reset, "drop_database", drop)
    return steps


async def test_a_database_still_in_use_stops_the_reset_before_any_queue_is_deleted(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = record_steps(monkeypatch, database_busy=True)

    assert await reset.reset(Settings()) == 1
    assert steps == ["checked queues"]


async def test_an_idle_service_loses_its_queues_then_its_database(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = record_steps(monkeypatch, database_busy=False)

    assert await reset.reset(Settings()) == 0
    assert steps == ["checked queues", "checked database", "deleted queues", "dropped database"]
