"""Every state x every command x every kind of actor, against an independent expectation."""

from __future__ import annotations

import itertools

import pytest

from models.state_machine import Actor, CommandType, Reason, Rejected, Status, apply

REQUESTER = Actor(is_requester=True, is_superuser=False)
SUPERUSER = Actor(is_requester=False, is_superuser=True)
OTHER = Actor(is_requester=False, is_superuser=False)
SUPERUSER_REQUESTER = Actor(is_requester=True, is_superuser=True)
ACTORS = {"requester": REQUESTER, "superuser": SUPERUSER, "other": OTHER, "superuser-requester": SUPERUSER_REQUESTER}
STATES: list[Status | None] = [None, *Status]


def expected(state: Status | None, command: CommandType, actor: str) -> Status | Reason:
    """The rules written out longhand, so the table in the module is checked, not restated."""
    if state is None:
        if command is not CommandType.REQUEST:
            return Reason.NOT_FOUND
        return Status.PENDING if actor in ("requester", "superuser-requester") else Reason.FORBIDDEN
    if command is CommandType.REQUEST:
        return Reason.ALREADY_EXISTS
    if command is CommandType.CANCEL:
        if actor not in ("requester", "superuser-requester"):
            return Reason.FORBIDDEN
        return Status.CANCELLED if state is Status.PENDING else Reason.FINAL
    # approve / refuse
    if actor == "superuser-requester":
        return Reason.OWN_REQUEST
    if actor != "superuser":
        return Reason.FORBIDDEN
    if state is not Status.PENDING:
        return Reason.FINAL
    return Status.APPROVED if command is CommandType.APPROVE else Status.REFUSED


CASES = list(itertools.product(STATES, CommandType, ACTORS))


def test_the_table_covers_every_state_command_and_actor() -> None:
    assert len(CASES) == 5 * 4 * 4


@pytest.mark.parametrize(("state", "command", "actor"), CASES)
def test_apply_gives_the_expected_state_or_rejection(state: Status | None, command: CommandType, actor: str) -> None:
    want = expected(state, command, actor)
    if isinstance(want, Status):
        assert apply(state, command, ACTORS[actor]) is want
    else:
        with pytest.raises(Rejected) as caught:
            apply(state, command, ACTORS[actor])
        assert caught.value.reason is want
        assert caught.value.message.endswith(".")


@pytest.mark.parametrize("state", [Status.APPROVED, Status.REFUSED, Status.CANCELLED])
def test_a_final_state_accepts_no_command_from_anyone(state: Status) -> None:
    for command, actor in itertools.product(CommandType, ACTORS.values()):
        with pytest.raises(Rejected):
            apply(state, command, actor)


def test_only_pending_is_not_final() -> None:
    assert [s for s in Status if not s.is_final] == [Status.PENDING]


def test_a_rejection_on_a_final_activation_names_its_state() -> None:
    with pytest.raises(Rejected, match="already approved and cannot be cancelled"):
        apply(Status.APPROVED, CommandType.CANCEL, REQUESTER)
