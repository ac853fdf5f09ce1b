"""The API's two connection pools: lookups by key keep PostgreSQL's plan cache; lists and
pending checks are planned for their values."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

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
