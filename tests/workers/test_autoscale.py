"""The pool-size decision, scenario by scenario, with an injected clock and no broker."""

from __future__ import annotations

import pytest

from workers.autoscale import Limits, Observation, desired_workers, needed

LIMITS = Limits(minimum=1, maximum=8, backlog_per_worker=100, drain_target=30, cooldown=60)


def obs(ready: int, unacked: int = 0, rate: float = 0.0) -> Observation:
    return Observation(ready=ready, unacked=unacked, rate=rate)


# (what happens, observation, current, seconds since last change, seconds since last backlog, expected size)
SCENARIOS = [
    ("an idle pool at its minimum stays there", obs(0), 1, 999, 999, 1),
    ("a small backlog one worker can handle keeps one", obs(50, 16), 1, 0, 0, 1),
    ("a large backlog grows the pool at once, cooldown or not", obs(450, 16), 1, 0, 0, 5),
    ("a huge backlog grows it to the maximum and no further", obs(100_000, 16), 2, 0, 0, 8),
    ("a slow drain grows the pool even when the volume looks small",
     obs(150, 16, rate=2.0), 2, 0, 0, 6),  # 166 msgs at 2/s = 83 s > 30 s target -> 2 * 83/30
    ("a fast drain does not", obs(150, 16, rate=100.0), 2, 0, 0, 2),
    ("an empty queue right after a change keeps the size (cooldown)", obs(0), 6, 10, 10, 6),
    ("an empty queue right after backlog keeps the size (cooldown)", obs(0), 6, 999, 59, 6),
    ("an empty queue after the cooldown goes straight to the minimum", obs(0), 6, 61, 61, 1),
    ("a busy queue that is keeping up sheds one worker per cooldown", obs(0, 40, rate=300), 6, 61, 61, 5),
    ("a size below the minimum is raised", obs(0), 0, 0, 0, 1),
    ("a size above the maximum is lowered", obs(0), 12, 0, 0, 8),
]


@pytest.mark.parametrize(("what", "observation", "current", "since_change", "since_backlog", "expected"),
                         SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_desired_workers(what: str, observation: Observation, current: int, since_change: float,
                         since_backlog: float, expected: int) -> None:
    now = 10_000.0
    decision = desired_workers(observation, current, LIMITS, now - since_change, now - since_backlog, now)
    assert decision.size == expected, decision.reason
    assert str(observation.ready) in decision.reason and str(current) in decision.reason


def test_the_pool_does_not_flap_when_a_backlog_comes_and_goes_within_the_cooldown() -> None:
    """Given bursts every 20 s and a 60 s cooldown, when the supervisor polls every second,
    then the pool grows once and never shrinks between bursts."""
    size, last_change, last_backlog, sizes = 1, -1000.0, -1000.0, [1]
    for second in range(300):
        burst = second % 20 < 3
        observation = obs(400 if burst else 0, 16 if burst else 0, rate=50.0)
        if needed(observation, size, LIMITS) >= size:
            last_backlog = second
        decision = desired_workers(observation, size, LIMITS, last_change, last_backlog, float(second))
        if decision.size != size:
            size, last_change = decision.size, float(second)
        sizes.append(size)
    changes = sum(1 for a, b in zip(sizes, sizes[1:], strict=False) if a != b)
    assert changes == 1 and max(sizes) == 5


def test_once_the_bursts_stop_the_pool_returns_to_its_minimum_after_one_cooldown() -> None:
    size, last_change, last_backlog = 5, 0.0, 0.0
    for second in range(1, 200):
        observation = obs(0)
        decision = desired_workers(observation, size, LIMITS, last_change, last_backlog, float(second))
        if decision.size != size:
            size, last_change = decision.size, float(second)
            assert second == 60
    assert size == 1
