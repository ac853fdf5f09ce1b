"""Database helpers shared by the workers: which failures are worth retrying."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from models.errors import PermanentError, TransientError

_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


@contextmanager
def transient_db_errors() -> Iterator[None]:
    """Turn a lost connection, deadlock or serialisation failure into a TransientError."""
    try:
        yield
    except (DBConnectionError, OSError, asyncpg.exceptions.InterfaceError,
            asyncpg.exceptions.PostgresConnectionError, TransactionManagementError) as exc:
        raise TransientError(f"PostgreSQL is unavailable: {exc!r}") from exc
    except OperationalError as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, asyncpg.exceptions.DataError):
            raise PermanentError(f"PostgreSQL cannot store this message's data: {cause}") from exc
        if getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES or isinstance(
            cause, (OSError, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError)
        ):
            raise TransientError(f"PostgreSQL asked us to retry: {cause!r}") from exc
        raise
