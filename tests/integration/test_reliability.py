"""Failure semantics: order, races, poison, the outbox, SMTP outages and refusals."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from loadtest.stack import Stack
from models.ids import uuid7
from models.messages import COMMANDS_EXCHANGE, MAIL_QUEUE, Command, dead_letter_queue
from models.state_machine import CommandType
from tests.integration.conftest import Client, mails_for, wait_for_mail

pytestmark = pytest.mark.integration


def command(kind: CommandType, actor: str, activation_id: object, company: str | None = None) -> Command:
    return Command(id=uuid7(), type=kind, activation_id=activation_id, actor_cpf=actor,  # type: ignore[arg-type]
                   issued_at=datetime.now(UTC), company_cnpj=company)


async def publish(connection: AbstractRobustConnection, *commands: Command, gap: float = 0.0) -> None:
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    for c in commands:
        await exchange.publish(aio_pika.Message(c.encode(), message_id=str(c.id),
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT), c.type.value)
        await asyncio.sleep(gap)
    await channel.close()


async def dead_letter(connection: AbstractRobustConnection, queue: str, message_id: str,
                      within: float = 20) -> aio_pika.abc.AbstractIncomingMessage:
    channel = await connection.channel()
    dead = await channel.get_queue(dead_letter_queue(queue))
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            message = await dead.get(fail=False)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            await message.ack()
            if message.message_id == message_id:
                return message
    finally:
        await channel.close()
    raise AssertionError(f"message {message_id} never reached {dead_letter_queue(queue)}")


async def test_a_cancel_that_overtakes_its_request_waits_and_is_applied_after_it(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    activation_id = uuid7()
    cancel = command(CommandType.CANCEL, customer.cpf, activation_id)
    request = command(CommandType.REQUEST, customer.cpf, activation_id, company)
    await publish(amqp, cancel)
    await asyncio.sleep(0.5)  # the cancel is seen, finds nothing, and is deferred
    await publish(amqp, request)
    shown = await asyncio.to_thread(customer.wait_for, str(activation_id), "cancelled", 30)
    assert [(h["command"], h["outcome"]) for h in shown["history"]] == [("request", "applied"),
                                                                       ("cancel", "applied")]


async def test_cancels_sent_right_behind_their_requests_are_all_applied(
    stack: Stack, amqp: AbstractRobustConnection, pairs: Iterator[tuple[dict[str, str], str]]
) -> None:
    # Given many requests, each followed at once by its cancel, racing through several workers
    batch = [next(pairs) for _ in range(30)]
    ids = [uuid7() for _ in batch]
    await asyncio.gather(*(
        publish(amqp, command(CommandType.REQUEST, user["cpf"], activation_id, company),
                command(CommandType.CANCEL, user["cpf"], activation_id))
        for (user, company), activation_id in zip(batch, ids, strict=True)))

    # Then every one ends cancelled: none is left pending by a cancel rejected as too early
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = await stack.query("SELECT status, count(*) AS n FROM activations WHERE id = ANY($1::uuid[]) "
                                 "GROUP BY status", ids)
        if {r["status"]: r["n"] for r in rows} == {"cancelled": len(ids)}:
            break
        await asyncio.sleep(0.2)
    rejected = await stack.query("SELECT count(*) AS n FROM activation_events WHERE activation_id = ANY($1::uuid[]) "
                                 "AND outcome = 'rejected'", ids)
    assert {r["status"]: r["n"] for r in rows} == {"cancelled": len(ids)}
    assert rejected[0]["n"] == 0


async def test_a_command_whose_request_never_comes_is_rejected_after_the_bounded_wait(
    superuser: Client, stack: Stack, amqp: AbstractRobustConnection
) -> None:
    orphan = command(CommandType.APPROVE, superuser.cpf, uuid7())
    await publish(amqp, orphan)
    history = await asyncio.to_thread(superuser.wait_for_history, str(orphan.activation_id), 1, 40)
    assert history[0]["outcome"] == "rejected" and history[0]["rejection"] == "not_found"


@pytest.mark.parametrize(("first", "second"), [
    (CommandType.APPROVE, CommandType.REFUSE),
    (CommandType.APPROVE, CommandType.CANCEL),
    (CommandType.APPROVE, CommandType.APPROVE),
])
async def test_racing_decisions_leave_one_final_state_and_send_one_email(
    first: CommandType, second: CommandType, customer_at: tuple[Client, str], superuser: Client,
    other_superuser: Client, stack: Stack, amqp: AbstractRobustConnection,
) -> None:
    customer, company = customer_at
    answer = customer.get(f"/activations/request?company={company}")
    activation_id = answer.json()["id"]
    await asyncio.to_thread(customer.wait_for, activation_id, "pending")
    actors = {CommandType.APPROVE: superuser.cpf, CommandType.REFUSE: other_superuser.cpf,
              CommandType.CANCEL: customer.cpf}
    one = command(first, actors[first], activation_id)
    two = command(second, other_superuser.cpf if second is first else actors[second], activation_id)
    await publish(amqp, one, two, gap=0.005)
    history = await asyncio.to_thread(customer.wait_for_history, activation_id, 3)
    decisions = history[1:]
    assert sorted(h["outcome"] for h in decisions) == ["applied", "rejected"]
    assert next(h for h in decisions if h["outcome"] == "rejected")["rejection"] == "already_final"
    final = customer.get(f"/activations/{activation_id}").json()["status"]
    word = {"approved": "aprovado", "refused": "recusado", "cancelled": "cancelado"}[final]
    await asyncio.to_thread(wait_for_mail, stack, activation_id, word)
    await asyncio.sleep(1.0)
    assert len(mails_for(stack, activation_id)) == 2  # received + exactly one decision


async def test_a_replayed_approve_after_a_cancel_stays_rejected(
    customer_at: tuple[Client, str], superuser: Client, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    activation_id = customer.get(f"/activations/request?company={company}").json()["id"]
    await asyncio.to_thread(customer.wait_for, activation_id, "pending")
    customer.get(f"/activations/{activation_id}/cancel")
    await asyncio.to_thread(customer.wait_for, activation_id, "cancelled")
    approve = command(CommandType.APPROVE, superuser.cpf, activation_id)
    await publish(amqp, approve, approve)
    history = await asyncio.to_thread(customer.wait_for_history, activation_id, 3)
    await asyncio.sleep(1.0)
    history = customer.get(f"/activations/{activation_id}").json()["history"]
    assert [(h["command"], h["outcome"]) for h in history] == [
        ("request", "applied"), ("cancel", "applied"), ("approve", "rejected")]
    assert customer.get(f"/activations/{activation_id}").json()["status"] == "cancelled"


@contextlib.contextmanager
def publishers_blocked() -> Iterator[None]:
    """RabbitMQ under a memory alarm: it takes publishers' frames but confirms nothing until it clears."""
    subprocess.run(["rabbitmqctl", "set_vm_memory_high_watermark", "0.00001"], check=True, capture_output=True)
    try:
        time.sleep(2)  # the alarm takes a moment to be raised
        yield
    finally:
        subprocess.run(["rabbitmqctl", "set_vm_memory_high_watermark", "0.4"], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on the broker's machine")
def test_an_unconfirmed_command_is_answered_503_and_a_retry_with_its_key_sends_the_same_command(
    customer_at: tuple[Client, str], stack: Stack
) -> None:
    customer, company = customer_at
    key = {"Idempotency-Key": f"in-doubt-{uuid7()}"}
    with publishers_blocked():
        first = customer.get(f"/activations/request?company={company}", headers=key, timeout=30)
    assert first.status_code == 503
    error = first.json()["error"]
    assert error["code"] == "broker_unconfirmed" and "may still be applied" in error["message"]

    # The blocked frame went through once the alarm cleared; the retry must not add a second command.
    customer.wait_for(error["id"], "pending")
    retry = customer.get(f"/activations/request?company={company}", headers=key)
    assert retry.status_code == 202
    assert (retry.json()["id"], retry.json()["command_id"]) == (error["id"], error["command_id"])
    time.sleep(1.0)
    history = customer.wait_for_history(error["id"], 1)
    assert [(h["command"], h["outcome"]) for h in history] == [("request", "applied")]


async def test_a_body_of_several_megabytes_is_dead_lettered_with_its_reason(
    stack: Stack, amqp: AbstractRobustConnection
) -> None:
    marker = f"huge-{uuid7()}"
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
    await exchange.publish(aio_pika.Message(b'{"v": 1, "pad": "' + b"x" * 4_000_000 + b'"}', message_id=marker),
                           "request")
    await channel.close()
    dead = await dead_letter(amqp, "activations.commands", marker)
    assert dead.headers["x-error-type"] == "InvalidMessage"
    assert "schema" in str(dead.headers["x-error"])
    assert dead.headers["x-original-routing-key"] == "request"


async def test_a_pending_notification_whose_job_was_never_published_is_relayed_and_sent(
    customer_at: tuple[Client, str], stack: Stack
) -> None:
    """Given a committed event whose mail job was lost (the crash point between commit and
    publish), when the outbox relay runs, then the e-mail is sent, once."""
    customer, company = customer_at
    activation_id = customer.get(f"/activations/request?company={company}").json()["id"]
    await asyncio.to_thread(customer.wait_for, activation_id, "pending")
    await asyncio.to_thread(wait_for_mail, stack, activation_id, "recebido")
    # Forge the state a crash would leave: a second notification row with no job published.
    rows = await stack.query(
        "INSERT INTO notifications (id, kind, status, attempts, created_at, activation_id, event_id, recipient_id) "
        "SELECT gen_random_uuid(), 'received', 'pending', 0, now() - interval '1 minute', activation_id, id, "
        "actor_cpf FROM activation_events WHERE activation_id = $1 RETURNING id", activation_id)
    forged = rows[0]["id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = (await stack.query("SELECT status FROM notifications WHERE id = $1", forged))[0]["status"]
        if status == "sent":
            break
        await asyncio.sleep(0.2)
    assert status == "sent"
    await asyncio.sleep(1.0)
    assert len(mails_for(stack, activation_id)) == 2


async def test_an_smtp_outage_delays_the_email_and_it_arrives_once_the_server_is_back(
    customer_at: tuple[Client, str], stack: Stack
) -> None:
    customer, company = customer_at
    stack.stop_process("smtp-sink")
    try:
        activation_id = customer.get(f"/activations/request?company={company}").json()["id"]
        await asyncio.to_thread(customer.wait_for, activation_id, "pending")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = (await stack.query("SELECT attempts, last_error, status FROM notifications "
                                     "WHERE activation_id = $1", activation_id))[0]
            if row["attempts"] >= 1:
                break
            await asyncio.sleep(0.2)
        assert row["status"] == "pending" and row["attempts"] >= 1 and row["last_error"]
    finally:
        stack.start_sink()
    await asyncio.to_thread(wait_for_mail, stack, activation_id, "recebido", 60)
    await asyncio.sleep(1.0)
    assert len(mails_for(stack, activation_id)) == 1


async def test_an_address_the_server_refuses_for_good_is_marked_failed_and_dead_lettered(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    await stack.query("UPDATE users SET email = 'ninguem@exemplo.invalid' WHERE cpf = $1", customer.cpf)
    try:
        activation_id = customer.get(f"/activations/request?company={company}").json()["id"]
        await asyncio.to_thread(customer.wait_for, activation_id, "pending")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = (await stack.query("SELECT id, status, last_error FROM notifications WHERE activation_id = $1",
                                     activation_id))[0]
            if row["status"] == "failed":
                break
            await asyncio.sleep(0.2)
        assert row["status"] == "failed" and "550" in row["last_error"]
        dead = await dead_letter(amqp, MAIL_QUEUE, str(row["id"]))
        assert dead.headers["x-error-type"] == "MailRejected"
    finally:
        await stack.query("UPDATE users SET email = $2 WHERE cpf = $1", customer.cpf, customer.email)


def dlq(stack: Stack, *args: str) -> str:
    import subprocess
    import sys

    from loadtest.stack import ROOT
    result = subprocess.run([sys.executable, "-m", "workers.dlq", *args], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


async def test_make_dlq_lists_dead_letters_with_their_reason_and_replays_them(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    customer, company = customer_at
    # A good command that ended in the dead-letter queue (say, after a crash loop).
    request = command(CommandType.REQUEST, customer.cpf, uuid7(), company)
    channel = await amqp.channel(publisher_confirms=True)
    await channel.default_exchange.publish(
        aio_pika.Message(request.encode(), message_id=str(request.id), headers={
            "x-error": "worker crashed", "x-error-type": "Crash",
            "x-original-exchange": COMMANDS_EXCHANGE, "x-original-routing-key": "request"}),
        dead_letter_queue("activations.commands"))
    await channel.close()
    listed = await asyncio.to_thread(dlq, stack, "list", "--queue", "commands")
    assert str(request.id) in listed and "Crash: worker crashed" in listed
    replayed = await asyncio.to_thread(dlq, stack, "replay", "--queue", "commands", "--id", str(request.id))
    assert "replayed" in replayed
    await asyncio.to_thread(customer.wait_for, str(request.activation_id), "pending")
    assert str(request.id) not in await asyncio.to_thread(dlq, stack, "list", "--queue", "commands")


async def test_a_redelivered_command_whose_email_job_was_lost_publishes_it_again(
    customer_at: tuple[Client, str], stack: Stack, amqp: AbstractRobustConnection
) -> None:
    """Given a command applied and committed whose mail job never left (a crash right after
    the commit), when RabbitMQ redelivers the command, then its e-mail job is published again."""
    customer, company = customer_at
    request = command(CommandType.REQUEST, customer.cpf, uuid7(), company)
    await publish(amqp, request)
    await asyncio.to_thread(customer.wait_for, str(request.activation_id), "pending")
    await asyncio.to_thread(wait_for_mail, stack, str(request.activation_id), "recebido")
    await stack.query("UPDATE notifications SET status = 'pending', last_attempt_at = now() "
                      "WHERE activation_id = $1", request.activation_id)
    await publish(amqp, request)  # the redelivery
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = (await stack.query("SELECT status FROM notifications WHERE activation_id = $1",
                                 request.activation_id))[0]
        if row["status"] == "sent":
            break
        await asyncio.sleep(0.2)
    assert row["status"] == "sent"
    events = await stack.query("SELECT count(*) AS n FROM activation_events WHERE command_id = $1", request.id)
    assert events[0]["n"] == 1


def test_after_rabbitmq_drops_every_connection_the_service_reconnects_and_keeps_working(
    customer_at: tuple[Client, str], stack: Stack
) -> None:
    """Given every AMQP connection of the service closed by the broker (as in a restart),
    then the API, the workers and the notifier reconnect by themselves."""

    from loadtest.stack import quote_vhost
    url = f"{stack.management_base}/api/vhosts/{quote_vhost(stack.vhost)}/connections"
    deadline = time.monotonic() + 20
    listed: list[dict[str, str]] = []
    while len(listed) < 3 and time.monotonic() < deadline:  # the API, a command worker, a notifier
        listed = httpx.get(url, auth=stack.management_auth, timeout=10).json()
        time.sleep(0.5)
    assert len(listed) >= 3, listed
    for connection in listed:
        httpx.delete(f"{stack.management_base}/api/connections/{quote(connection['name'], safe='')}",
                     auth=stack.management_auth, timeout=10)
    customer, company = customer_at
    deadline = time.monotonic() + 30
    answer = None
    while time.monotonic() < deadline:
        answer = customer.get(f"/activations/request?company={company}")
        if answer.status_code == 202:
            break
        assert answer.status_code == 503, answer.text  # while reconnecting: unavailable, never 500
        time.sleep(0.5)
    assert answer is not None and answer.status_code == 202
    activation_id = answer.json()["id"]
    customer.wait_for(activation_id, "pending", 30)
    wait_for_mail(stack, activation_id, "recebido", 30)


async def test_a_refused_publish_says_nothing_was_queued_and_its_channel_is_replaced(
    stack: Stack, amqp: AbstractRobustConnection
) -> None:
    from config.settings import Settings
    from workers.broker import Broker, PublishInDoubt, Refused

    # Given a queue that refuses messages (a length limit with reject-publish) and no consumer
    name = f"test.full.{uuid7()}"
    setup = await amqp.channel()
    queue = await setup.declare_queue(name, durable=True, arguments={
        "x-queue-type": "quorum", "x-max-length": 1, "x-overflow": "reject-publish"})
    broker = Broker(Settings.from_env(stack.env), "test broker")
    await broker.connect()
    try:
        # When more is published than it takes
        outcomes = []
        for _ in range(4):
            try:
                await broker.publish("", name, b"{}", str(uuid7()))
                outcomes.append("taken")
            except Refused:
                outcomes.append("refused")
            except PublishInDoubt:
                outcomes.append("in doubt")
        # Then the extra messages are refused (a quorum queue may take one past its limit),
        # never reported as possibly queued
        assert outcomes[0] == "taken" and outcomes[-1] == "refused" and "in doubt" not in outcomes, outcomes
        # And once the queue takes messages again, every publishing channel delivers
        await queue.purge()
        await setup.queue_delete(name)
        await setup.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        for _ in range(2 * len(broker._channels or [])):
            await broker.publish("", name, b"{}", str(uuid7()))
    finally:
        await broker.close()
        await setup.queue_delete(name)
        await setup.close()
