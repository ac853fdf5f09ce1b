"""`make bench`: our API and workers against the raw ceilings, side by side on this machine.

1. API: wrk drives our `GET /activations/request` (every request a new, valid command from
   a different customer/company pair, so every answer is a 202) and the minimal
   `loadtest/ceiling_api.py` (verify a JWT, publish one confirmed message). Five rounds,
   each running the two back to back (who goes first alternates); the round with the
   median ratio counts, and every round is kept in latest.json.
2. Workers: the same number of messages drained by our worker pool (commands applied,
   e-mails sent and delivered to the SMTP sink) and by `loadtest/ceiling_worker.py` (one
   INSERT transaction per message), with the same number of processes. Three rounds, who goes
   first alternating; the round with the median ratio counts. Each side is timed from its
   first message handled to its last, not from starting its processes.

Writes var/bench/latest.json and latest.png, and the figures between the bench markers of
docs/benchmarks.md and README.md (unless --no-docs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import jwt
import psutil

from config import logging as logging_config
from config.settings import Settings
from loadtest.backlog import ids, publish_all, spread_requests
from loadtest.ceiling_api import CEILING_QUEUE
from loadtest.cpu import CpuMeter, per_unit_ms
from loadtest.stack import PRODUCTION_TIMINGS, ROOT, Stack, free_port, quote_vhost

log = logging.getLogger("bench")


class PeakMemory(threading.Thread):
    """Samples the resident memory of named processes (and their children) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.pids: dict[str, list[int]] = {}
        self.peak: dict[str, float] = {}
        self.done = threading.Event()

    def watch(self, name: str, pid: int) -> None:
        self.pids.setdefault(name, []).append(pid)

    def run(self) -> None:
        while not self.done.is_set():
            for name, pids in list(self.pids.items()):
                for pid in pids:
                    try:
                        process = psutil.Process(pid)
                        for p in [process, *process.children(recursive=True)]:
                            mib = p.memory_info().rss / 2**20
                            key = name if p.pid == pid else f"{name} child"
                            self.peak[key] = max(self.peak.get(key, 0.0), mib)
                    except psutil.Error:
                        pass
            time.sleep(0.5)


def mint(secret: str, user: dict[str, str]) -> str:
    """An access token like the API's own, so wrk needs no log-in round."""
    claims = {"cpf": user["cpf"], "name": "bench", "company": user["company_cnpj"], "superuser": False,
              "exp": datetime.now(UTC) + timedelta(hours=2)}
    return jwt.encode(claims, secret, algorithm="HS256")


def lua_script(path: Path, tokens: list[str], companies: list[str], route: str, start: int = 0,
               threads: int = 2) -> None:
    """A wrk script walking through customer x company pairs, each wrk thread its own stride.

    Request k goes out as customer k mod #tokens at company k div #tokens: no pair twice
    until every pair has been used, so nothing is pending yet and every answer is a 202.
    """
    token_rows = ",\n".join(f'"{t}"' for t in tokens)
    company_rows = ", ".join(f'"{c}"' for c in companies)
    path.write_text(f"""
local tokens = {{
{token_rows}
}}
local companies = {{ {company_rows} }}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  n = 0
end
request = function()
  local k = {start} + n * {threads} + id
  n = n + 1
  local token = tokens[k % #tokens + 1]
  local company = companies[math.floor(k / #tokens) % #companies + 1]
  return wrk.format("GET", "{route}?company=" .. company, {{["Authorization"] = "Bearer " .. token}})
end
""")


def wrk(url: str, script: Path, seconds: int, connections: int, threads: int = 2,
        meter: CpuMeter | None = None) -> dict[str, Any]:
    """One wrk run; with `meter`, also the CPU each component spent per request meanwhile."""
    if meter is not None:
        meter.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                             "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict[str, Any] = parse_wrk(result.stdout)
    if meter is not None:
        # wrk has exited by now: its CPU is what this process's finished children used.
        cpu = {**meter.stop(), "load generator": round(after.ru_utime + after.ru_stime
                                                       - before.ru_utime - before.ru_stime, 2)}
        figures["cpu_s"] = cpu
        figures["cpu_ms_per_request"] = per_unit_ms(cpu, figures["requests"])
    return figures


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and the non-2xx count out of wrk's report."""
    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "non_2xx": float(errors.group(1)) if errors else 0.0, "requests": float(total.group(1)) if total else 0.0}


