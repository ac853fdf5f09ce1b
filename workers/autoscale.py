"""How many workers a pool should have: a pure decision from queue depth, rate and time.

Scale up at once when the backlog needs it; scale down only after a cooldown during
which no new backlog appeared, so the pool does not flap between sizes. No I/O, no clock:
the supervisor passes `now` in, and the tests pass whatever time they like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds and tuning of one pool."""

    minimum: int
    maximum: int
    backlog_per_worker: int = 200  # messages waiting that justify one more worker
    drain_target: float = 30.0  # seconds in which the pool should be able to drain its queue
    cooldown: float = 30.0  # seconds without new backlog before shrinking

    def clamp(self, size: int) -> int:
        return max(self.minimum, min(self.maximum, size))


@dataclass(frozen=True)
class Observation:
    """One look at a queue: messages waiting, messages in flight, and how fast they are acked."""

    ready: int
    unacked: int
    rate: float  # acks per second, over the broker's last sampling window

    @property
    def depth(self) -> int:
        return self.ready + self.unacked


@dataclass(frozen=True)
class Decision:
    """The size a pool should have and the sentence explaining why."""

    size: int
    reason: str

    def changes(self, current: int) -> bool:
        return self.size != current


def needed(observation: Observation, current: int, limits: Limits) -> int:
    """Workers the backlog calls for, before any cooldown: the larger of two estimates.

    By volume: one worker per `backlog_per_worker` waiting messages. By speed: if the
    current workers, at the measured rate, would take longer than `drain_target` to
    empty the queue, grow in proportion.
    """
    if observation.depth <= 0:
        return limits.minimum
    by_volume = math.ceil(observation.depth / limits.backlog_per_worker)
    by_speed = 0
    if observation.rate > 0 and current > 0:
        drain_seconds = observation.depth / observation.rate
        by_speed = math.ceil(current * drain_seconds / limits.drain_target)
    return limits.clamp(max(by_volume, by_speed, 1))


def desired_workers(
    observation: Observation, current: int, limits: Limits, last_change: float, last_backlog: float, now: float
) -> Decision:
    """The pool size to have now.

    `last_change` is when the size last changed; `last_backlog` is the last time the
    backlog called for at least `current` workers. Shrinking waits until both are at
    least `cooldown` seconds old.
    """
    want = needed(observation, current, limits)
    facts = (f"{observation.ready} ready + {observation.unacked} in flight, "
             f"{observation.rate:.1f} acks/s, {current} running")
    if current < limits.minimum or current > limits.maximum:
        return Decision(limits.clamp(current), f"{facts}: bringing the pool within {limits.minimum}..{limits.maximum}")
    if want > current:
        return Decision(want, f"{facts}: backlog needs {want}, growing now")
    if want == current:
        return Decision(current, f"{facts}: size is right")
    quiet_for = now - max(last_change, last_backlog)
    if quiet_for < limits.cooldown:
        return Decision(current, f"{facts}: {want} would do, but waiting out the cooldown "
                                 f"({quiet_for:.0f}/{limits.cooldown:.0f} s)")
    if observation.depth == 0:
        return Decision(want, f"{facts}: queue empty for {quiet_for:.0f} s, shrinking to {want}")
    # Still busy but keeping up: shed one worker per cooldown, so the pool finds the size
    # that keeps up without dropping below it and bouncing back.
    return Decision(current - 1, f"{facts}: keeping up for {quiet_for:.0f} s, shrinking by one to {current - 1}")
