"""The load-test report's reading of locust's files (no services needed)."""

from __future__ import annotations

import csv
from pathlib import Path

from loadtest.report import answers, steady_state

COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", "50%", "95%", "99%",
           "Total Request Count", "Total Failure Count"]


def history(path: Path, rows: list[tuple[int, int, str, int, int]]) -> Path:
    """A locust history file: (second, users, name, p50 = p95 = p99, total requests) per row."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for second, users, name, latency, total in rows:
            writer.writerow([second, users, "", name, 0, 0, latency, latency * 2, latency * 3, total, 0])
    return path


def test_the_steady_state_leaves_the_ramp_up_out_and_takes_the_median_of_its_windows(tmp_path: Path) -> None:
    rows = [(0, 5, "Aggregated", 900, 0), (1, 10, "/a", 40, 0), (1, 10, "Aggregated", 40, 100),
            (2, 10, "Aggregated", 50, 300), (3, 10, "Aggregated", 60, 500)]
    line = steady_state(history(tmp_path / "h.csv", rows))
    assert line == ("steady state (10 users for 2 s): 200 requests/s, 0 failures, "
                    "latency p50 / p95 / p99 50 / 100 / 150 ms")


def test_without_full_history_the_steady_state_gives_no_latency(tmp_path: Path) -> None:
    rows = [(1, 10, "Aggregated", 40, 100), (2, 10, "Aggregated", 50, 300)]
    line = steady_state(history(tmp_path / "h.csv", rows))
    assert line.endswith("0 failures (latency: run locust with --csv-full-history)")


def test_answers_add_up_over_the_generator_processes(tmp_path: Path) -> None:
    (tmp_path / "answers-1.txt").write_text("/activations/request\t202\t5\n/activations/request\t409\t1\n")
    (tmp_path / "answers-2.txt").write_text("/activations/request\t202\t2\n/companies\t200\t3\n")
    assert answers(tmp_path) == ["answers by status:",
                                 "  /activations/request  202: 7, 409: 1",
                                 "  /companies            200: 3"]
    assert answers(tmp_path / "nothing") == []
