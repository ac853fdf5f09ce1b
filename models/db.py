"""Database wiring: the Tortoise configuration (also read by aerich) and its lifecycle."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from config.settings import Settings, load

MODEL_MODULES = ["models.entities", "aerich.models"]


async def reset_connection(connection: Any) -> None:
    """Nothing more to undo when a connection goes back to the pool.

    asyncpg always rolls back a transaction left open and drops listeners first; its default
    reset then also releases advisory locks, closes cursors and resets session settings, in
    one more round trip per query. This service uses none of those.
    """


def tortoise_config(settings: Settings, pool_size: int | None = None, *, fresh_plans: bool = False) -> dict[str, Any]:
    """The Tortoise configuration for `settings`, with a bounded connection pool.

    `fresh_plans`: plan every query for the values it is run with, instead of preparing it
    once per connection. For the workers' few queries a batch, each over arrays of a hundred
    ids: PostgreSQL switches a prepared query to one generic plan after five runs, and a plan
    chosen while a table was nearly empty (a sequential scan, a hash join over the whole
    table) stays until the next ANALYZE, costing more with every row the table gains. Seen
    in a drain on a new database: 32 ms instead of 2 ms a batch for one query, PostgreSQL's
    CPU per message 0.67 ms instead of 0.29. Planning each time costs a few tenths of a
    millisecond a batch.
    """
    size = pool_size or settings.db_pool_size
    url = settings.database_url
    parts = urlsplit(url)
    query = f"minsize=1&maxsize={size}"
    url = urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))
    connection = expand_db_url(url)
    connection["credentials"]["reset"] = reset_connection
    if fresh_plans:
        # No named prepared statements: asyncpg then sends each query unnamed, planned at once
        # with its parameters (PostgreSQL plans foreign-key checks as before).
        connection["credentials"]["statement_cache_size"] = 0
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def connect(settings: Settings, pool_size: int | None = None, *, fresh_plans: bool = False) -> None:
    """Open this process's connection pool (call from a start-up hook, never at import)."""
    await Tortoise.init(config=tortoise_config(settings, pool_size, fresh_plans=fresh_plans),
                        _enable_global_fallback=True)


async def disconnect() -> None:
    """Close this process's connection pool."""
    await Tortoise.close_connections()


def __getattr__(name: str) -> Any:
    # aerich reads TORTOISE_ORM; build it lazily so importing this module reads no environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(load())
    raise AttributeError(name)
