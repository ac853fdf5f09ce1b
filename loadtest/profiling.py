"""`make profile`: where our API and our workers spend their time under the bench's load, by py-spy.

Starts a private stack as `make bench` does, then:

- `api`: drives `GET /activations/request` with wrk (every request a new customer/company
  pair, so every answer is a 202) and samples the API process meanwhile;
- `drain`: queues a backlog of request commands, starts the worker pool, and samples a
  command worker, the notifier and the SMTP sink while they work through it.

Prints, for each process, the functions with the most samples, own time (the function
itself was running) and cumulative (it was on the stack), as shares of the samples where
the process was busy; idle time in the event loop's poll is left out.

Writes var/profile/<process>.folded (collapsed stacks: drop them on speedscope or
flamegraph.pl) and var/profile/<process>.txt (the tables).

    python -m loadtest.profiling api --seconds 15
    python -m loadtest.profiling drain --messages 8000 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from config import logging as logging_config
from config.settings import Settings
from loadtest.backlog import publish_all, spread_requests
from loadtest.bench import lua_script, mint, wrk
from loadtest.stack import PRODUCTION_TIMINGS, ROOT, Stack

log = logging.getLogger("profile")

# "function (path/to/module.py)" as py-spy writes a frame with --nolineno.
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


@dataclass(frozen=True)
class Entry:
    """One function's share of the busy samples."""

    function: str
    file: str
    own: float
    cumulative: float


def parse_folded(lines: Iterable[str]) -> tuple[Counter[str], Counter[str], int]:
    """Own and cumulative sample counts per frame, and the total, from py-spy's raw output.

    Each line is `frame;frame;...;leaf count`, outermost frame first. A frame that is on a
    stack twice (recursion) counts once towards its cumulative figure.
    """
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        # The first element may be a process or thread label rather than a frame.
        frames = [f for f in stack.split(";") if _FRAME.match(f)]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            cumulative[frame] += samples
    return own, cumulative, total


def top(own: Counter[str], cumulative: Counter[str], total: int, by: str, limit: int) -> list[Entry]:
    """The `limit` frames with the most `by` ("own" or "cumulative") samples, as percentages."""
    ranked = (own if by == "own" else cumulative).most_common(limit)
    entries = []
    for frame, _ in ranked:
        match = _FRAME.match(frame)
        assert match is not None  # parse_folded keeps only frames that match
        entries.append(Entry(match["function"], match["file"], 100 * own[frame] / max(total, 1),
                             100 * cumulative[frame] / max(total, 1)))
    return entries


def table(title: str, entries: list[Entry]) -> str:
    width = max([len(e.function) for e in entries] + [8])
    file_width = max([len(e.file) for e in entries] + [4])
    lines = [title, f"{'function':<{width}}  {'file':<{file_width}}  {'own %':>6}  {'cum %':>6}"]
    lines += [f"{e.function:<{width}}  {e.file:<{file_width}}  {e.own:6.1f}  {e.cumulative:6.1f}" for e in entries]
    return "\n".join(lines)


def record(pid: int, seconds: int, rate: int, output: Path) -> subprocess.Popen[bytes]:
    """Start py-spy sampling `pid` for `seconds`, writing collapsed stacks to `output`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(py_spy if py_spy.exists() else "py-spy"), "record", "--pid", str(pid),
                             "--duration", str(seconds), "--rate", str(rate), "--format", "raw", "--nolineno",
                             "--subprocesses", "--output", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def report(name: str, folded: Path, limit: int, headline: str) -> str:
    """The two tables of one process's profile, under `headline`."""
    own, cumulative, total = parse_folded(folded.read_text().splitlines())
    return "\n".join([
        f"{name}: {headline}; py-spy: {total} busy samples.",
        "",
        table("By own time:", top(own, cumulative, total, "own", limit)),
        "",
        table("By cumulative time:", top(own, cumulative, total, "cumulative", limit)),
    ])


