"""The load scenario: demo customers and super-users doing what they do, at a steady pace.

Each simulated customer logs in once (as its own demo user from loadtest/users.csv), then
lists companies, asks for activations at random companies, looks at and lists its own,
and cancels some. Simulated super-users list pending activations and approve or refuse
them. Every 202 is written down (var/loadtest/accepted-<pid>.txt) so that the books can
be balanced afterwards (`python -m loadtest.report`, run by `make loadtest`), and so is how
many answers of each status each request got (answers-<pid>.txt: a 409 is expected, not a
failure, but no accepted command either); as locust
quits, its final figures go beside its CSV files (`<prefix>_final.csv`) for the report.

Environment: LOADTEST_RATE (tasks per second per simulated user, default 0.2),
LOADTEST_DIR (default var/loadtest), LOADTEST_USERS (default loadtest/users.csv).
"""

from __future__ import annotations

import csv
import itertools
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust import FastHttpUser, between, constant_throughput, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV


def _rate(text: str) -> float:
    """LOADTEST_RATE as a positive number, or a one-line refusal."""
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not rate > 0 or rate == float("inf"):
        raise SystemExit(f"LOADTEST_RATE (make loadtest RATE=) must be a positive number of tasks a second, "
                         f"not {text!r}.")
    return rate


RATE = _rate(os.environ.get("LOADTEST_RATE", "0.2"))
OUT = Path(os.environ.get("LOADTEST_DIR", "var/loadtest"))
USERS_CSV = os.environ.get("LOADTEST_USERS", "loadtest/users.csv")

with open(USERS_CSV, newline="") as handle:
    _ROWS = list(csv.DictReader(handle))
COMPANIES = sorted({row["company_cnpj"] for row in _ROWS})
ACCEPTED: list[str] = []
ANSWERS: Counter[tuple[str, int]] = Counter()  # (request name, status): answers
_pools: dict[str, Any] = {}
_cpu = {"max": 0.0, "samples": 0, "total": 0.0}
_environment: list[Environment] = []


def next_account(environment: Environment, role: str) -> dict[str, str]:
    """A demo account of `role` no other simulated user of this run holds (per process slice)."""
    if role not in _pools:
        index = getattr(environment.runner, "worker_index", 0) or 0
        count = getattr(environment.parsed_options, "processes", 1) or 1
        count = count if count > 0 else (os.cpu_count() or 1)  # --processes -1 means one per core
        mine = [row for row in _ROWS if row["role"] == role][index::count]
        _pools[role] = itertools.cycle(mine)
    return next(_pools[role])  # type: ignore[no-any-return]


# Every answer below 500 is read in full, so its connection serves the user's next request,
# as a browser's would; each request then says which answers it expected. (With locust's
# default only 2xx and 3xx are read, and a 409 or a 404 closed its connection unread: at
# 5,000 users, 300 new connections a second for the client and the API.)
READ_IN_FULL = frozenset(range(200, 500))


