"""Database wiring: the Tortoise configuration (also read by aerich) and its lifecycle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

from config.settings import Settings, load

MODEL_MODULES = ["models.entities", "aerich.models"]

Plans = Literal["cached", "split", "per_batch"]

# The API's second pool (see `tortoise_config`): sessions that plan every query for its values.
PLANNED_PER_VALUE = "planned_per_value"


async def reset_connection(connection: Any) -> None:
    """Nothing more to undo when a connection goes back to the pool.

    asyncpg always rolls back a transaction left open and drops listeners first; its default
    reset then also releases advisory locks, closes cursors and resets session settings, in
    one more round trip per query. This service uses none of those.
    """


def tortoise_config(settings: Settings, pool_size: int | None = None, *, plans: Plans = "cached") -> dict[str, Any]:
    """The Tortoise configuration for `settings`, with bounded connection pools.

    `plans`: how PostgreSQL plans this process's queries. "cached" (aerich, scripts): as it
    likes. PostgreSQL switches a prepared query to one generic plan after five runs, and a
    plan chosen while a table was nearly empty (a sequential scan inside a nested loop, a
    hash join over the whole table) stays until the next ANALYZE, costing more with every
    row the table gains: seen in a load test on a new database, the API's pending check at
    54 ms instead of 0.5, and a worker's batch query at 32 ms instead of 2. So:

    - "split" (the API): two pools. Connection `PLANNED_PER_VALUE` (a quarter of
      `pool_size`, at least one) plans every run of a query for its values
      (`plan_cache_mode=force_custom_plan`), for the reads whose best plan depends on them:
      how many pairs a pending check holds, which status and how far into a list a page
      is. The default connection keeps PostgreSQL's plan cache for the lookups by key,
      whose plan is the same whatever the values: planned for each run too, they spent
      three times as long being planned as being run.
    - "per_batch" (the workers): no named prepared statements; asyncpg sends each query
      unnamed, planned at once with its parameters. Foreign-key checks keep their cached
      plans (forcing custom plans on those too made each inserted row plan its checks).
    """
    size = pool_size or settings.db_pool_size
    connections: dict[str, Any] = {}
    if plans == "split":
        per_value = max(1, size // 4)
        connections["default"] = _connection(settings, max(1, size - per_value))
        connections[PLANNED_PER_VALUE] = _connection(settings, per_value)
        connections[PLANNED_PER_VALUE]["credentials"]["server_settings"] = {"plan_cache_mode": "force_custom_plan"}
    else:
        connections["default"] = _connection(settings, size)
        if plans == "per_batch":
            connections["default"]["credentials"]["statement_cache_size"] = 0
    return {
        "connections": connections,
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(settings: Settings, size: int) -> dict[str, Any]:
    """One pool's Tortoise connection settings: DATABASE_URL with up to `size` connections."""
    parts = urlsplit(settings.database_url)
    query = f"minsize=1&maxsize={size}"
    connection = expand_db_url(urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query)))
    connection["credentials"]["reset"] = reset_connection
    return connection


async def connect(settings: Settings, pool_size: int | None = None, *, plans: Plans = "cached") -> None:
    """Open this process's connection pool (call from a start-up hook, never at import)."""
    await Tortoise.init(config=tortoise_config(settings, pool_size, plans=plans), _enable_global_fallback=True)


@contextlib.asynccontextmanager
async def transaction(connection_name: str = "default") -> AsyncIterator[BaseDBAsyncClient]:
    """Tortoise's `in_transaction`, safe when BEGIN fails (a connection PostgreSQL dropped).

    Tortoise acquires the connection and makes it the task's current one before it sends
    BEGIN, and undoes both only on leaving the block: when BEGIN fails the block is never
    entered, so the pool keeps one connection fewer and every later transaction of the task
    (a worker's consumer runs all its batches in one) nests inside the dead one and fails,
    for good. Here a failed BEGIN hands the connection back and forgets it.
    """
    context = in_transaction(connection_name)
    try:
        client = await context.__aenter__()
    except BaseException:
        token = getattr(context, "token", None)
        if token is not None:  # acquired and made current, then BEGIN failed
            client = context.client
            with contextlib.suppress(Exception):  # a dead connection is closed by the pool
                await client._parent._pool.release(client._connection)
            get_connections().reset(token)
        raise
    try:
        yield client
    except BaseException as exc:
        await context.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        await context.__aexit__(None, None, None)


async def disconnect() -> None:
    """Close this process's connection pool."""
    await Tortoise.close_connections()


def __getattr__(name: str) -> Any:
    # aerich reads TORTOISE_ORM; build it lazily so importing this module reads no environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(load())
    raise AttributeError(name)
