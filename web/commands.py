"""Turn an HTTP call into a command: check what is cheap to check, publish, confirm."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.ids import CLOCK_SKEW, issued_at
from models.messages import COMMANDS_EXCHANGE, Command
from models.state_machine import Actor, CommandType, Rejected, Status, apply
from web import reads
from web.directory import CompanyDirectory
from web.errors import ApiError, from_rejection
from web.metrics import COMMANDS
from web.pending import PendingChecks
from workers.broker import Broker, BrokerUnavailable, PublishInDoubt, Unroutable

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Caller:
    """The logged-in user, from the token's claims."""

    cpf: str
    superuser: bool

    @classmethod
    def from_claims(cls, user: dict[str, Any]) -> Caller:
        return cls(cpf=str(user["cpf"]), superuser=bool(user.get("superuser")))


# For a company the directory does not know (yet): both checks in one round trip.
_COMPANY_AND_PENDING = """
SELECT EXISTS (SELECT 1 FROM companies WHERE cnpj = $2) AS company,
       EXISTS (SELECT 1 FROM activations
               WHERE requester_id = $1 AND company_id = $2 AND status = 'pending') AS pending
"""


async def precheck_request(caller: Caller, cnpj: str, companies: CompanyDirectory, checks: PendingChecks) -> None:
    """Refuse a request for an unknown company, or where the caller already has one pending.

    The company is looked up in memory; whether something is pending is always read afresh.
    """
    if await companies.knows(cnpj):
        pending = await checks.has_pending(caller.cpf, cnpj)
    else:
        found = (await reads.fetch(_COMPANY_AND_PENDING, caller.cpf, cnpj))[0]
        if not found["company"]:
            raise ApiError(404, "company_not_found", f"There is no partner company with CNPJ {cnpj}.")
        companies.expire()  # a company added since the directory's last load
        pending = found["pending"]
    if pending:
        raise ApiError(409, "duplicate_pending", f"You already have a pending activation at company {cnpj}.")


async def precheck(caller: Caller, command: CommandType, activation_id: uuid.UUID, queued_grace: float) -> None:
    """Reject early what the database already shows to be impossible; the worker decides the rest."""
    found = await reads.activation_for_command(activation_id)
    if found["rejected"]:
        raise ApiError(409, "already_final", "This activation request was rejected and cannot change.")
    if found["status"] is None:
        made = issued_at(activation_id)
        # An id the API handed out this recently may belong to a request still in the queue;
        # one from the future (beyond the clock skew between hosts) was never handed out.
        age = (datetime.now(UTC) - made).total_seconds() if made is not None else None
        if age is None or not -CLOCK_SKEW <= age <= queued_grace:
            raise ApiError(404, "not_found", f"There is no activation {activation_id}.")
        return  # probably still queued: let the worker decide once the request is applied
    role = Actor(is_requester=found["requester_id"] == caller.cpf, is_superuser=caller.superuser)
    if not role.is_requester and not role.is_superuser:
        raise ApiError(403, "forbidden", "You may only act on your own activations.")
    try:
        apply(Status(found["status"]), command, role)
    except Rejected as rejection:
        raise from_rejection(rejection) from None


async def publish(broker: Broker, command: Command) -> None:
    """Publish `command` and return only once RabbitMQ has it safely; 503 otherwise."""
    try:
        await broker.publish(COMMANDS_EXCHANGE, command.type.value, command.encode(), str(command.id))
    except PublishInDoubt as exc:
        COMMANDS.labels(command.type.value, "unconfirmed").inc()
        log.warning("Command %s went to RabbitMQ but was not confirmed (%s); it may still be applied.",
                    command.id, exc)
        raise ApiError(503, "broker_unconfirmed",
                       f"The message broker did not confirm the command, so it may still be applied: look at "
                       f"/activations/{command.activation_id} in a moment before sending it again, or send it "
                       f"again with the same Idempotency-Key, which can never apply it twice.",
                       {"id": command.activation_id, "command_id": command.id}) from exc
    except Unroutable as exc:
        COMMANDS.labels(command.type.value, "unroutable").inc()
        log.error("Command %s could not be routed (%s); is the commands queue bound?", command.id, exc)
        raise ApiError(503, "broker_unroutable",
                       "The command could not be queued; nothing was done. Try again shortly.") from exc
    except BrokerUnavailable as exc:
        COMMANDS.labels(command.type.value, "broker_unavailable").inc()
        log.warning("Command %s was not sent, nothing was done (answered 503): %s", command.id, exc)
        raise ApiError(503, "broker_unavailable",
                       "The message broker did not accept the command; nothing was done. Try again shortly.") from exc
    COMMANDS.labels(command.type.value, "queued").inc()
    # Debug only: at hundreds of commands a second the log would drown everything else.
    log.debug("Queued %s %s for activation %s by %s.",
              command.type, command.id, command.activation_id, command.actor_cpf)


def new_command(caller: Caller, kind: CommandType, command_id: uuid.UUID, activation_id: uuid.UUID,
                company: str | None = None, reason: str | None = None) -> Command:
    return Command(id=command_id, type=kind, activation_id=activation_id, actor_cpf=caller.cpf,
                   issued_at=datetime.now(UTC), company_cnpj=company, reason=reason)
