"""The activation state machine: a table of transitions and one pure `apply`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from models.errors import ActivationServiceError


class Status(StrEnum):
    """Where an activation stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self is not Status.PENDING


class CommandType(StrEnum):
    """What a user can ask for."""

    REQUEST = "request"
    CANCEL = "cancel"
    APPROVE = "approve"
    REFUSE = "refuse"


class Reason(StrEnum):
    """Why a command was rejected; also the `code` of the API error."""

    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    FORBIDDEN = "forbidden"
    OWN_REQUEST = "own_request"
    FINAL = "already_final"
    DUPLICATE_PENDING = "duplicate_pending"


@dataclass(frozen=True)
class Actor:
    """Who issues a command, relative to the activation it targets."""

    is_requester: bool
    is_superuser: bool


class Rejected(ActivationServiceError):
    """A command the state machine refuses: no state change, recorded in the history."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


TRANSITIONS: dict[tuple[Status | None, CommandType], Status] = {
    (None, CommandType.REQUEST): Status.PENDING,
    (Status.PENDING, CommandType.CANCEL): Status.CANCELLED,
    (Status.PENDING, CommandType.APPROVE): Status.APPROVED,
    (Status.PENDING, CommandType.REFUSE): Status.REFUSED,
}

_ALLOWED: dict[CommandType, Callable[[Actor], bool]] = {
    CommandType.REQUEST: lambda actor: actor.is_requester,
    CommandType.CANCEL: lambda actor: actor.is_requester,
    CommandType.APPROVE: lambda actor: actor.is_superuser and not actor.is_requester,
    CommandType.REFUSE: lambda actor: actor.is_superuser and not actor.is_requester,
}


def _forbidden(command: CommandType, actor: Actor) -> Rejected:
    if command in (CommandType.APPROVE, CommandType.REFUSE):
        if actor.is_superuser:
            return Rejected(Reason.OWN_REQUEST, f"A super-user may not {command} their own request.")
        return Rejected(Reason.FORBIDDEN, f"Only a super-user may {command} an activation.")
    return Rejected(Reason.FORBIDDEN, f"Only the requester may {command} this activation.")


def apply(state: Status | None, command: CommandType, actor: Actor) -> Status:
    """Return the state `command` by `actor` leads to from `state`, or raise `Rejected`.

    `state` is None when the activation does not exist yet. Existence is checked first,
    then permission, then the transition, so each rejection names the first real problem.
    """
    if state is None and command is not CommandType.REQUEST:
        raise (Rejected(Reason.NOT_FOUND, "The activation does not exist."))
    if state is not None and command is CommandType.REQUEST:
        raise (Rejected(Reason.ALREADY_EXISTS, "The activation was already requested."))
    if not _ALLOWED[command](actor):
        raise (_forbidden(command, actor))
    target = TRANSITIONS.get((state, command))
    if target is None:
        raise (
            Rejected(Reason.FINAL, f"The activation is already {state} and cannot be {_past(command)}.")
        )
    return target


def _past(command: CommandType) -> str:
    return {"request": "requested", "cancel": "cancelled", "approve": "approved", "refuse": "refused"}[
        command
    ]
