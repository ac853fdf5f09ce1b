"""Commands applied together in one transaction end as if applied one after the other."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from config.settings import Settings
from loadtest.stack import Stack
from models import db
from models.ids import uuid7
from models.messages import Command
from models.state_machine import CommandType
from tests.integration.conftest import Client
from workers.transitions import Processed, process_batch

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(stack: Stack) -> AsyncIterator[None]:
    await db.connect(Settings.from_env(stack.env), pool_size=2)
    try:
        yield
    finally:
        await db.disconnect()


def command(kind: CommandType, actor: str, activation_id: uuid.UUID, company: str | None = None) -> Command:
    return Command(id=uuid7(), type=kind, activation_id=activation_id, actor_cpf=actor, issued_at=datetime.now(UTC),
                   company_cnpj=company)


async def statuses(stack: Stack, *ids: uuid.UUID) -> list[str]:
    rows = await stack.query("SELECT id, status FROM activations WHERE id = ANY($1::uuid[])", list(ids))
    found = {row["id"]: row["status"] for row in rows}
    return [found.get(i, "(none)") for i in ids]


async def test_a_cancel_and_a_new_request_at_the_same_company_in_one_batch_both_apply(
    customer_at: tuple[Client, str], stack: Stack, database: None
) -> None:
    customer, company = customer_at
    first, second = uuid7(), uuid7()
    await process_batch([command(CommandType.REQUEST, customer.cpf, first, company)], 300)
    results = await process_batch([command(CommandType.CANCEL, customer.cpf, first),
                                   command(CommandType.REQUEST, customer.cpf, second, company)], 300)
    assert all(isinstance(r, Processed) and r.event.to_status is not None for r in results), results
    assert await statuses(stack, first, second) == ["cancelled", "pending"]


async def test_a_request_and_its_cancel_in_one_batch_apply_in_order_and_a_second_request_waits_its_turn(
    customer_at: tuple[Client, str], stack: Stack, database: None
) -> None:
    customer, company = customer_at
    first, second, third = uuid7(), uuid7(), uuid7()
    results = await process_batch([
        command(CommandType.REQUEST, customer.cpf, first, company),
        command(CommandType.REQUEST, customer.cpf, second, company),  # one pending already
        command(CommandType.CANCEL, customer.cpf, first),
        command(CommandType.REQUEST, customer.cpf, third, company),  # none pending any more
    ], 300)
    outcomes = [r.event.outcome if isinstance(r, Processed) else r for r in results]
    assert outcomes == ["applied", "rejected", "applied", "applied"]
    assert await statuses(stack, first, second, third) == ["cancelled", "(none)", "pending"]
    history = await stack.query("SELECT command_id FROM activation_events WHERE activation_id = ANY($1::uuid[]) "
                                "ORDER BY id", [first, second, third])
    assert [row["command_id"] for row in history] == [r.event.command_id for r in results if isinstance(r, Processed)]


async def test_a_batch_delivered_again_applies_nothing_twice(
    customer_at: tuple[Client, str], stack: Stack, database: None
) -> None:
    customer, company = customer_at
    batch = [command(CommandType.REQUEST, customer.cpf, uuid7(), company)]
    first = await process_batch(batch, 300)
    again = await process_batch(batch, 300)
    assert isinstance(again[0], Processed) and again[0].duplicate
    assert isinstance(first[0], Processed) and again[0].notifications == first[0].notifications
