"""Where the CPU goes during a benchmark phase: CPU seconds per component, from /proc.

A phase is measured by two snapshots of every process's CPU time (user + system). Each
process this one started (and RabbitMQ, and PostgreSQL's backends of the bench's database)
is put in one component by what it runs: our API, command workers, notifier,
SMTP sink and supervisor, the ceilings, RabbitMQ, the PostgreSQL backends of the bench's
database, and the load generator. Divided by the messages handled, it says how much work
one message costs each part of the machine, which is what bounds the rate on a machine
whose cores are all busy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

from config.settings import load

# First match wins: (component, words that must all appear in the command line).
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ceiling API", ("loadtest.ceiling_api",)),
    ("ceiling worker", ("loadtest.ceiling_worker",)),
    ("API", ("-m web",)),
    ("command workers", ("workers run command",)),
    ("notifier", ("workers run notifier",)),
    ("SMTP sink", ("workers smtp-sink",)),
    ("supervisor", ("workers pool",)),
    ("RabbitMQ", ("beam.smp",)),
    ("load generator", ("wrk",)),
    ("load generator", ("locust",)),
)


def component(cmdline: str, database: str) -> str | None:
    """The component a process belongs to, or None when it is none of the bench's."""
    if cmdline.startswith("postgres:"):
        # A backend's title names its database; other databases' backends are someone else's.
        return "PostgreSQL" if f" {database} " in f"{cmdline} " else None
    for name, words in COMPONENTS:
        if all(word in cmdline for word in words):
            return name
    return None


# Servers shared by everything on the machine: counted whoever started them.
SHARED = {"RabbitMQ", "PostgreSQL"}


def _snapshot(database: str, home: str | None = None) -> dict[int, tuple[str, float]]:
    # Our own processes are the ones this process started: another copy of the service running
    # on the same machine has the same command lines but is not measured. With `home`, those
    # running in that directory (a checkout's `make run` and `make loadtest`) count too.
    mine = {child.pid for child in psutil.Process().children(recursive=True)}
    found: dict[int, tuple[str | None, int, float]] = {}
    here: set[int] = set()
    for process in psutil.process_iter(["cmdline", "cpu_times", "ppid", "cwd"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or []) or process.name()
            times = process.info["cpu_times"]
        except psutil.Error:
            continue
        if times is not None:
            found[process.pid] = (component(cmdline, database), process.info["ppid"] or 0, times.user + times.system)
            if home is not None and process.info["cwd"] == home:
                here.add(process.pid)
    seen: dict[int, tuple[str, float]] = {}
    for pid, (name, parent, used) in found.items():
        # A process started by one of ours (say, an API server process of API_WORKERS > 1, whose
        # command line is multiprocessing's) belongs to its parent's component.
        for _ in range(3):
            if name is not None or parent not in found:
                break
            name, parent, _used = found[parent]
        if name is not None and (name in SHARED or pid in mine or pid in here):
            seen[pid] = (name, used)
    return seen


@dataclass
class CpuMeter:
    """CPU seconds per component between `start()` and `stop()`."""

    database: str
    home: str | None = None  # also count the processes running in this directory, not only those this one started
    before: dict[int, tuple[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.before = _snapshot(self.database, self.home)

    def stop(self) -> dict[str, float]:
        """CPU seconds per component used since `start()` (processes started meanwhile count in full)."""
        totals: dict[str, float] = defaultdict(float)
        for pid, (name, used) in _snapshot(self.database, self.home).items():
            earlier = self.before.get(pid)
            totals[name] += used - (earlier[1] if earlier is not None and earlier[0] == name else 0.0)
        self.seconds = {name: round(value, 2) for name, value in sorted(totals.items()) if value > 0}
        return self.seconds


def per_unit_ms(seconds: dict[str, float], units: float) -> dict[str, float]:
    """CPU milliseconds per message (or request) for each component, and their total."""
    shares = {name: round(1000 * value / max(units, 1), 3) for name, value in seconds.items()}
    shares["total"] = round(sum(shares.values()), 3)
    return shares


def main(argv: list[str] | None = None) -> int:
    """Cores each component of a running service used over a while: `python -m loadtest.cpu --seconds 60`."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.cpu", description=main.__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--home", default=os.getcwd(),
                        help="count the processes running in this directory (default: here, the checkout whose "
                             "`make run` and `make loadtest` are measured), besides RabbitMQ and PostgreSQL")
    parser.add_argument("--database", default=None, help="whose PostgreSQL backends count (default: DATABASE_URL's)")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be more than 0, not {args.seconds}")
    database = args.database or urlsplit(load().database_url).path.lstrip("/")
    meter = CpuMeter(database, home=os.path.realpath(args.home))
    meter.start()
    time.sleep(args.seconds)
    used = meter.stop()
    width = max(len(name) for name in [*used, "total"])
    lines = [f"CPU over {args.seconds:.0f} s, in cores (1.00 = one core busy the whole time):"]
    ranked = sorted(used.items(), key=lambda kv: -kv[1])
    lines += [f"  {name:<{width}}  {value / args.seconds:5.2f}" for name, value in ranked]
    lines.append(f"  {'total':<{width}}  {sum(used.values()) / args.seconds:5.2f}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
