"""The API's two connection pools: lookups by key keep PostgreSQL's plan cache; lists and
pending checks are planned for their values."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import TransactionWrapper

from config.settings import Settings
from loadtest.stack import Stack
from models import db

pytestmark = pytest.mark.integration


async def plan_mode(pool: str) -> str:
    async with Tortoise.get_connection(pool).acquire_connection() as connection:
        return str(await connection.fetchval("SHOW plan_cache_mode"))


async def test_the_api_pools_share_its_connections_and_plan_as_their_reads_need(stack: Stack) -> None:
    await db.connect(Settings.from_env(stack.env), pool_size=8, plans="split")
    try:
        assert await plan_mode("default") == "auto"
        assert await plan_mode(db.PLANNED_PER_VALUE) == "force_custom_plan"
        config = db.tortoise_config(Settings.from_env(stack.env), 8, plans="split")
        sizes = [int(c["credentials"]["maxsize"]) for c in config["connections"].values()]
        assert sorted(sizes) == [2, 6]  # a quarter planned per value; 8 in all
    finally:
        await db.disconnect()


def test_a_pool_of_one_still_gives_each_kind_of_read_a_connection() -> None:
    config = db.tortoise_config(Settings(), 1, plans="split")
    assert [int(c["credentials"]["maxsize"]) for c in config["connections"].values()] == [1, 1]


async def backend_pid(connection: Any) -> int:
    return int((await connection.execute_query_dict("SELECT pg_backend_pid() AS pid"))[0]["pid"])


async def test_after_postgresql_dropped_a_connection_the_next_transactions_work(stack: Stack) -> None:
    await db.connect(Settings.from_env(stack.env), pool_size=1, plans="per_batch")
    try:
        async with db.transaction() as connection:
            pid = await backend_pid(connection)
        await stack.query("SELECT pg_terminate_backend($1)", pid)  # the pool's only connection
        # The first may fail (if asyncpg has not noticed yet) or get a new connection.
        with contextlib.suppress(Exception):
            async with db.transaction() as connection:
                await backend_pid(connection)
        for _ in range(3):
            async with db.transaction() as connection:
                assert await backend_pid(connection) != pid
    finally:
        await db.disconnect()


async def test_a_begin_that_fails_leaves_neither_its_connection_taken_nor_its_transaction_current(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a BEGIN on a connection PostgreSQL dropped a moment ago does, made certain."""
    await db.connect(Settings.from_env(stack.env), pool_size=1, plans="per_batch")
    try:
        async def dropped(self: Any) -> None:
            raise ConnectionResetError("the connection was dropped")

        with monkeypatch.context() as patch:
            patch.setattr(TransactionWrapper, "begin", dropped)
            with pytest.raises(ConnectionResetError):
                async with db.transaction():
                    pass
        # Same task, pool of one: the connection is back (no wait) and no dead transaction is current.
        for _ in range(3):
            async with asyncio.timeout(5), db.transaction() as connection:
                assert await connection.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await db.disconnect()
