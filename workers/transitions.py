"""Apply a batch of commands inside one database transaction: claim, load, decide, save.

A batch is decided in order, exactly as if its commands had been applied one after the
other: a cancel right behind its request finds the activation the request created. What
the commands read is loaded once for the whole batch and what they write is saved once,
so a batch of a hundred costs a handful of round trips and one commit, not five hundred
and a hundred.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import db
from models.entities import NotificationKind, Outcome
from models.errors import Deferred
from models.ids import CLOCK_SKEW
from models.messages import Command
from models.queries import PENDING_PAIRS
from models.state_machine import Actor, CommandType, Reason, Rejected, Status, apply
from workers.database import transient_db_errors

log = logging.getLogger(__name__)

NOTIFY: dict[Status, NotificationKind] = {
    Status.PENDING: NotificationKind.RECEIVED,
    Status.APPROVED: NotificationKind.APPROVED,
    Status.REFUSED: NotificationKind.REFUSED,
    Status.CANCELLED: NotificationKind.CANCELLED,
}


@dataclass(frozen=True)
class Event:
    """One row of an activation's history, as recorded and as published to other services."""

    activation_id: uuid.UUID
    command_id: uuid.UUID
    command: CommandType
    outcome: Outcome
    actor_cpf: str
    company_cnpj: str | None
    from_status: Status | None
    to_status: Status | None
    reason_code: str | None
    message: str | None
    issued_at: datetime
    created_at: datetime


@dataclass
class Processed:
    """What a command left behind, to publish once the transaction has committed."""

    event: Event
    notifications: list[uuid.UUID] = field(default_factory=list)
    duplicate: bool = False


class MissingEvent(RuntimeError):
    """A command is recorded as processed but its event is not there: the database was changed by hand."""


async def process_batch(commands: list[Command], out_of_order_wait: float) -> list[Processed | Exception]:
    """Apply `commands` (distinct ids, in arrival order) exactly once, in one transaction.

    Returns one result per command: what it produced (what it produced the first time, if
    it was processed before), or Deferred when it may have overtaken its request (nothing
    is recorded for it, so it comes back later). A database failure raises and saves nothing.
    """
    with transient_db_errors():
        async with db.transaction() as conn:
            return await _Batch(conn, commands, out_of_order_wait).run()


def overtook_its_request(command: Command, rejection: Rejected, now: datetime, wait: float) -> bool:
    """Whether a rejection may only mean the request has not been applied yet.

    A command dated further ahead than the clocks of two hosts can differ was not issued
    by our API: waiting for its request would never end.
    """
    age = (now - command.issued_at).total_seconds()
    return rejection.reason is Reason.NOT_FOUND and command.type is not CommandType.REQUEST and \
        -CLOCK_SKEW <= age < wait


def request_problem(command: Command, *, company_exists: bool, taken: bool, pending: bool) -> Rejected | None:
    """What makes a new request by a known user impossible, if anything."""
    if not company_exists:
        return Rejected(Reason.NOT_FOUND, f"Company {command.company_cnpj} does not exist.")
    if taken:
        return Rejected(Reason.ALREADY_EXISTS, "The activation was already requested.")
    if pending:
        return Rejected(
            Reason.DUPLICATE_PENDING, f"There is already a pending activation at company {command.company_cnpj}."
        )
    return None


# Record the command ids; the ones returned are new. A concurrent duplicate blocks on the
# primary key until the first transaction commits, then is not returned, so two deliveries
# can never both apply. Sorted, so two batches always take these locks in the same order.
_CLAIM = """
INSERT INTO processed_commands (command_id, activation_id, processed_at)
SELECT c.id, c.activation_id, now() FROM unnest($1::uuid[], $2::uuid[]) AS c(id, activation_id) ORDER BY c.id
ON CONFLICT (command_id) DO NOTHING
RETURNING command_id
"""

_UNCLAIM = "DELETE FROM processed_commands WHERE command_id = ANY($1::uuid[])"

# What commands processed before left behind: their event and the e-mails still to send.
_PREVIOUS = """
SELECT e.activation_id, e.command_id, e.command, e.outcome, e.actor_cpf, e.company_cnpj, e.from_status,
       e.to_status, e.reason_code, e.message, e.issued_at, e.created_at,
       array_remove(array_agg(n.id), NULL) AS pending
FROM activation_events e
LEFT JOIN notifications n ON n.event_id = e.id AND n.status = 'pending'
WHERE e.command_id = ANY($1::uuid[])
GROUP BY e.id
"""

