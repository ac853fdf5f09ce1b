"""`make reset` checks that nothing uses the queues or the database before it deletes either."""

from __future__ import annotations

import pytest

from config.settings import Settings
from workers import reset


async def test_a_database_still_in_use_stops_the_reset_before_any_queue_is_deleted(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    deleted: list[str] = []

    async def queues(settings: Settings, *, dry_run: bool = False) -> None:
        if not dry_run:
            deleted.append("queues")

    async def database_in_use(settings: Settings) -> None:
        raise RuntimeError("2 connection(s) still use database activations; stop the service first.")

    async def drop(settings: Settings) -> None:
        deleted.append("database")

    monkeypatch.setattr(reset, "delete_queues", queues)
    monkeypatch.setattr(reset, "database_in_use", database_in_use)
    monkeypatch.setattr(reset, "drop_database", drop)

    assert await reset.reset(Settings()) == 1
    assert deleted == []


async def test_an_idle_service_loses_its_queues_then_its_database(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []

    async def queues(settings: Settings, *, dry_run: bool = False) -> None:
        done.append("checked queues" if dry_run else "deleted queues")

    async def database_in_use(settings: Settings) -> None:
        done.append("checked database")

    async def drop(settings: Settings) -> None:
        done.append("dropped database")

    monkeypatch.setattr(reset, "delete_queues", queues)
    monkeypatch.setattr(reset, "database_in_use", database_in_use)
    monkeypatch.setattr(reset, "drop_database", drop)

    assert await reset.reset(Settings()) == 0
    assert done == ["checked queues", "checked database", "deleted queues", "dropped database"]
