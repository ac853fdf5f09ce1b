"""`make bench-scale`: drain one backlog with the pool fixed at one worker, then autoscaled.

Each run gets a private stack (own database and vhost) with the full demo data. The
backlog is published first, then the pool starts, and the clock runs until every command
has its event. Every half second it samples the pool size, the commands left and the
PostgreSQL connections of the run's database. Results go to docs/bench-scale.{json,md,png}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from config import logging as logging_config
from config.settings import Settings
from loadtest.backlog import ids, publish_all, spread_requests
from loadtest.stack import PRODUCTION_TIMINGS, ROOT, Stack

log = logging.getLogger("bench-scale")


@dataclass
class Run:
    """One drain of the backlog: its settings, its clock and its samples."""

    name: str
    minimum: int
    maximum: int
    seconds: float = 0.0
    peak_size: int = 0
    peak_connections: int = 0
    samples: list[dict[str, float]] = field(default_factory=list)


async def sample(stack: Stack, command_ids: list[object]) -> tuple[int, int]:
    events = await stack.query("SELECT count(*) AS n FROM activation_events WHERE command_id = ANY($1::uuid[])",
                               command_ids)
    connections = await stack.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1", stack.db_name)
    # Our own probe connection is one of them.
    return int(events[0]["n"]), int(connections[0]["n"]) - 1


def pool_size(stack: Stack) -> int:
    try:
        status = json.loads((stack.root / "supervisor.json").read_text())
        return int(status["pools"]["command"]["current"])
    except (OSError, ValueError, KeyError):
        return 0


def drain(run: Run, count: int, timeout: float) -> Run:
    overrides = {"WORKER_MIN_PROCESSES": str(run.minimum), "WORKER_MAX_PROCESSES": str(run.maximum),
                 "NOTIFIER_MIN_PROCESSES": "1", "NOTIFIER_MAX_PROCESSES": "1",
                 "SCALE_POLL_INTERVAL": "1", "SCALE_COOLDOWN": "15", "LOG_LEVEL": "WARNING", **PRODUCTION_TIMINGS}
    stack = Stack(Settings.from_env(), Path(tempfile.mkdtemp(prefix="bench-scale-")), overrides=overrides,
                  seed_args=("--companies", "30", "--per-company", "200", "--superusers", "10"))
    stack.start(pool=False)
    try:
        commands = spread_requests(stack.users, count)
        asyncio.run(publish_all(stack.amqp_url, commands))
        command_ids: list[object] = list(ids(commands))
        log.info("%s: %d commands queued; starting the pool (%d..%d workers).", run.name, count,
                 run.minimum, run.maximum)
        stack.start_pool()
        started = time.monotonic()
        done = 0
        while done < count and time.monotonic() - started < timeout:
            done, connections = asyncio.run(sample(stack, command_ids))
            size = pool_size(stack)
            run.samples.append({"t": round(time.monotonic() - started, 2), "size": size,
                                "left": count - done, "connections": connections})
            run.peak_size = max(run.peak_size, size)
            run.peak_connections = max(run.peak_connections, connections)
            time.sleep(0.5)
        run.seconds = round(time.monotonic() - started, 1)
        if done < count:
            raise RuntimeError(f"{run.name}: only {done} of {count} commands applied in {timeout:.0f} s")
        log.info("%s: drained %d commands in %.1f s (peak %d workers, %d PostgreSQL connections).",
                 run.name, count, run.seconds, run.peak_size, run.peak_connections)
        return run
    finally:
        stack.stop()


def chart(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (sizes, left) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for run in runs:
        t = [s["t"] for s in run.samples]
        sizes.step(t, [s["size"] for s in run.samples], where="post", label=f"{run.name} ({run.seconds:.0f} s)")
        left.plot(t, [s["left"] for s in run.samples], label=run.name)
    sizes.set_ylabel("command workers")
    sizes.legend()
    sizes.set_title("Draining the same backlog: pool size and commands left")
    left.set_ylabel("commands left")
    left.set_xlabel("seconds since the pool started")
    left.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def report(runs: list[Run], count: int) -> str:
    fixed, scaled = runs
    lines = [
        f"Backlog: {count} request commands from random demo customers at random companies.",
        "",
        "| pool | time to drain | commands/s | peak workers | peak PostgreSQL connections |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines.append(f"| {run.name} | {run.seconds:.1f} s | {count / run.seconds:.0f} | {run.peak_size} | "
                     f"{run.peak_connections} |")
    lines += ["", f"Autoscaled / fixed time to drain: {scaled.seconds / fixed.seconds:.2f}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_scale", description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--maximum", type=int, default=Settings.from_env().worker_max_processes)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--out", default="docs", help="where bench-scale.{json,md,png} go")
    args = parser.parse_args(argv)
    logging_config.setup("INFO", "bench")
    runs = [drain(Run("fixed at 1", 1, 1), args.count, args.timeout),
            drain(Run(f"autoscaled 1..{args.maximum}", 1, args.maximum), args.count, args.timeout)]
    docs = ROOT / args.out
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "bench-scale.json").write_text(json.dumps([asdict(r) for r in runs], indent=1))
    (docs / "bench-scale.md").write_text("# Scaling benchmark\n\n" + report(runs, args.count) +
                                         "\n\n![pool size over time](bench-scale.png)\n")
    chart(runs, docs / "bench-scale.png")
    sys.stdout.write(report(runs, args.count) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
