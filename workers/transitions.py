"""Apply one command inside one database transaction: load, decide, save."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.entities import (
    Activation,
    ActivationEvent,
    Notification,
    NotificationKind,
    NotificationStatus,
    Outcome,
)
from models.errors import Deferred
from models.ids import CLOCK_SKEW
from models.messages import Command
from models.state_machine import Actor, CommandType, Reason, Rejected, Status, apply
from workers.database import transient_db_errors

log = logging.getLogger(__name__)

NOTIFY: dict[Status, NotificationKind] = {
    Status.PENDING: NotificationKind.RECEIVED,
    Status.APPROVED: NotificationKind.APPROVED,
    Status.REFUSED: NotificationKind.REFUSED,
    Status.CANCELLED: NotificationKind.CANCELLED,
}


@dataclass
class Processed:
    """What a command left behind, to publish once the transaction has committed."""

    event: ActivationEvent
    notifications: list[Notification] = field(default_factory=list)
    duplicate: bool = False


async def process(command: Command, out_of_order_wait: float) -> Processed:
    """Apply `command` exactly once: a command id seen before returns what it produced.

    A command for an activation that does not exist yet, issued less than
    `out_of_order_wait` seconds ago, may have overtaken its request: it raises Deferred
    (nothing is recorded) so that it comes back later.
    """
    with transient_db_errors():
        async with in_transaction() as conn:
            if not await _claim(conn, command):
                return await _previous(conn, command)
            event, notifications = await _decide_and_save(conn, command, out_of_order_wait)
            return Processed(event, notifications)


def overtook_its_request(command: Command, rejection: Rejected, now: datetime, wait: float) -> bool:
    """Whether a rejection may only mean the request has not been applied yet.

    A command dated further ahead than the clocks of two hosts can differ was not issued
    by our API: waiting for its request would never end.
    """
    age = (now - command.issued_at).total_seconds()
    return rejection.reason is Reason.NOT_FOUND and command.type is not CommandType.REQUEST and \
        -CLOCK_SKEW <= age < wait


async def _claim(conn: BaseDBAsyncClient, command: Command) -> bool:
    """Record the command id; False if another transaction already processed it.

    A concurrent duplicate blocks on the primary key until the first commits, then
    finds the row, so two deliveries can never both apply.
    """
    rows = await conn.execute_query_dict(
        "INSERT INTO processed_commands (command_id, activation_id, processed_at) "
        "VALUES ($1, $2, now()) ON CONFLICT (command_id) DO NOTHING RETURNING command_id",
        [command.id, command.activation_id],
    )
    return bool(rows)


async def _previous(conn: BaseDBAsyncClient, command: Command) -> Processed:
    # Read on the transaction's connection: it is held anyway, so no second one is taken.
    event = await ActivationEvent.filter(command_id=command.id).using_db(conn).get()
    pending = await Notification.filter(event_id=event.id, status=NotificationStatus.PENDING).using_db(conn)
    log.info("Command %s was already processed (event %d); not applying it again.", command.id, event.id)
    return Processed(event, pending, duplicate=True)


# One round trip for everything a new request depends on, with the requester's row locked:
# locking serialises one customer's concurrent requests, so the pending check holds.
_REQUEST_FACTS = """
SELECT u.is_superuser,
       EXISTS (SELECT 1 FROM companies WHERE cnpj = $2) AS company_exists,
       EXISTS (SELECT 1 FROM activations WHERE id = $3) AS taken,
       EXISTS (SELECT 1 FROM activations
               WHERE requester_id = $1 AND company_id = $2 AND status = 'pending') AS pending
