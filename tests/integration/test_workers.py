"""The command workers, fed straight through RabbitMQ: duplicates, poison, events."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection

from loadtest.stack import Stack
from models.ids import uuid7
from models.messages import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, Command, dead_letter_queue
from models.state_machine import CommandType
from tests.integration.conftest import Client

pytestmark = pytest.mark.integration


async def publish(connection: AbstractRobustConnection, body: bytes, routing_key: str, message_id: str) -> None:
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    await exchange.publish(aio_pika.Message(body, message_id=message_id,
                                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key)
    await channel.close()


async def events_of(stack: Stack, command_id: object) -> int:
    rows = await stack.query("SELECT count(*) AS n FROM activation_events WHERE command_id = $1", command_id)
    return int(rows[0]["n"])


async def wait_until(check: object, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_a_command_delivered_twice_is_applied_once_and_emails_once(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    command = Command(id=uuid7(), type=CommandType.REQUEST, activation_id=uuid7(), actor_cpf=customer.cpf,
                      issued_at=datetime.now(UTC), company_cnpj=company)
    for _ in range(3):
        await publish(amqp, command.encode(), "request", str(command.id))

    async def applied() -> bool:
        return await events_of(stack, command.id) == 1

    await wait_until(applied)
    await asyncio.sleep(1.0)  # give the duplicates time to be (not) applied
    assert await events_of(stack, command.id) == 1
    rows = await stack.query("SELECT count(*) AS n FROM notifications WHERE activation_id = $1", command.activation_id)
    assert rows[0]["n"] == 1


async def race_two_requests(customer: Client, company: str, stack: Stack,
                            amqp: AbstractRobustConnection) -> Command:
    """Publish two requests of `customer` at `company` at once; the one that lost, once both are processed."""
    commands = [Command(id=uuid7(), type=CommandType.REQUEST, activation_id=uuid7(), actor_cpf=customer.cpf,
                        issued_at=datetime.now(UTC), company_cnpj=company) for _ in range(2)]
    await asyncio.gather(*(publish(amqp, c.encode(), "request", str(c.id)) for c in commands))

    async def both_processed() -> bool:
        return all([await events_of(stack, c.id) == 1 for c in commands])

    await wait_until(both_processed)
    winner = (await stack.query("SELECT id FROM activations WHERE requester_id = $1 AND company_id = $2",
                                customer.cpf, company))[0]["id"]
    return next(c for c in commands if str(c.activation_id) != str(winner))


async def test_two_requests_racing_for_the_same_company_leave_one_pending_and_one_rejected(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    loser = await race_two_requests(customer, company, stack, amqp)
    rows = await stack.query("SELECT status FROM activations WHERE requester_id = $1 AND company_id = $2",
                             customer.cpf, company)
    assert [r["status"] for r in rows] == ["pending"]
    shown = customer.get(f"/activations/{loser.activation_id}").json()
    assert shown["status"] == "rejected"
    assert shown["history"][0]["rejection"] == "duplicate_pending"


async def test_a_command_on_an_activation_whose_request_was_rejected_is_rejected_at_once(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    loser = await race_two_requests(customer, company, stack, amqp)
    cancel = Command(id=uuid7(), type=CommandType.CANCEL, activation_id=loser.activation_id,
                     actor_cpf=customer.cpf, issued_at=datetime.now(UTC))
    await publish(amqp, cancel.encode(), "cancel", str(cancel.id))

    async def rejected() -> bool:
        return await events_of(stack, cancel.id) == 1

    await wait_until(rejected, within=5)  # not after OUT_OF_ORDER_WAIT: nothing is left to wait for
    history = customer.get(f"/activations/{loser.activation_id}").json()["history"]
    assert [(h["command"], h["outcome"], h["rejection"]) for h in history] == [
        ("request", "rejected", "duplicate_pending"), ("cancel", "rejected", "already_final")]


async def test_a_deferral_count_header_that_is_no_count_neither_stalls_the_worker_nor_is_lost(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    stray = Command(id=uuid7(), type=CommandType.CANCEL, activation_id=uuid7(), actor_cpf=customer.cpf,
                    issued_at=datetime.now(UTC))
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    for bad in ("abc", -7):  # the worker defers a command for an unknown id, reading this header
        await exchange.publish(aio_pika.Message(stray.encode(), message_id=str(stray.id), headers={"x-deferrals": bad},
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "cancel")
    await channel.close()
    answer = customer.get(f"/activations/request?company={company}")
    customer.wait_for(answer.json()["id"], "pending")
    rows = await stack.query("SELECT count(*) AS n FROM activation_events WHERE command_id = $1", stray.id)
    assert rows[0]["n"] == 0  # still waiting for its request, in a delay queue, not stuck in a worker


async def test_a_command_without_a_utc_offset_is_dead_lettered_with_its_reason(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    marker = f"naive-{uuid7()}"
    body = (b'{"v": 1, "id": "%s", "type": "request", "activation_id": "%s", "actor_cpf": "%s", '
            b'"issued_at": "2026-12-04T04:00:00", "company_cnpj": "%s"}'
            % (str(uuid7()).encode(), str(uuid7()).encode(), customer.cpf.encode(), company.encode()))
    await publish(amqp, body, "request", marker)
    channel = await amqp.channel()
    dead = await channel.get_queue(dead_letter_queue("activations.commands"))
    deadline = time.monotonic() + 20
    found = None
    while found is None and time.monotonic() < deadline:
        message = await dead.get(no_ack=False, fail=False)
        if message is None:
            await asyncio.sleep(0.2)
            continue
        if message.message_id == marker:
            found = message
        await message.nack(requeue=message.message_id != marker)
    await channel.close()
    assert found is not None and "UTC offset" in str((found.headers or {}).get("x-error"))


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\xfd", b'{"v": 2, "type": "request"}',
                                  b'{"v": 1, "type": "explode"}'])
async def test_a_poison_message_goes_to_the_dead_letter_queue_and_the_rest_keep_flowing(
    body: bytes, customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    marker = f"poison-{uuid7()}"
    await publish(amqp, body, "request", marker)
    customer, company = customer_at
    answer = customer.get(f"/activations/request?company={company}")
    customer.wait_for(answer.json()["id"], "pending")

    channel = await amqp.channel()
    dead = await channel.get_queue(dead_letter_queue("activations.commands"))
    found = None
    deadline = time.monotonic() + 20
    while found is None and time.monotonic() < deadline:
        message = await dead.get(fail=False)
        if message is None:
            await asyncio.sleep(0.2)
            continue
        await message.ack()
        if message.message_id == marker:
            found = message
    await channel.close()
    assert found is not None and found.body == body


async def test_applied_events_are_published_for_other_services(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    channel = await amqp.channel()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(await channel.get_exchange(EVENTS_EXCHANGE), routing_key="activation.#")
    customer, company = customer_at
    activation_id = customer.get(f"/activations/request?company={company}").json()["id"]
    customer.wait_for(activation_id, "pending")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = await queue.get(fail=False)
        if message is not None and activation_id.encode() in message.body:
            assert message.routing_key == "activation.pending"
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no activation.pending event was published")
    await channel.close()


def test_a_queue_declared_with_other_arguments_makes_workers_and_supervisor_stop_with_a_clear_message(
    stack: Stack,
) -> None:
    import subprocess
    import sys
    import uuid as uuid_module

    from loadtest.stack import ROOT, quote_vhost, with_vhost

    vhost = f"activations-conflict-{uuid_module.uuid4().hex[:8]}"
    stack._management("PUT", f"/api/vhosts/{quote_vhost(vhost)}")
    stack._management("PUT", f"/api/permissions/{quote_vhost(vhost)}/guest",
                      json={"configure": ".*", "write": ".*", "read": ".*"})
    try:
        # Someone declared the commands queue as a classic queue before us.
        stack._management("PUT", f"/api/queues/{quote_vhost(vhost)}/activations.commands",
                          json={"durable": True, "arguments": {}})
        env = {**stack.env, "AMQP_URL": with_vhost(stack.amqp_url, vhost),
               "STATUS_FILE": str(stack.root / "conflict-supervisor.json")}
        for argv in (["run", "command"], ["pool", "command"]):
            result = subprocess.run([sys.executable, "-m", "workers", *argv], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, result.stderr[-2000:]
            assert "Delete the conflicting object" in result.stderr
    finally:
        stack._management("DELETE", f"/api/vhosts/{quote_vhost(vhost)}", check=False)
