"""When a worker waits for a command's request instead of rejecting the command: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.ids import CLOCK_SKEW, uuid7
from models.messages import Command
from models.state_machine import CommandType, Reason, Rejected
from workers.transitions import overtook_its_request

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WAIT = 300.0
NOT_FOUND = Rejected(Reason.NOT_FOUND, "no such activation")


def a_cancel(age: float, kind: CommandType = CommandType.CANCEL) -> Command:
    return Command(id=uuid7(), type=kind, activation_id=uuid7(), actor_cpf="52998224725",
                   issued_at=NOW - timedelta(seconds=age), company_cnpj=None)


@pytest.mark.parametrize(("age", "waits"), [
    (0.0, True),
    (WAIT - 1, True),
    (WAIT, False),  # waited long enough: rejected
    (-CLOCK_SKEW + 1, True),  # another host's clock a little ahead
    (-CLOCK_SKEW - 1, False),  # from the future: its request will never come
    (-365 * 86400 * 5000, False),
])
def test_a_command_for_an_unknown_activation_waits_only_within_the_bounded_window(age: float, waits: bool) -> None:
    assert overtook_its_request(a_cancel(age), NOT_FOUND, NOW, WAIT) is waits


def test_only_a_missing_activation_is_worth_waiting_for() -> None:
    final = Rejected(Reason.FINAL, "already decided")
    assert not overtook_its_request(a_cancel(1.0), final, NOW, WAIT)
    assert not overtook_its_request(a_cancel(1.0, CommandType.REQUEST), NOT_FOUND, NOW, WAIT)