def median_round(ours: list[dict[str, Any]], raw: list[dict[str, Any]], rate: str) -> int:
    """The round whose ratio ours/ceiling is the median one (the lower middle of an even count).

    Each round runs the two sides back to back, so a ratio within a round compares like with
    like on a machine whose speed drifts; the median of those ratios is not moved by one
    lucky or unlucky round, which the best of each side alone would be.
    """
    ratios = sorted(range(len(ours)), key=lambda i: ours[i][rate] / max(raw[i][rate], 1e-9))
    return ratios[(len(ratios) - 1) // 2]


def api_phase(stack: Stack, seconds: int, rounds: int, connections: int, memory: PeakMemory,
              work: Path) -> dict[str, Any]:
    customers = [u for u in stack.users if u["role"] == "user"]
    companies = sorted({u["company_cnpj"] for u in stack.users})
    secret = stack.base.secret
    tokens = [mint(secret, u) for u in customers]
    first = httpx.get(f"{stack.api}/activations/request?company={companies[-1]}",
                      headers={"Authorization": f"Bearer {tokens[-1]}"}, timeout=10)
    if first.status_code != 202:
        raise RuntimeError(f"our API does not accept the bench's requests: {first.status_code} {first.text}")
    ceiling_port = free_port()
    ceiling = subprocess.Popen([sys.executable, "-m", "loadtest.ceiling_api", "--port", str(ceiling_port)],
                               cwd=ROOT, env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    memory.watch("ceiling API", ceiling.pid)
    memory.watch("API", stack.processes["api"].pid)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{ceiling_port}/ceiling", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        ours: list[dict[str, Any]] = []
        raw: list[dict[str, Any]] = []
        lua_script(work / "ceiling.lua", tokens, companies, "/ceiling")
        for round_ in range(rounds):
            # Each round starts where no pair of the earlier ones can have reached.
            lua_script(work / "ours.lua", tokens, companies, "/activations/request",
                       start=round_ * len(tokens) * len(companies) // rounds)
            # Each side starts from an empty queue: a quorum queue takes messages more slowly
            # the more it holds, and nothing consumes during this phase.
            purge(stack, "activations.commands")
            purge(stack, CEILING_QUEUE)
            sides = [("ours", f"{stack.api}/activations/request", work / "ours.lua"),
                     ("ceiling", f"http://127.0.0.1:{ceiling_port}/ceiling", work / "ceiling.lua")]
            if round_ % 2:
                sides.reverse()  # who goes first alternates, so a drifting machine favours neither
            for side, url, script in sides:
                figures = wrk(url, script, seconds, connections, meter=CpuMeter(stack.db_name))
                (ours if side == "ours" else raw).append(figures)
            log.info("API round %d: ours %.0f req/s, ceiling %.0f req/s.", round_ + 1, ours[-1]["rps"], raw[-1]["rps"])
    finally:
        ceiling.terminate()
        ceiling.wait(timeout=20)
    middle = median_round(ours, raw, "rps")
    return {"ours": ours[middle], "ceiling": raw[middle], "rounds": {"ours": ours, "ceiling": raw}}


def purge(stack: Stack, queue: str) -> None:
    httpx.delete(f"{stack.management_base}/api/queues/{quote_vhost(stack.vhost)}/{queue}/contents",
                 auth=stack.management_auth, timeout=10)


async def count(stack: Stack, sql: str, *args: Any) -> int:
    return int((await stack.query(sql, *args))[0][0])


def drain_ours(stack: Stack, messages: int, memory: PeakMemory, round_: int = 0) -> dict[str, Any]:
    purge(stack, "activations.commands")  # what the API phase queued
    commands = spread_requests(stack.users, messages, seed=23 + round_)
    wanted = list(ids(commands))
    asyncio.run(publish_all(stack.amqp_url, commands))
    meter = CpuMeter(stack.db_name)
    meter.start()
    stack.start_pool()
    memory.watch("worker pool", stack.processes["pool"].pid)
    started = time.monotonic()
    while True:
        events = asyncio.run(count(stack, "SELECT count(*) FROM activation_events WHERE command_id = ANY($1::uuid[])",
                                   wanted))
        pending = asyncio.run(count(stack, "SELECT count(*) FROM notifications WHERE status = 'pending'"))
        if events >= messages and pending == 0:
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    cpu = meter.stop()
    stack.stop_process("pool")
    mails = asyncio.run(count(stack, "SELECT count(*) FROM notifications WHERE status = 'sent'"))
    # From the first command applied to the last of their e-mails recorded as sent.
    window = asyncio.run(span(stack, _OURS_SPAN, wanted))
    return {"messages": messages, "seconds": round(seconds, 2), "window_s": round(window, 2),
            "mps": messages / window, "emails": mails, "cpu_s": cpu, "cpu_ms_per_message": per_unit_ms(cpu, messages)}


_OURS_SPAN = """
SELECT min(e.created_at), max(n.sent_at)
FROM activation_events e LEFT JOIN notifications n ON n.event_id = e.id
WHERE e.command_id = ANY($1::uuid[])
"""
_CEILING_SPAN = "SELECT min(done_at), max(done_at) FROM bench_ceiling WHERE id > $1"


async def span(stack: Stack, sql: str, *args: Any) -> float:
    """Seconds between the two times `sql` returns: when the work began and when it ended.

    Both sides are timed from their first message handled to their last, so starting the
    processes (ours: a supervisor, its workers and the notifier, each importing its
    libraries and connecting) is not counted as draining; the wall time is kept beside it.
    """
    first, last = (await stack.query(sql, *args))[0]
    return max((last - first).total_seconds(), 1e-3)


def drain_ceiling(stack: Stack, messages: int, processes: int, memory: PeakMemory) -> dict[str, Any]:
    queue = "bench.ceiling.drain"
    body = spread_requests(stack.users, 1, seed=5)[0].encode()

    async def fill() -> None:
        connection = await aio_pika.connect(stack.amqp_url)
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "quorum"})
        for start in range(0, messages, 500):
            await asyncio.gather(*(channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), queue)
                for _ in range(min(500, messages - start))))
        await connection.close()

    try:
        last_id = asyncio.run(count(stack, "SELECT coalesce(max(id), 0) FROM bench_ceiling"))
    except Exception:  # the first worker creates the table
        last_id = 0
    asyncio.run(fill())
    meter = CpuMeter(stack.db_name)
    meter.start()
    workers = [subprocess.Popen([sys.executable, "-m", "loadtest.ceiling_worker", "--queue", queue], cwd=ROOT,
                                env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(processes)]
    for worker in workers:
        memory.watch("ceiling worker", worker.pid)
    started = time.monotonic()
    try:
        while True:
            try:
                done = asyncio.run(count(stack, "SELECT count(*) FROM bench_ceiling WHERE id > $1", last_id))
            except Exception:  # the first worker creates the table
                done = 0
            if done >= messages:
                break
            time.sleep(0.25)
        seconds = time.monotonic() - started
        cpu = meter.stop()
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)
    window = asyncio.run(span(stack, _CEILING_SPAN, last_id))
    return {"messages": messages, "seconds": round(seconds, 2), "window_s": round(window, 2),
            "mps": messages / window, "cpu_s": cpu, "cpu_ms_per_message": per_unit_ms(cpu, messages)}


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (api, drain) = plt.subplots(1, 2, figsize=(9, 4))
    api.bar(["ours", "ceiling"], [result["api_rps"], result["api_ceiling_rps"]], color=["tab:blue", "tab:gray"])
    api.set_title(f"API commands/s (ratio {result['api_ratio']:.2f})")
    drain.bar(["ours", "ceiling"], [result["drain_mps"], result["drain_ceiling_mps"]], color=["tab:blue", "tab:gray"])
    drain.set_title(f"Drain messages/s (ratio {result['drain_ratio']:.2f})")
    figure.suptitle(result["machine"], fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def figures(result: dict[str, Any]) -> str:
    a, d = result["api"], result["drain"]
    memory = ", ".join(f"{name} {mib:.0f} MiB" for name, mib in sorted(result["peak_memory_mib"].items()))
    return "\n".join([
        f"Measured {result['measured_at']} on {result['machine']}, everything on the one machine.",
        "",
        "| | ours | ceiling | ratio |",
        "| --- | --- | --- | --- |",
        f"| API commands/s (`GET /activations/request`, wrk, {a['connections']} connections; "
        f"median of {len(a['rounds']['ours'])} rounds) | "
        f"{result['api_rps']:.0f} | {result['api_ceiling_rps']:.0f} | **{result['api_ratio']:.2f}** |",
        f"| API latency p50 / p99 | {a['ours']['p50_ms']:.1f} / {a['ours']['p99_ms']:.1f} ms | "
        f"{a['ceiling']['p50_ms']:.1f} / {a['ceiling']['p99_ms']:.1f} ms | |",
        f"| drain of {d['ours']['messages']} messages, messages/s ({d['processes']} worker processes; "
        f"median of {len(d['rounds']['ours'])} rounds) | "
        f"{result['drain_mps']:.0f} | {result['drain_ceiling_mps']:.0f} | **{result['drain_ratio']:.2f}** |",
        "",
        f"Peak resident memory: {memory}.",
        "",
        *cpu_table("CPU ms per API command", a["ours"].get("cpu_ms_per_request", {}),
                   a["ceiling"].get("cpu_ms_per_request", {})),
        "",
        *cpu_table("CPU ms per drained message", d["ours"].get("cpu_ms_per_message", {}),
                   d["ceiling"].get("cpu_ms_per_message", {})),
    ])


def cpu_table(title: str, ours: dict[str, float], ceiling: dict[str, float]) -> list[str]:
    """CPU milliseconds per unit of work, component by component, ours beside the ceiling's.

    On a machine whose cores are all busy, rate is cores / CPU per unit: the ratio of the two
    totals is the most ours can reach against the ceiling without doing less work.
    """
    names = sorted((set(ours) | set(ceiling)) - {"total"}, key=lambda n: -max(ours.get(n, 0), ceiling.get(n, 0)))
    rows = [f"| {title} | ours | ceiling |", "| --- | --- | --- |"]
    rows += [f"| {name} | {ours.get(name, 0):.2f} | {ceiling.get(name, 0):.2f} |" for name in names]
    bound = ceiling.get("total", 0) / max(ours.get("total", 0), 1e-9)
    rows.append(f"| **total** | **{ours.get('total', 0):.2f}** | **{ceiling.get('total', 0):.2f}** |")
    rows += ["", f"CPU-bound ratio (ceiling's CPU per unit / ours): **{bound:.2f}**."]
    return rows


def partial_figures(result: dict[str, Any]) -> str:
    """The figures of a run of one phase, every round shown (the machine is noisy)."""
    lines = [f"Measured {result['measured_at']} on {result['machine']}, phases: {', '.join(result['phases'])}."]
    if "api" in result:
        a = result["api"]
        for n, (ours, raw) in enumerate(zip(a["rounds"]["ours"], a["rounds"]["ceiling"], strict=True), 1):
            ratio = ours["rps"] / max(raw["rps"], 1e-9)
            lines.append(f"API round {n}: ours {ours['rps']:.0f} req/s (p50 {ours['p50_ms']:.1f} / p99 "
                         f"{ours['p99_ms']:.1f} ms, {ours['non_2xx']:.0f} non-2xx), ceiling {raw['rps']:.0f} req/s "
                         f"(p50 {raw['p50_ms']:.1f} / p99 {raw['p99_ms']:.1f} ms); ratio {ratio:.2f}")
        lines.append(f"API median round: ours {result['api_rps']:.0f}, ceiling {result['api_ceiling_rps']:.0f}, "
                     f"ratio {result['api_ratio']:.2f}")
        lines += cpu_table("CPU ms per API command", a["ours"].get("cpu_ms_per_request", {}),
                           a["ceiling"].get("cpu_ms_per_request", {}))
    if "drain" in result:
        d = result["drain"]
        for n, (ours, raw) in enumerate(zip(d["rounds"]["ours"], d["rounds"]["ceiling"], strict=True), 1):
            lines.append(f"Drain round {n}: ours {ours['mps']:.0f}/s, ceiling {raw['mps']:.0f}/s; "
                         f"ratio {ours['mps'] / max(raw['mps'], 1e-9):.2f}")
        lines.append(f"Drain of {d['ours']['messages']} messages ({d['processes']} processes): ours "
                     f"{result['drain_mps']:.0f}/s, ceiling {result['drain_ceiling_mps']:.0f}/s, "
                     f"ratio {result['drain_ratio']:.2f}")
        lines += cpu_table("CPU ms per drained message", d["ours"]["cpu_ms_per_message"],
                           d["ceiling"]["cpu_ms_per_message"])
    return "\n".join(lines)


def replace_between_markers(path: Path, text: str) -> None:
    content = path.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in content:
        return
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}")


