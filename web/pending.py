"""Whether a caller already has a pending activation at a company: concurrent checks share one query.

Every request command asks this of PostgreSQL, and it has to be asked afresh each time. A
round trip costs the API far more CPU (a system call each way, the pool, the driver) than
the question does, so checks go out together: one query at a time, carrying every check
asked since the previous one went out. Under light load that is one query per check, sent
in the next turn of the event loop; under heavy load the queries grow instead of
multiplying. Each caller still gets an answer read after its request came in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Pair = tuple[str, str]  # (cpf, cnpj)
# The pairs among those asked about that have a pending activation.
Query = Callable[[list[Pair]], Awaitable[set[Pair]]]


class PendingChecks:
    """Answers `has_pending(cpf, cnpj)` by batching the questions asked while the last query ran."""

    def __init__(self, query: Query) -> None:
        self._query = query
        self._asked: dict[Pair, list[asyncio.Future[bool]]] = {}
        self._in_flight: asyncio.Task[None] | None = None  # also the loop's only strong reference to it

    async def has_pending(self, cpf: str, cnpj: str) -> bool:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        if not self._asked and self._in_flight is None:
            loop.call_soon(self._send)
        # Otherwise a send is scheduled already, or the query in flight sends these when it ends.
        self._asked.setdefault((cpf, cnpj), []).append(answer)
        return await answer

    def _send(self) -> None:
        asked, self._asked = self._asked, {}
        self._in_flight = asyncio.ensure_future(self._answer(asked))
        self._in_flight.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._in_flight = None
        if task.cancelled():  # the server is stopping: nobody will answer the checks asked meanwhile
            for answers in self._asked.values():
                for answer in answers:
                    answer.cancel()
            self._asked = {}
        elif self._asked:
            self._send()

    async def _answer(self, asked: dict[Pair, list[asyncio.Future[bool]]]) -> None:
        waiting = [(pair, answer) for pair, answers in asked.items() for answer in answers]
        try:
            pending = await self._query(list(asked))
        except asyncio.CancelledError:  # the server is stopping
            for _, answer in waiting:
                answer.cancel()
            raise
        except Exception as exc:  # every caller gets the failure, as if it had asked alone
            for _, answer in waiting:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for pair, answer in waiting:
            if not answer.done():  # its caller may have gone (a client that hung up)
                answer.set_result(pair in pending)
