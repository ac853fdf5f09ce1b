"""The partner companies, kept in memory by each API process.

There are a few dozen and they change rarely, yet every request command checks that its
company exists and every customer lists them: reading them from PostgreSQL each time was a
query per call. The directory reloads them when they are older than `max_age`, and a CNPJ
it does not know is looked up in the database before being refused, so a company added
since the last load is found at once. A company removed meanwhile (the schema restricts
that to companies without users) is refused by the worker instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models.messages import to_json

MAX_AGE_SECONDS = 60.0

Loader = Callable[[], Awaitable[list[tuple[str, str]]]]


@dataclass(frozen=True)
class Companies:
    """One load of the companies: names by CNPJ, and the `GET /companies` answer ready to send."""

    names: dict[str, str]
    body: bytes
    loaded_at: float

    @classmethod
    def of(cls, rows: list[tuple[str, str]], loaded_at: float) -> Companies:
        """From (cnpj, name) rows, in the order the answer lists them."""
        items = [{"cnpj": cnpj, "name": name} for cnpj, name in rows]
        return cls(dict(rows), to_json({"items": items, "total": len(items)}), loaded_at)


class CompanyDirectory:
    """The companies as of at most `max_age` seconds ago, loaded by `load` when needed."""

    def __init__(self, load: Loader, max_age: float = MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._current: Companies | None = None
        self._reloading = asyncio.Lock()

    def is_stale(self) -> bool:
        return self._current is None or self._clock() - self._current.loaded_at > self._max_age

    async def current(self) -> Companies:
        """The companies, reloaded first if they are older than `max_age`."""
        if self.is_stale():
            async with self._reloading:  # one reload for all the callers that found them stale
                if self.is_stale():
                    self._current = Companies.of(await self._load(), self._clock())
        assert self._current is not None  # loaded above
        return self._current

    async def knows(self, cnpj: str) -> bool:
        """Whether `cnpj` was a company at the last load (False says: ask the database)."""
        return cnpj in (await self.current()).names

    async def name(self, cnpj: str) -> str | None:
        """The company's name, reloading once when it is not known (it may be new)."""
        found = (await self.current()).names.get(cnpj)
        if found is None:
            self.expire()
            found = (await self.current()).names.get(cnpj)
        return found

    def expire(self) -> None:
        """Reload at the next use: the database knows a company this directory does not."""
        if self._current is not None:
            self._current = Companies(self._current.names, self._current.body, float("-inf"))