PHASES = ("api", "drain")


def phases(raw: str) -> tuple[str, ...]:
    """`api,drain`, `api` or `drain`: which halves of the bench to run."""
    chosen = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not chosen or not set(chosen) <= set(PHASES):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(PHASES)} (comma-separated), not {raw!r}")
    return tuple(p for p in PHASES if p in chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="each side's wrk run in a round")
    parser.add_argument("--rounds", type=int, default=5, help="API rounds (each: ours and the ceiling back to back)")
    parser.add_argument("--drain-rounds", type=int, default=3, help="drain rounds (each: ours and the ceiling)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes on each side of the drain")
    parser.add_argument("--phases", type=phases, default=PHASES, metavar="api,drain",
                        help="run only some phases; docs and README are updated only when both run")
    parser.add_argument("--out", default="var/bench")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md and README.md")
    args = parser.parse_args(argv)
    logging_config.setup("INFO", "bench")
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    overrides = {"WORKER_MIN_PROCESSES": str(args.processes), "WORKER_MAX_PROCESSES": str(args.processes),
                 "NOTIFIER_MIN_PROCESSES": "1", "NOTIFIER_MAX_PROCESSES": "1", "LOG_LEVEL": "WARNING",
                 **PRODUCTION_TIMINGS}
    stack = Stack(Settings.from_env(), Path(tempfile.mkdtemp(prefix="bench-")), overrides=overrides,
                  seed_args=("--companies", "30", "--per-company", "200", "--superusers", "10"))
    memory = PeakMemory()
    memory.start()
    stack.start(pool=False)
    api: dict[str, Any] | None = None
    ours: dict[str, float] | None = None
    ceiling: dict[str, float] | None = None
    try:
        if "api" in args.phases:
            api = api_phase(stack, args.seconds, args.rounds, args.connections, memory, Path(stack.root))
            api["connections"] = args.connections
        if "drain" in args.phases:
            drains: dict[str, list[dict[str, Any]]] = {"ours": [], "ceiling": []}
            for round_ in range(args.drain_rounds):
                # ours then the ceiling, then the ceiling first, and so on
                order = ("ours", "ceiling") if round_ % 2 == 0 else ("ceiling", "ours")
                for side in order:
                    if side == "ours":
                        drains["ours"].append(drain_ours(stack, args.messages, memory, round_))
                    else:
                        drains["ceiling"].append(drain_ceiling(stack, args.messages, args.processes, memory))
                log.info("Drain round %d: ours %.0f messages/s, ceiling %.0f messages/s.", round_ + 1,
                         drains["ours"][-1]["mps"], drains["ceiling"][-1]["mps"])
            middle = median_round(drains["ours"], drains["ceiling"], "mps")
            ours, ceiling = drains["ours"][middle], drains["ceiling"][middle]
    finally:
        memory.done.set()
        stack.stop()
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "phases": list(args.phases),
        "peak_memory_mib": {k: round(v, 1) for k, v in memory.peak.items()},
    }
    if api is not None:
        result.update({"api_rps": api["ours"]["rps"], "api_ceiling_rps": api["ceiling"]["rps"],
                       "api_ratio": api["ours"]["rps"] / max(api["ceiling"]["rps"], 1e-9), "api": api})
    if ours is not None and ceiling is not None:
        result.update({"drain_mps": ours["mps"], "drain_ceiling_mps": ceiling["mps"],
                       "drain_ratio": ours["mps"] / max(ceiling["mps"], 1e-9),
                       "drain": {"ours": ours, "ceiling": ceiling, "processes": args.processes,
                                 "rounds": drains}})
    if api is None or ours is None:
        # One phase alone: its figures, but not the chart or the docs, which show both side by side.
        (out / f"latest-{'-'.join(args.phases)}.json").write_text(json.dumps(result, indent=2))
        sys.stdout.write(partial_figures(result) + "\n")
        return 0
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    chart(result, out / "latest.png")
    text = figures(result)
    if not args.no_docs:
        chart(result, ROOT / "docs" / "benchmarks.png")
        for doc in (ROOT / "docs" / "benchmarks.md", ROOT / "README.md"):
            replace_between_markers(doc, text)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