class Person(FastHttpUser):
    """A logged-in demo user: one connection, one token, every answer checked."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        self.client.client.valid_response_codes = READ_IN_FULL  # type: ignore[misc]  # this user's client only
        self.account = next_account(self.environment, self.role)
        self.headers = {"Authorization": f"Bearer {login(self, self.account)}"}

    def call(self, path: str, name: str, expected: tuple[int, ...] = (200,)) -> Any:
        """GET `path` as this user; the answer's JSON when its status is `expected[0]`, else None.

        The other `expected` statuses are normal answers too (a 409 for a duplicate); any
        status not in `expected` counts as a failure.
        """
        with self.client.get(path, headers=self.headers, name=name, catch_response=True) as answer:
            ANSWERS[name, answer.status_code] += 1
            if answer.status_code not in expected:
                answer.failure(failure(answer))
                return None
            answer.success()
            return answer.json() if answer.status_code == expected[0] else None


class Customer(Person):
    """A customer of a partner company."""

    weight = 50
    wait_time = constant_throughput(RATE)
    role = "user"

    def on_start(self) -> None:
        super().on_start()
        self.mine: list[str] = []

    @task(1)
    def companies(self) -> None:
        self.call("/companies", "/companies")

    @task(4)
    def request(self) -> None:
        # A 409 (already pending at that company) is a normal answer.
        accepted = self.call(f"/activations/request?company={random.choice(COMPANIES)}", "/activations/request",
                             (202, 409))
        if accepted is not None:
            ACCEPTED.append(accepted["command_id"])
            self.mine.append(accepted["id"])

    @task(3)
    def view(self) -> None:
        if self.mine:  # a 404 until the worker has applied the request
            self.call(f"/activations/{random.choice(self.mine)}", "/activations/[id]", (200, 404))

    @task(2)
    def list_own(self) -> None:
        self.call("/activations?per_page=20", "/activations")

    @task(1)
    def cancel(self) -> None:
        if not self.mine:
            return
        activation = self.mine.pop(random.randrange(len(self.mine)))
        # A 409 when it was decided meanwhile, a 404 when its request is not applied yet.
        accepted = self.call(f"/activations/{activation}/cancel", "/activations/[id]/cancel", (202, 404, 409))
        if accepted is not None:
            ACCEPTED.append(accepted["command_id"])


class SuperUser(Person):
    """A super-user working through the pending activations."""

    fixed_count = 10
    wait_time = between(0.5, 2.0)
    role = "superuser"

    @task
    def decide(self) -> None:
        listed = self.call(f"/activations?status=pending&per_page=20&page={random.randint(1, 10)}",
                           "/activations?status=pending")
        for item in (listed or {}).get("items", [])[:3]:
            action = "approve" if random.random() < 0.7 else "refuse?reason=documentos%20pendentes"
            # A 409 when it was decided meanwhile, a 403 for the super-user's own request.
            accepted = self.call(f"/activations/{item['id']}/{action}", f"/activations/[id]/{action.split('?')[0]}",
                                 (202, 403, 409))
            if accepted is not None:
                ACCEPTED.append(accepted["command_id"])


def failure(answer: Any) -> str:
    """What went wrong with `answer`: its status, or why there was none (nothing listening, say)."""
    return f"HTTP {answer.status_code}" if answer.status_code else f"no answer: {answer.error!r}"


def login(user: FastHttpUser, account: dict[str, str], attempts: int = 8) -> str:
    """Log in as a person would: after a failure (a busy server at a crowd's log-in), wait and try again."""
    for attempt in range(attempts):
        with user.client.post("/auth", json={"cpf": account["cpf"], "password": account["password"]},
                              name="/auth", catch_response=True) as answer:
            ANSWERS["/auth", answer.status_code] += 1
            if answer.status_code == 200:
                answer.success()
                return str(answer.json()["access_token"])
            answer.failure(failure(answer))
        gevent.sleep(random.uniform(1, 2 ** min(attempt + 1, 5)))
    raise StopUser()


def _sample_cpu() -> None:
    """Record this load generator's own CPU use: a saturated generator measures itself."""
    process = psutil.Process()
    process.cpu_percent(interval=None)
    while True:
        gevent.sleep(2)
        used = process.cpu_percent(interval=None)
        _cpu["max"] = max(_cpu["max"], used)
        _cpu["samples"] += 1
        _cpu["total"] += used


@events.test_start.add_listener
def _start_sampling(environment: Environment, **kwargs: Any) -> None:
    if environment.runner is not None and type(environment.runner).__name__ != "MasterRunner":
        gevent.spawn(_sample_cpu)


@events.test_stop.add_listener
def _write_down(environment: Environment, **kwargs: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"accepted-{os.getpid()}.txt").write_text("\n".join(ACCEPTED) + ("\n" if ACCEPTED else ""))
    (OUT / f"answers-{os.getpid()}.txt").write_text(
        "".join(f"{name}\t{status}\t{count}\n" for (name, status), count in sorted(ANSWERS.items())))
    if _cpu["samples"]:
        (OUT / f"cpu-{os.getpid()}.txt").write_text(
            f"{_cpu['max']:.0f} {_cpu['total'] / _cpu['samples']:.0f}\n")


@events.init.add_listener
def _remember(environment: Environment, **kwargs: Any) -> None:
    _environment.append(environment)


@events.quit.add_listener
def _write_final_stats(**kwargs: Any) -> None:
    """Write the final figures to `<csv prefix>_final.csv`, the same columns as locust's `_stats.csv`.

    Locust rewrites `_stats.csv` every second while it runs but not once more at the end, so
    that file misses whatever came after its last rewrite. This one is written just after
    the summary locust prints, from the same figures.
    """
    if not _environment:
        return
    environment = _environment[-1]
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):  # locust's workers write no CSV
        return
    with open(f"{prefix}_final.csv", "w", newline="") as handle:
        StatsCSV(environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(handle))
