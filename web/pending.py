"""Whether a caller already has a pending activation at a company: concurrent checks share one query.

Every request command asks this of PostgreSQL, and it has to be asked afresh each time. A
round trip costs the API far more CPU (a system call each way, the pool, the driver) than
the question does, so the checks that arrive while the loop is busy go out together, in
the next turn of the event loop, as one query; each caller still gets an answer read after
its request came in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Pair = tuple[str, str]  # (cpf, cnpj)
# The pairs among those asked about that have a pending activation.
Query = Callable[[list[Pair]], Awaitable[set[Pair]]]


class PendingChecks:
    """Answers `has_pending(cpf, cnpj)` by batching the questions asked in one loop turn."""

    def __init__(self, query: Query) -> None:
        self._query = query
        self._asked: dict[Pair, list[asyncio.Future[bool]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def has_pending(self, cpf: str, cnpj: str) -> bool:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        if not self._asked:
            loop.call_soon(self._send)
        self._asked.setdefault((cpf, cnpj), []).append(answer)
        return await answer

    def _send(self) -> None:
        asked, self._asked = self._asked, {}
        task = asyncio.ensure_future(self._answer(asked))
        self._running.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._running.discard)

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