# Requesters are locked: that serialises one customer's requests across workers, so the
# one-pending-per-company check holds. Everyone else is only read.
_LOCK_REQUESTERS = "SELECT cpf, is_superuser FROM users WHERE cpf = ANY($1::text[]) ORDER BY cpf FOR UPDATE"
_READ_USERS = "SELECT cpf, is_superuser FROM users WHERE cpf = ANY($1::text[])"
_LOCK_ACTIVATIONS = """
SELECT id, requester_id, company_id, status, decided_by_id, reason
FROM activations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
"""
_COMPANIES = "SELECT cnpj FROM companies WHERE cnpj = ANY($1::text[])"
_REQUEST_REJECTED = """
SELECT EXISTS (SELECT 1 FROM activation_events WHERE activation_id = $1 AND command = 'request'
               AND outcome = 'rejected') AS seen
"""

_INSERT_ACTIVATIONS = """
INSERT INTO activations (id, requester_id, company_id, status, decided_by_id, reason, created_at, updated_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[], $8::timestamptz[])
"""
_UPDATE_ACTIVATIONS = """
UPDATE activations a SET status = v.status, decided_by_id = v.decided_by_id, reason = v.reason,
                         updated_at = v.updated_at
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
     AS v(id, status, decided_by_id, reason, updated_at)
WHERE a.id = v.id
"""
# In the batch's order, so the history's ids follow the order the commands were applied in.
_INSERT_EVENTS = """
INSERT INTO activation_events (activation_id, command_id, command, outcome, actor_cpf, company_cnpj, from_status,
                               to_status, reason_code, message, issued_at, created_at)
SELECT activation_id, command_id, command, outcome, actor_cpf, company_cnpj, from_status, to_status,
       reason_code, message, issued_at, created_at
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[])
     WITH ORDINALITY AS e(activation_id, command_id, command, outcome, actor_cpf, company_cnpj, from_status,
                          to_status, reason_code, message, issued_at, created_at, position)
ORDER BY position
RETURNING id, command_id
"""
_INSERT_NOTIFICATIONS = """
INSERT INTO notifications (id, event_id, activation_id, recipient_id, kind, status, attempts, created_at)
SELECT id, event_id, activation_id, recipient_id, kind, 'pending', 0, created_at
FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[])
     AS n(id, event_id, activation_id, recipient_id, kind, created_at)
"""


@dataclass
class _Activation:
    """An activation as the batch sees it: loaded from the database or created by the batch."""

    requester_id: str
    company_id: str
    status: Status
    decided_by_id: str | None = None
    reason: str | None = None
    new: bool = False
    changed: bool = False


@dataclass
class _Notification:
    id: uuid.UUID
    command_id: uuid.UUID
    activation_id: uuid.UUID
    recipient_id: str
    kind: NotificationKind
    created_at: datetime


