"""After a locust run: acceptance and completion figures, and the books, side by side.

Acceptance is what the API answered (locust's final figures, which the locustfile writes
to `stats_final.csv`): requests per second and latency percentiles. Completion is what the
workers did with each accepted command: the time from the command being issued to its
event being committed (from PostgreSQL). Then the books: every 202 must have reached its
event, and every applied event its e-mail.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import sys
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg

from config.settings import load
from loadtest.books import balance, settle

COLUMNS = ["Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%", "Max Response Time"]  # ms


def acceptance(rows: list[dict[str, str]]) -> list[str]:
    """locust's stats rows as a table (changes `rows`' number formats)."""
    for row in rows:  # locust writes floats with all their digits
        for column in ("Requests/s", "Max Response Time"):
            row[column] = f"{float(row[column]):.1f}" if column == "Requests/s" else f"{float(row[column]):.0f}"
    widths = [max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(r[c].ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) for r in rows]
    return lines


def steady_state(history_csv: Path) -> str:
    """Requests/s, failures and latency while every simulated user was running (the ramp-up left out)."""
    if not history_csv.exists():
        return "steady state: no locust history file"
    history = list(csv.DictReader(history_csv.open()))
    rows = [r for r in history if r["Name"] == "Aggregated"]
    peak = max((int(r["User Count"]) for r in rows), default=0)
    full = [r for r in rows if int(r["User Count"]) == peak]
    if peak == 0 or len(full) < 2:
        return "steady state: too short to tell (no two samples with every user running)"
    first, last = full[0], full[-1]
    seconds = int(last["Timestamp"]) - int(first["Timestamp"])
    requests = int(last["Total Request Count"]) - int(first["Total Request Count"])
    failures = int(last["Total Failure Count"]) - int(first["Total Failure Count"])
    figures = (f"steady state ({peak} users for {seconds} s): {requests / max(seconds, 1):.0f} requests/s, "
               f"{failures} failures")
    # With --csv-full-history (as `make loadtest` runs locust) the history has a row per
    # request name too, and each row's percentiles are those of the last 10 s: their median
    # over the steady state is the latency a user saw there. Without it they are the whole
    # run's so far, ramp-up and log-ins included, which says nothing about the steady state.
    if len(history) == len(rows):
        return figures + " (latency: run locust with --csv-full-history)"

    def median(column: str) -> str:
        values = [float(r[column]) for r in full if r[column] not in ("", "N/A")]
        return f"{statistics.median(values):.0f}" if values else "?"

    return figures + ", latency p50 / p95 / p99 " + " / ".join(median(c) for c in ("50%", "95%", "99%")) + " ms"


def answers(folder: Path) -> list[str]:
    """How many answers of each status each request got (the locustfile's answers-*.txt)."""
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for path in folder.glob("answers-*.txt"):
        for line in path.read_text().splitlines():
            name, status, count = line.split("\t")
            counts[name][int(status)] += int(count)
    if not counts:
        return []
    width = max(len(name) for name in counts)
    return ["answers by status:", *(
        f"  {name.ljust(width)}  " + ", ".join(f"{status}: {n}" for status, n in sorted(counts[name].items()))
        for name in sorted(counts))]


def accepted_ids(folder: Path) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for path in folder.glob("accepted-*.txt"):
        ids += [uuid.UUID(line) for line in path.read_text().split()]
    return ids


async def completion(database_url: str, ids: list[uuid.UUID]) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - issued_at)) AS p50, "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - issued_at)) AS p95, "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - issued_at)) AS p99, "
            "max(extract(epoch FROM created_at - issued_at)) AS worst, "
            "extract(epoch FROM max(created_at) - min(issued_at)) AS span "
            "FROM activation_events WHERE command_id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    if not row["n"]:
        return "completion: no events"
    return (f"completion (202 -> event committed), {row['n']} commands: p50 {row['p50'] * 1000:.0f} ms, "
            f"p95 {row['p95'] * 1000:.0f} ms, p99 {row['p99'] * 1000:.0f} ms, max {row['worst'] * 1000:.0f} ms; "
            f"{row['n'] / max(row['span'], 0.001):.0f} commands/s applied over {row['span']:.0f} s")


def cpu(folder: Path) -> str:
    samples = [path.read_text().split() for path in folder.glob("cpu-*.txt")]
    if not samples:
        return "load generator CPU: not measured"
    worst = max(float(s[0]) for s in samples)
    note = " — SATURATED: the generator, not the service, may be the limit" if worst > 90 else ""
    return f"load generator CPU: {len(samples)} process(es), peak {worst:.0f}% of a core{note}"


async def generator_done(folder: Path, quiet: float = 12.0, limit: float = 120.0) -> None:
    """Wait until locust's worker processes have written their files.

    They stop their users (up to locust's --stop-timeout of 10 s) and write after the
    master has exited, so wait for the files to stay unchanged for longer than that.
    """
    def state() -> list[tuple[str, int]]:
        return sorted((p.name, p.stat().st_size) for p in folder.glob("*-*.txt"))

    last, since, waited = state(), 0.0, 0.0
    while since < quiet and waited < limit:
        await asyncio.sleep(1.0)
        waited += 1.0
        now = state()
        since = since + 1.0 if now == last else 0.0
        last = now


async def run(folder: Path, timeout: float) -> int:
    settings = load()
    await generator_done(folder)
    ids = accepted_ids(folder)
    stats, title = folder / "stats_final.csv", "acceptance (the API's answers):"
    if not stats.exists():  # a locust that did not quit cleanly: its periodic file is all there is
        stats, title = folder / "stats_stats.csv", "acceptance (the API's answers, short of the run's last second):"
    if not stats.exists():
        sys.stderr.write(f"No load-test results in {folder}/ (no stats_final.csv or stats_stats.csv): "
                         "run `make loadtest` first.\n")
        return 2
    rows = list(csv.DictReader(stats.open()))
    requests, failures = totals(rows)
    out = [title, *acceptance(rows), "", *answers(folder), "",
           steady_state(folder / "stats_stats_history.csv"), cpu(folder)]
    settled = await settle(settings.database_url, ids, timeout)
    out.append(await completion(settings.database_url, ids))
    books = await balance(settings.database_url, Path(settings.mail_dir), ids)
    out += ["", *books.lines()]
    if not settled:
        out.append(f"NOT SETTLED after {timeout:.0f} s: commands without an event or e-mails still pending")
    if failures:
        out.append(f"FAILED: {failures} of {requests} requests failed; see {folder}/stats_failures.csv.")
    elif not requests:
        out.append("FAILED: no request was made (no users, or none got as far as logging in).")
    text = "\n".join(out)
    (folder / "summary.txt").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0 if books.balanced and requests and not failures else 1


def totals(rows: list[dict[str, str]]) -> tuple[int, int]:
    """(requests, failures) of the run, from locust's Aggregated row."""
    for row in rows:
        if row["Name"] == "Aggregated":
            return int(row["Request Count"]), int(row["Failure Count"])
    return 0, 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.report", description=__doc__)
    parser.add_argument("--dir", default="var/loadtest")
    parser.add_argument("--settle-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    return asyncio.run(run(Path(args.dir), args.settle_timeout))


if __name__ == "__main__":
    sys.exit(main())
