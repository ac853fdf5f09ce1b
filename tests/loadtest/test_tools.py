"""The load and benchmark tools run end to end on a tiny load and write their files.

No figure is asserted here: speed is measured by `make bench`, not by tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.stack import ROOT, Stack

pytestmark = pytest.mark.integration


def run(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_locust_scenario_runs_and_its_books_balance(stack: Stack, tmp_path: Path) -> None:
    env = {**stack.env, "LOADTEST_DIR": str(tmp_path), "LOADTEST_USERS": str(stack.root / "users.csv"),
           "LOADTEST_RATE": "2"}
    locust = run([str(ROOT / ".venv/bin/locust"), "-f", "loadtest/locustfile.py", "--headless", "--only-summary",
                  "-u", "20", "-r", "20", "-t", "5s", "--host", stack.api, "--csv", str(tmp_path / "stats"),
                  "--csv-full-history", "--html", str(tmp_path / "report.html"), "--exit-code-on-error", "0"], env)
    assert (tmp_path / "report.html").exists()
    assert list(tmp_path.glob("accepted-*.txt"))
    summary = run([sys.executable, "-m", "loadtest.report", "--dir", str(tmp_path), "--settle-timeout", "60"], env)
    assert "acceptance" in summary.stdout and "completion" in summary.stdout and "steady state" in summary.stdout
    assert " 0 lost, 0 duplicated" in summary.stdout
    # 10 super-users (their fixed count) and 10 customers, whose requests were accepted.
    assert not re.search(r"books: 0 accepted", summary.stdout)
    assert "answers by status:" in summary.stdout and re.search(r"/activations/request +202: ", summary.stdout)
    # The report counts what locust's own summary counts, the run's last second included.
    assert aggregated_count(summary.stdout) == aggregated_count(locust.stdout + locust.stderr)


def aggregated_count(output: str) -> int:
    """The request count on the first `Aggregated` row of a locust summary or of the report."""
    return next(int(line.split()[1]) for line in output.splitlines() if line.split()[:1] == ["Aggregated"])


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_the_api_and_worker_benchmark_runs_and_writes_its_ratios(tmp_path: Path) -> None:
    import os

    run([sys.executable, "-m", "loadtest.bench", "--seconds", "2", "--rounds", "3", "--messages", "200", "--no-docs",
         "--out", str(tmp_path)], dict(os.environ), timeout=600)
    result = json.loads((tmp_path / "latest.json").read_text())
    for key in ("api_rps", "api_ceiling_rps", "api_ratio", "drain_mps", "drain_ceiling_mps", "drain_ratio"):
        assert result[key] > 0, key
    assert result["api"]["ours"]["non_2xx"] == 0
    # Every round kept; the ratio is the median round's, ours and the ceiling side by side.
    assert len(result["api"]["rounds"]["ours"]) == len(result["api"]["rounds"]["ceiling"]) == 3
    assert len(result["drain"]["rounds"]["ours"]) == len(result["drain"]["rounds"]["ceiling"]) == 3
    assert result["api_ratio"] == result["api"]["ours"]["rps"] / result["api"]["ceiling"]["rps"]
    # The drain is timed from the first message handled to the last: within the wall time.
    for side in ("ours", "ceiling"):
        drained = result["drain"][side]
        assert 0 < drained["window_s"] <= drained["seconds"], side
    assert (tmp_path / "latest.png").stat().st_size > 0
    # Where the CPU went, per unit of work, on both sides of each comparison.
    assert result["api"]["ours"]["cpu_ms_per_request"]["API"] > 0
    assert result["api"]["ceiling"]["cpu_ms_per_request"]["ceiling API"] > 0
    assert result["drain"]["ours"]["cpu_ms_per_message"]["command workers"] > 0
    assert result["drain"]["ceiling"]["cpu_ms_per_message"]["ceiling worker"] > 0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_the_profiler_samples_the_api_and_the_workers_and_writes_their_tables(tmp_path: Path) -> None:
    import os

    for target in ("api", "drain"):
        run([sys.executable, "-m", "loadtest.profiling", target, "--seconds", "2", "--messages", "6000",
             "--out", str(tmp_path)], dict(os.environ), timeout=600)
    for name in ("api", "command", "notifier", "smtp-sink"):
        assert (tmp_path / f"{name}.folded").stat().st_size > 0, name
        assert "By own time:" in (tmp_path / f"{name}.txt").read_text(), name


def test_the_scaling_benchmark_runs_and_writes_its_chart(tmp_path: Path) -> None:
    import os

    run([sys.executable, "-m", "loadtest.bench_scale", "--count", "200", "--maximum", "2", "--out", str(tmp_path)],
        dict(os.environ), timeout=600)
    assert (tmp_path / "bench-scale.png").stat().st_size > 0
    assert "time to drain" in (tmp_path / "bench-scale.md").read_text()