def wait_for(spies: dict[str, tuple[subprocess.Popen[bytes], Path]], seconds: int) -> None:
    for name, (spy, folded) in spies.items():
        _, errors = spy.communicate(timeout=seconds + 60)
        if spy.returncode != 0 or not folded.exists():
            raise RuntimeError(f"py-spy on the {name} failed ({spy.returncode}): "
                               f"{errors.decode(errors='replace')[-2000:]}")


def profile_api(stack: Stack, args: argparse.Namespace, out: Path) -> list[str]:
    customers = [u for u in stack.users if u["role"] == "user"]
    companies = sorted({u["company_cnpj"] for u in stack.users})
    tokens = [mint(stack.base.secret, u) for u in customers]
    answer = httpx.get(f"{stack.api}/activations/request?company={companies[-1]}",
                       headers={"Authorization": f"Bearer {tokens[-1]}"}, timeout=10)
    if answer.status_code != 202:
        raise RuntimeError(f"the API does not accept the requests: {answer.status_code} {answer.text}")
    script = stack.root / "profile.lua"
    lua_script(script, tokens, companies, "/activations/request")
    folded = out / "api.folded"
    spies = {"API": (record(stack.processes["api"].pid, args.seconds, args.rate, folded), folded)}
    load = wrk(f"{stack.api}/activations/request", script, args.seconds, args.connections)
    wait_for(spies, args.seconds)
    headline = (f"wrk {load.get('rps', 0):.0f} req/s, p50 {load.get('p50_ms', 0):.1f} ms, "
                f"p99 {load.get('p99_ms', 0):.1f} ms, {load.get('non_2xx', 0):.0f} non-2xx")
    return [report("API", folded, args.top, headline)]


def worker_pids(pool_pid: int, timeout: float = 60) -> dict[str, int]:
    """The first command worker and notifier the supervisor started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, int] = {}
        for child in psutil.Process(pool_pid).children(recursive=True):
            cmdline = " ".join(child.cmdline())
            for role in ("command", "notifier"):
                if f"workers run {role}" in cmdline:
                    found.setdefault(role, child.pid)
        if len(found) == 2:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"the supervisor did not start a command worker and a notifier within {timeout:.0f} s")


def profile_drain(stack: Stack, args: argparse.Namespace, out: Path) -> list[str]:
    asyncio.run(publish_all(stack.amqp_url, spread_requests(stack.users, args.messages, seed=29)))
    stack.start_pool()
    pids = {**worker_pids(stack.processes["pool"].pid), "smtp-sink": stack.processes["smtp-sink"].pid}
    time.sleep(0.5)  # past the start-up: connections opened, consumers registered
    names = {role: role if role == "smtp-sink" else f"{role} worker" for role in pids}
    spies = {names[role]: (record(pid, args.seconds, args.rate, out / f"{role}.folded"), out / f"{role}.folded")
             for role, pid in pids.items()}
    wait_for(spies, args.seconds)
    return [report(name, folded, args.top, f"draining a backlog of {args.messages} requests")
            for name, (_, folded) in spies.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.profiling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["api", "drain"], nargs="?", default="api")
    parser.add_argument("--seconds", type=int, default=15, help="how long py-spy samples (and wrk drives the API)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--messages", type=int, default=8000, help="backlog for the drain profile")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25, help="rows in each table")
    parser.add_argument("--out", default="var/profile")
    args = parser.parse_args(argv)
    logging_config.setup("INFO", "profile")
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    overrides = {"LOG_LEVEL": "WARNING", **PRODUCTION_TIMINGS}
    stack = Stack(Settings.from_env(), Path(tempfile.mkdtemp(prefix="profile-")), overrides=overrides,
                  seed_args=("--companies", "30", "--per-company", "200", "--superusers", "10"))
    stack.start(pool=False)
    try:
        reports = profile_api(stack, args, out) if args.target == "api" else profile_drain(stack, args, out)
    finally:
        stack.stop()
    for text in reports:
        name = text.split(":", 1)[0].split()[0].lower()
        (out / f"{name}.txt").write_text(text + "\n")
    sys.stdout.write("\n\n".join(reports) + f"\n\nCollapsed stacks and tables in {out}/.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
