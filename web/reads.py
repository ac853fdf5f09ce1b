"""The API's hot reads as plain SQL on the shared pool: one round trip each, no model objects.

Tortoise builds a model object per row and wraps each query in its own layers; for the few
reads the API does on every call, asyncpg's prepared statements and records do the same
work for a fraction of the CPU. Failures are asyncpg's own exceptions, which the error
handler already turns into 503 `database_unavailable` when PostgreSQL is away.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from tortoise import Tortoise

from models.db import PLANNED_PER_VALUE
from models.queries import PENDING_PAIRS


async def fetch(sql: str, *args: Any, pool: str = "default") -> list[asyncpg.Record]:
    """The rows of `sql`; `pool=PLANNED_PER_VALUE` for a read whose best plan depends on its values."""
    async with Tortoise.get_connection(pool).acquire_connection() as connection:
        return await connection.fetch(sql, *args)  # type: ignore[no-any-return]


async def fetchval(sql: str, *args: Any, pool: str = "default") -> Any:
    async with Tortoise.get_connection(pool).acquire_connection() as connection:
        return await connection.fetchval(sql, *args)


async def company_rows() -> list[tuple[str, str]]:
    """Every company as (cnpj, name), in the order `GET /companies` lists them."""
    return [(r["cnpj"], r["name"]) for r in await fetch("SELECT cnpj, name FROM companies ORDER BY name, cnpj")]


# The activation (columns null when it was never created) beside each event of its history,
# oldest first: one row with null event columns when there is no history.
_ACTIVATION_WITH_HISTORY = """
SELECT a.id, a.status, a.requester_id, a.company_id, a.decided_by_id, a.reason, a.created_at, a.updated_at,
       e.command, e.command_id, e.outcome, e.actor_cpf, e.company_cnpj, e.from_status, e.to_status,
       e.reason_code, e.message, e.issued_at, e.created_at AS event_created_at
FROM (SELECT $1::uuid AS id) AS wanted
LEFT JOIN activations AS a ON a.id = wanted.id
LEFT JOIN activation_events AS e ON e.activation_id = wanted.id
ORDER BY e.id
"""


async def activation_with_history(activation_id: uuid.UUID) -> tuple[asyncpg.Record | None, list[asyncpg.Record]]:
    """An activation (None if it was never created) and its history, in one round trip."""
    rows = await fetch(_ACTIVATION_WITH_HISTORY, activation_id)
    activation = rows[0] if rows[0]["id"] is not None else None
    return activation, [r for r in rows if r["command_id"] is not None]


_ACTIVATION_COLUMNS = "id, status, requester_id, company_id, decided_by_id, reason, created_at, updated_at"


def _where(filters: dict[str, str]) -> str:
    """`column = $n AND ...` for `filters` (column: value; the columns are the code's, never the caller's)."""
    return " AND ".join(f"{column} = ${n}" for n, column in enumerate(filters, start=1)) or "TRUE"


async def activation_page(filters: dict[str, str], page: int, per_page: int) -> tuple[list[asyncpg.Record], int]:
    """One page of the activations matching `filters`, newest first, and how many match in all.

    The page is read in index order (see the indexes of `Activation`). Counting every match
    is the costly part (a super-user's pending list can match 100,000 rows), so PostgreSQL
    counts only when the page cannot tell: a page with rows that is not full is the last
    one. One round trip, but for a page past the end, which needs a second for the total.
    """
    where, args = _where(filters), list(filters.values())
    n = len(args)
    offset = (page - 1) * per_page
    rows = await fetch(
        f"WITH page AS (SELECT {_ACTIVATION_COLUMNS} FROM activations WHERE {where} "
        f"              ORDER BY created_at DESC, id DESC LIMIT ${n + 1} OFFSET ${n + 2}) "
        f"SELECT page.*, CASE WHEN (SELECT count(*) FROM page) = ${n + 1} "
        f"                    THEN (SELECT count(*) FROM activations WHERE {where}) END AS total "
        f"FROM page ORDER BY created_at DESC, id DESC",
        *args, per_page, offset, pool=PLANNED_PER_VALUE)
    if rows:
        total = rows[0]["total"]
        return rows, offset + len(rows) if total is None else int(total)
    if offset == 0:
        return rows, 0
    return rows, int(await fetchval(f"SELECT count(*) FROM activations WHERE {where}", *args, pool=PLANNED_PER_VALUE))


async def pending_pairs(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (cpf, cnpj) pairs among `pairs` have a pending activation, in one query."""
    rows = await fetch(PENDING_PAIRS, [cpf for cpf, _ in pairs], [cnpj for _, cnpj in pairs], pool=PLANNED_PER_VALUE)
    return {(r["requester_id"], r["company_id"]) for r in rows}


# What a cancel, approve or refuse is checked against, from one snapshot: the worker commits
# an activation with its first event, so "no activation but a history" means rejected.
_ACTIVATION_FOR_COMMAND = """
SELECT a.requester_id, a.status,
       CASE WHEN a.id IS NULL THEN EXISTS (SELECT 1 FROM activation_events WHERE activation_id = wanted.id)
       END AS rejected
FROM (SELECT $1::uuid AS id) AS wanted
LEFT JOIN activations AS a ON a.id = wanted.id
"""


async def activation_for_command(activation_id: uuid.UUID) -> asyncpg.Record:
    """`requester_id` and `status` (null when never created), and `rejected` (its request was)."""
    return (await fetch(_ACTIVATION_FOR_COMMAND, activation_id))[0]