FROM users u WHERE u.cpf = $1
FOR UPDATE OF u
"""


async def _decide_and_save(
    conn: BaseDBAsyncClient, command: Command, out_of_order_wait: float
) -> tuple[ActivationEvent, list[Notification]]:
    activation: Activation | None = None
    if command.type is CommandType.REQUEST:
        rows = await conn.execute_query_dict(
            _REQUEST_FACTS, [command.actor_cpf, command.company_cnpj, command.activation_id]
        )
        problem = request_problem(command, rows[0] if rows else None)
        if problem is not None:
            return await _reject(conn, command, None, problem), []
    else:
        rows = await conn.execute_query_dict("SELECT is_superuser FROM users WHERE cpf = $1", [command.actor_cpf])
        if rows:
            activation = (
                await Activation.filter(id=command.activation_id).select_for_update().using_db(conn).first()
            )
    if not rows:
        return await _reject(conn, command, None, Rejected(Reason.FORBIDDEN, "The actor is not a known user.")), []
    state = activation.status if activation is not None else None
    role = Actor(
        is_requester=activation is None or activation.requester_id == command.actor_cpf,
        is_superuser=bool(rows[0]["is_superuser"]),
    )
    try:
        target = apply(state, command.type, role)
    except Rejected as rejection:
        if overtook_its_request(command, rejection, datetime.now(UTC), out_of_order_wait):
            if await _request_was_rejected(conn, command):
                rejection = Rejected(Reason.FINAL, "The activation was never created: its request was rejected.")
            else:
                raise Deferred(f"activation {command.activation_id} does not exist yet; its request may still "
                               f"be queued") from None
        return await _reject(conn, command, state, rejection), []
    activation = await _save_activation(conn, command, activation, target)
    event = await ActivationEvent.create(
        activation_id=activation.id,
        command_id=command.id,
        command=command.type,
        outcome=Outcome.APPLIED,
        actor_cpf=command.actor_cpf,
        company_cnpj=activation.company_id,
        from_status=state,
        to_status=target,
        message=command.reason if command.type is CommandType.REFUSE else None,
        issued_at=command.issued_at,
        using_db=conn,
    )
    notification = await Notification.create(
        id=uuid.uuid4(),
        event=event,
        activation=activation,
        recipient_id=activation.requester_id,
        kind=NOTIFY[target],
        using_db=conn,
    )
    log.info("Applied %s %s to activation %s by %s: %s -> %s.",
             command.type, command.id, activation.id, command.actor_cpf, state or "(new)", target)
    return event, [notification]


async def _request_was_rejected(conn: BaseDBAsyncClient, command: Command) -> bool:
    """Whether the request of the command's activation was already decided against: nothing to wait for.

    Only a rejected request counts. This read sees what committed after the activation was
    looked up: a request applied in between is found here, and the command waits for its
    next turn, which finds the activation.
    """
    rows = await conn.execute_query_dict(
        "SELECT EXISTS (SELECT 1 FROM activation_events WHERE activation_id = $1 AND command = 'request' "
        "AND outcome = 'rejected') AS seen",
        [command.activation_id],
    )
    return bool(rows[0]["seen"])


def request_problem(command: Command, facts: dict[str, Any] | None) -> Rejected | None:
    """What makes a new request impossible, if anything, from the facts read for it."""
    if facts is None:
        return Rejected(Reason.FORBIDDEN, "The actor is not a known user.")
    if not facts["company_exists"]:
        return Rejected(Reason.NOT_FOUND, f"Company {command.company_cnpj} does not exist.")
    if facts["taken"]:
        return Rejected(Reason.ALREADY_EXISTS, "The activation was already requested.")
    if facts["pending"]:
        return Rejected(
            Reason.DUPLICATE_PENDING, f"There is already a pending activation at company {command.company_cnpj}."
        )
    return None


async def _save_activation(
    conn: BaseDBAsyncClient, command: Command, activation: Activation | None, target: Status
) -> Activation:
    if activation is None:
        assert command.company_cnpj is not None
        return await Activation.create(
            id=command.activation_id,
            requester_id=command.actor_cpf,
            company_id=command.company_cnpj,
            status=target,
            using_db=conn,
        )
    activation.status = target
    if command.type in (CommandType.APPROVE, CommandType.REFUSE):
        activation.decided_by_id = command.actor_cpf
        if command.reason is not None:
            activation.reason = command.reason
    await activation.save(using_db=conn)
    return activation


async def _reject(
    conn: BaseDBAsyncClient, command: Command, state: Status | None, rejection: Rejected
) -> ActivationEvent:
    event = await ActivationEvent.create(
        activation_id=command.activation_id,
        command_id=command.id,
        command=command.type,
        outcome=Outcome.REJECTED,
        actor_cpf=command.actor_cpf,
        company_cnpj=command.company_cnpj,
        from_status=state,
        to_status=None,
        reason_code=rejection.reason,
        message=rejection.message,
        issued_at=command.issued_at,
        using_db=conn,
    )
    log.info("Rejected %s %s on activation %s by %s: %s",
             command.type, command.id, command.activation_id, command.actor_cpf, rejection.message)
    return event
