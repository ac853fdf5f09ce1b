"""Pending checks asked at the same time go to the database together, and each caller gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from web.pending import Pair, PendingChecks

ANA, BIA = "29108474460", "29900458133"
ACME, BETA = "11222333000181", "34300063000185"


class Database:
    """Activations pending for some (cpf, cnpj) pairs; remembers what each query asked."""

    def __init__(self, *pending: Pair, fails: bool = False) -> None:
        self.pending = set(pending)
        self.queries: list[list[Pair]] = []
        self.fails = fails
        self.gate: asyncio.Event | None = None

    async def query(self, pairs: list[Pair]) -> set[Pair]:
        self.queries.append(pairs)
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        if self.fails:
            raise ConnectionError("PostgreSQL went away")
        return self.pending & set(pairs)


def test_given_checks_asked_together_then_one_query_answers_each_of_them() -> None:
    database = Database((ANA, ACME))
    checks = PendingChecks(database.query)

    async def scenario() -> list[bool]:
        return await asyncio.gather(checks.has_pending(ANA, ACME), checks.has_pending(ANA, BETA),
                                    checks.has_pending(BIA, ACME), checks.has_pending(ANA, ACME))

    assert asyncio.run(scenario()) == [True, False, False, True]
    assert database.queries == [[(ANA, ACME), (ANA, BETA), (BIA, ACME)]]


def test_given_a_check_asked_after_an_answer_then_it_is_read_again() -> None:
    database = Database()
    checks = PendingChecks(database.query)

    async def scenario() -> tuple[bool, bool]:
        before = await checks.has_pending(ANA, ACME)
        database.pending.add((ANA, ACME))
        return before, await checks.has_pending(ANA, ACME)

    assert asyncio.run(scenario()) == (False, True)
    assert len(database.queries) == 2


def test_given_checks_asked_while_a_query_runs_then_they_go_together_in_the_next_one() -> None:
    database = Database((BIA, BETA))
    checks = PendingChecks(database.query)

    async def scenario() -> list[bool]:
        database.gate = asyncio.Event()  # the first query waits on the database until let through
        first = asyncio.ensure_future(checks.has_pending(ANA, ACME))
        await asyncio.sleep(0.01)
        later = []
        for cpf, cnpj in ((BIA, BETA), (ANA, BETA)):  # asked in different turns of the loop
            later.append(asyncio.ensure_future(checks.has_pending(cpf, cnpj)))
            await asyncio.sleep(0.01)
        database.gate.set()
        return [await first, *[await answer for answer in later]]

    assert asyncio.run(scenario()) == [False, True, False]
    assert database.queries == [[(ANA, ACME)], [(BIA, BETA), (ANA, BETA)]]


def test_given_the_database_fails_then_every_caller_of_that_batch_gets_the_error() -> None:
    checks = PendingChecks(Database(fails=True).query)

    async def scenario() -> list[object]:
        return await asyncio.gather(checks.has_pending(ANA, ACME), checks.has_pending(BIA, BETA),
                                    return_exceptions=True)

    assert all(isinstance(answer, ConnectionError) for answer in asyncio.run(scenario()))


def test_given_a_caller_that_goes_away_then_the_others_still_get_their_answers() -> None:
    database = Database((BIA, BETA))
    checks = PendingChecks(database.query)

    async def scenario() -> bool:
        leaving = asyncio.ensure_future(checks.has_pending(ANA, ACME))
        staying = asyncio.ensure_future(checks.has_pending(BIA, BETA))
        await asyncio.sleep(0)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await staying

    assert asyncio.run(scenario())