class _Batch:
    """One transaction's worth of commands: load what they read, decide in order, save."""

    def __init__(self, conn: BaseDBAsyncClient, commands: list[Command], out_of_order_wait: float) -> None:
        self.conn = conn
        self.commands = commands
        self.wait = out_of_order_wait
        self.results: dict[uuid.UUID, Processed | Exception] = {}
        self.events: list[Event] = []
        self.notifications: list[_Notification] = []
        self.unclaimed: list[uuid.UUID] = []
        # The facts, loaded once and kept up to date as the batch decides.
        self.users: dict[str, bool] = {}  # cpf -> is_superuser
        self.activations: dict[uuid.UUID, _Activation] = {}
        self.companies: set[str] = set()
        self.pending: set[tuple[str, str]] = set()  # (requester, company)
        self.rejected_requests: set[uuid.UUID] = set()  # activations whose request this batch rejected

    async def run(self) -> list[Processed | Exception]:
        new = await self._claim()
        if len(new) < len(self.commands):
            await self._previous([c for c in self.commands if c.id not in new])
        fresh = [c for c in self.commands if c.id in new]
        if fresh:
            await self._load(fresh)
            for command in fresh:
                await self._decide(command)
            await self._save()
            self._log_summary(fresh)
        return [self.results[c.id] for c in self.commands]

    async def _query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return await self.conn.execute_query_dict(sql, list(args))

    async def _claim(self) -> set[uuid.UUID]:
        rows = await self._query(_CLAIM, [c.id for c in self.commands], [c.activation_id for c in self.commands])
        return {row["command_id"] for row in rows}

    async def _previous(self, seen: list[Command]) -> None:
        rows = await self._query(_PREVIOUS, [c.id for c in seen])
        found = {row["command_id"]: row for row in rows}
        for command in seen:
            row = found.get(command.id)
            if row is None:
                self.results[command.id] = MissingEvent(
                    f"Command {command.id} is marked processed but has no event; was the history edited by hand?")
                continue
            event = Event(
                activation_id=row["activation_id"], command_id=row["command_id"],
                command=CommandType(row["command"]), outcome=Outcome(row["outcome"]), actor_cpf=row["actor_cpf"],
                company_cnpj=row["company_cnpj"],
                from_status=Status(row["from_status"]) if row["from_status"] else None,
                to_status=Status(row["to_status"]) if row["to_status"] else None,
                reason_code=row["reason_code"], message=row["message"],
                issued_at=row["issued_at"], created_at=row["created_at"],
            )
            self.results[command.id] = Processed(event, list(row["pending"]), duplicate=True)
            log.info("Command %s was already processed; not applying it again.", command.id)

    async def _load(self, commands: list[Command]) -> None:
        requesters = sorted({c.actor_cpf for c in commands if c.type is CommandType.REQUEST})
        others = sorted({c.actor_cpf for c in commands} - set(requesters))
        for sql, cpfs in ((_LOCK_REQUESTERS, requesters), (_READ_USERS, others)):
            if cpfs:
                self.users.update({row["cpf"]: bool(row["is_superuser"]) for row in await self._query(sql, cpfs)})
        ids = sorted({c.activation_id for c in commands})
        for row in await self._query(_LOCK_ACTIVATIONS, ids):
            self.activations[row["id"]] = _Activation(row["requester_id"], row["company_id"], Status(row["status"]),
                                                      row["decided_by_id"], row["reason"])
        if requesters:
            cnpjs = sorted({c.company_cnpj for c in commands if c.company_cnpj is not None})
            self.companies = {row["cnpj"] for row in await self._query(_COMPANIES, cnpjs)}
            pairs = sorted({(c.actor_cpf, c.company_cnpj) for c in commands
                            if c.type is CommandType.REQUEST and c.company_cnpj is not None})
            rows = await self._query(PENDING_PAIRS, [cpf for cpf, _ in pairs], [cnpj for _, cnpj in pairs])
            self.pending = {(row["requester_id"], row["company_id"]) for row in rows}

    async def _decide(self, command: Command) -> None:
        """Decide one command against the facts as the commands before it left them."""
        superuser = self.users.get(command.actor_cpf)
        activation = self.activations.get(command.activation_id)
        if superuser is None:
            return self._reject(command, None, Rejected(Reason.FORBIDDEN, "The actor is not a known user."))
        if command.type is CommandType.REQUEST:
            problem = request_problem(
                command,
                company_exists=command.company_cnpj in self.companies,
                taken=activation is not None or command.activation_id in self.rejected_requests,
                pending=(command.actor_cpf, command.company_cnpj) in self.pending,
            )
            if problem is not None:
                return self._reject(command, None, problem)
            activation = None
        state = activation.status if activation is not None else None
        role = Actor(is_requester=activation is None or activation.requester_id == command.actor_cpf,
                     is_superuser=superuser)
        try:
            target = apply(state, command.type, role)
        except Rejected as rejection:
            if overtook_its_request(command, rejection, datetime.now(UTC), self.wait):
                if await self._request_was_rejected(command):
                    rejection = Rejected(Reason.FINAL, "The activation was never created: its request was rejected.")
                else:
                    # Nothing is recorded for it: its claim goes too, so it is new when it comes back.
                    self.unclaimed.append(command.id)
                    self.results[command.id] = Deferred(
                        f"activation {command.activation_id} does not exist yet; its request may still be queued")
                    return None
            return self._reject(command, state, rejection)
        self._apply(command, activation, target)
        return None

    async def _request_was_rejected(self, command: Command) -> bool:
        """Whether the request of the command's activation was already decided against: nothing to wait for.

        Only a rejected request counts. This read sees what committed after the activation was
        locked: a request applied in between is found here, and the command waits for its
        next turn, which finds the activation.
        """
        if command.activation_id in self.rejected_requests:
            return True
        rows = await self._query(_REQUEST_REJECTED, command.activation_id)
        return bool(rows[0]["seen"])

    def _apply(self, command: Command, activation: _Activation | None, target: Status) -> None:
        state = activation.status if activation is not None else None
        if activation is None:
            assert command.company_cnpj is not None
            activation = _Activation(command.actor_cpf, command.company_cnpj, target, new=True)
            self.activations[command.activation_id] = activation
        else:
            activation.status = target
            activation.changed = True
            if command.type in (CommandType.APPROVE, CommandType.REFUSE):
                activation.decided_by_id = command.actor_cpf
                if command.reason is not None:
                    activation.reason = command.reason
        key = (activation.requester_id, activation.company_id)
        if target is Status.PENDING:
            self.pending.add(key)
        else:
            self.pending.discard(key)
        event = self._record(command, Outcome.APPLIED, activation.company_id, state, target,
                             message=command.reason if command.type is CommandType.REFUSE else None)
        notification = _Notification(uuid.uuid4(), command.id, command.activation_id, activation.requester_id,
                                     NOTIFY[target], event.created_at)
        self.notifications.append(notification)
        self.results[command.id] = Processed(event, [notification.id])
        log.debug("Applied %s %s to activation %s by %s: %s -> %s.", command.type, command.id,
                  command.activation_id, command.actor_cpf, state or "(new)", target)

    def _reject(self, command: Command, state: Status | None, rejection: Rejected) -> None:
        if command.type is CommandType.REQUEST:
            self.rejected_requests.add(command.activation_id)
        event = self._record(command, Outcome.REJECTED, command.company_cnpj, state, None,
                             reason_code=rejection.reason, message=rejection.message)
        self.results[command.id] = Processed(event)
        log.info("Rejected %s %s on activation %s by %s: %s", command.type, command.id, command.activation_id,
                 command.actor_cpf, rejection.message)

    def _record(self, command: Command, outcome: Outcome, company: str | None, state: Status | None,
                target: Status | None, *, reason_code: str | None = None, message: str | None = None) -> Event:
        event = Event(
            activation_id=command.activation_id, command_id=command.id, command=command.type, outcome=outcome,
            actor_cpf=command.actor_cpf, company_cnpj=company, from_status=state, to_status=target,
            reason_code=reason_code, message=message, issued_at=command.issued_at, created_at=datetime.now(UTC),
        )
        self.events.append(event)
        return event

    async def _save(self) -> None:
        """Everything the batch decided, in five statements at most."""
        now = datetime.now(UTC)
        if self.unclaimed:
            await self._query(_UNCLAIM, self.unclaimed)
        # Updates first: a request may follow a cancel of the same customer's pending one at the
        # same company, and its new pending row must not meet the old one still pending.
        changed = [(i, a) for i, a in self.activations.items() if a.changed and not a.new]
        if changed:
            await self._query(_UPDATE_ACTIVATIONS, *_columns(
                [(i, a.status, a.decided_by_id, a.reason, now) for i, a in changed], 5))
        created = [(i, a) for i, a in self.activations.items() if a.new]
        if created:
            await self._query(_INSERT_ACTIVATIONS, *_columns(
                [(i, a.requester_id, a.company_id, a.status, a.decided_by_id, a.reason, now, now)
                 for i, a in created], 8))
        if not self.events:
            return
        rows = await self._query(_INSERT_EVENTS, *_columns(
            [(e.activation_id, e.command_id, e.command, e.outcome, e.actor_cpf, e.company_cnpj, e.from_status,
              e.to_status, e.reason_code, e.message, e.issued_at, e.created_at) for e in self.events], 12))
        if self.notifications:
            event_ids = {row["command_id"]: row["id"] for row in rows}
            await self._query(_INSERT_NOTIFICATIONS, *_columns(
                [(n.id, event_ids[n.command_id], n.activation_id, n.recipient_id, n.kind, n.created_at)
                 for n in self.notifications], 6))

    def _log_summary(self, fresh: list[Command]) -> None:
        outcomes = Counter(e.outcome for e in self.events)
        log.info("Processed a batch of %d command(s) in one transaction: %d applied, %d rejected, %d deferred, "
                 "%d already processed.", len(self.commands), outcomes[Outcome.APPLIED],
                 outcomes[Outcome.REJECTED], len(self.unclaimed), len(self.commands) - len(fresh))


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column, the shape `unnest` takes."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
