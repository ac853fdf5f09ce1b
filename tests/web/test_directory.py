"""The companies each API process keeps in memory: loaded when stale, reloaded on news of a new one."""

from __future__ import annotations

import asyncio

import orjson

from web.directory import CompanyDirectory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Table:
    """A companies table that counts how often it is read."""

    def __init__(self, *rows: tuple[str, str]) -> None:
        self.rows = list(rows)
        self.loads = 0

    async def load(self) -> list[tuple[str, str]]:
        self.loads += 1
        await asyncio.sleep(0)  # a real read lets other requests run meanwhile
        return list(self.rows)


ACME = ("11222333000181", "Acme Ltda")
BETA = ("34300063000185", "Beta S.A.")


def test_given_a_fresh_directory_when_asked_twice_then_the_table_is_read_once() -> None:
    table, clock = Table(ACME), Clock()
    directory = CompanyDirectory(table.load, max_age=60, clock=clock)

    async def scenario() -> None:
        assert await directory.knows(ACME[0])
        assert not await directory.knows(BETA[0])

    asyncio.run(scenario())
    assert table.loads == 1


def test_given_many_callers_at_once_when_the_directory_is_empty_then_one_load_serves_them_all() -> None:
    table = Table(ACME)
    directory = CompanyDirectory(table.load, max_age=60, clock=Clock())

    async def scenario() -> list[bool]:
        return await asyncio.gather(*(directory.knows(ACME[0]) for _ in range(20)))

    assert all(asyncio.run(scenario()))
    assert table.loads == 1


def test_given_a_directory_older_than_its_max_age_then_it_is_reloaded() -> None:
    table, clock = Table(ACME), Clock()
    directory = CompanyDirectory(table.load, max_age=60, clock=clock)

    async def scenario() -> None:
        assert not await directory.knows(BETA[0])
        table.rows.append(BETA)
        clock.now += 30
        assert not await directory.knows(BETA[0])  # still within its max age
        clock.now += 31
        assert await directory.knows(BETA[0])

    asyncio.run(scenario())
    assert table.loads == 2


def test_given_a_company_added_since_the_load_when_its_name_is_asked_then_it_is_reloaded_at_once() -> None:
    table = Table(ACME)
    directory = CompanyDirectory(table.load, max_age=60, clock=Clock())

    async def scenario() -> str | None:
        await directory.current()
        table.rows.append(BETA)
        return await directory.name(BETA[0])

    assert asyncio.run(scenario()) == BETA[1]


def test_given_an_expired_directory_then_the_next_use_reloads_it() -> None:
    table = Table(ACME)
    directory = CompanyDirectory(table.load, max_age=60, clock=Clock())

    async def scenario() -> bool:
        await directory.current()
        table.rows.append(BETA)
        directory.expire()
        return await directory.knows(BETA[0])

    assert asyncio.run(scenario())
    assert table.loads == 2


def test_the_companies_answer_lists_every_company_in_the_order_loaded_with_the_total() -> None:
    directory = CompanyDirectory(Table(ACME, BETA).load, clock=Clock())
    body = orjson.loads(asyncio.run(directory.current()).body)
    assert body == {"items": [{"cnpj": ACME[0], "name": ACME[1]}, {"cnpj": BETA[0], "name": BETA[1]}], "total": 2}
