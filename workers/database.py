"""Database helpers shared by the workers: which failures are worth retrying."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from models.errors import PermanentError, TransientError

# What PostgreSQL restarting or being unreachable looks like through asyncpg and Tortoise.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    DBConnectionError, OSError,
    asyncpg.exceptions.PostgresConnectionError,  # includes CannotConnectNowError (starting up)
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, admin shutdown
    asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError,
)
# Serialisation failure, deadlock, lock not available, shutdown, too many connections.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


def is_database_down(exc: BaseException) -> bool:
    """Whether `exc` (or what Tortoise wrapped in it) means PostgreSQL is away for now."""
    cause = exc.__cause__ if isinstance(exc, OperationalError) and exc.__cause__ else exc
    return isinstance(cause, DATABASE_DOWN) or getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES


@contextmanager
def transient_db_errors() -> Iterator[None]:
    """Turn a lost connection, deadlock or serialisation failure into a TransientError,
    and data PostgreSQL can never store into a PermanentError."""
    try:
        yield
    except (OperationalError, TransactionManagementError, *DATABASE_DOWN, asyncpg.PostgresError) as exc:
        cause = exc.__cause__ if isinstance(exc, OperationalError) and exc.__cause__ else exc
        if is_database_down(exc) or isinstance(exc, TransactionManagementError):
            raise TransientError(f"PostgreSQL is unavailable or asked us to retry: {cause!r}") from exc
        if isinstance(cause, asyncpg.exceptions.DataError):
            raise PermanentError(f"PostgreSQL cannot store this message's data: {cause}") from exc
        raise
