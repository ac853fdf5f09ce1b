"""`make chaos`: a mixed load through the API while the infrastructure fails, then the books.

A private stack (own database and vhost, full demo data) takes requests, cancels,
approvals and refusals from many customers and super-users, while this script SIGKILLs
workers, restarts RabbitMQ, restarts PostgreSQL and stops the SMTP sink for a while. When
the load has had its accepted commands and everything has settled, it balances the books:
every 202 -> exactly one event; every applied event -> its e-mail, once; no activation in
an impossible state. Exits non-zero unless nothing was lost or duplicated.

RabbitMQ and PostgreSQL are restarted for real: run this on a development machine, not
next to anything that matters. The restart commands can be replaced with
CHAOS_RESTART_RABBITMQ and CHAOS_RESTART_POSTGRES (shell commands).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from config import logging as logging_config
from config.settings import Settings
from loadtest.books import balance, settle
from loadtest.stack import PRODUCTION_TIMINGS, Stack

log = logging.getLogger("chaos")


@dataclass
class Fault:
    at: float
    what: str
    detail: str = ""


@dataclass
class Run:
    """Everything the load and the faults did."""

    target: int
    started: float = field(default_factory=time.monotonic)
    accepted: list[uuid.UUID] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started

    @property
    def done(self) -> bool:
        return len(self.accepted) >= self.target

    def progress(self) -> float:
        return len(self.accepted) / self.target


# --- the load -----------------------------------------------------------------------------

async def login(client: httpx.AsyncClient, user: dict[str, str], run: Run) -> str:
    while True:
        try:
            answer = await client.post("/auth", json={"cpf": user["cpf"], "password": user["password"]})
            if answer.status_code == 200:
                return str(answer.json()["access_token"])
            run.answers[f"login {answer.status_code}"] += 1
        except httpx.HTTPError as exc:
            run.answers[f"login {type(exc).__name__}"] += 1
        await asyncio.sleep(0.5)


async def call(client: httpx.AsyncClient, token: str, path: str, run: Run) -> httpx.Response | None:
    try:
        answer = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        run.answers[type(exc).__name__] += 1
        await asyncio.sleep(0.5)
        return None
    run.answers[str(answer.status_code)] += 1
    if answer.status_code == 202:
        run.accepted.append(uuid.UUID(answer.json()["command_id"]))
    elif answer.status_code >= 500:
        await asyncio.sleep(0.5)  # the API says it is unavailable: back off like a client would
    return answer


async def customer(client: httpx.AsyncClient, user: dict[str, str], companies: list[str], run: Run,
                   rng: random.Random) -> None:
    token = await login(client, user, run)
    mine: list[str] = []
    while not run.done:
        if mine and rng.random() < 0.25:
            await call(client, token, f"/activations/{mine.pop(rng.randrange(len(mine)))}/cancel", run)
        else:
            answer = await call(client, token, f"/activations/request?company={rng.choice(companies)}", run)
            if answer is not None and answer.status_code == 202:
                mine.append(answer.json()["id"])
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def superuser(client: httpx.AsyncClient, user: dict[str, str], run: Run, rng: random.Random) -> None:
    token = await login(client, user, run)
    while not run.done:
        listed = await call(client, token, f"/activations?status=pending&per_page=20&page={rng.randint(1, 5)}", run)
        items = listed.json()["items"] if listed is not None and listed.status_code == 200 else []
        for item in items[: rng.randint(1, 5)]:
            decision = "approve" if rng.random() < 0.6 else "refuse?reason=documentos%20pendentes"
            await call(client, token, f"/activations/{item['id']}/{decision}", run)
        await asyncio.sleep(rng.uniform(0.1, 0.5))


async def load(stack: Stack, run: Run, customers: int, superusers: int) -> None:
    rng = random.Random(11)
    people = [u for u in stack.users if u["role"] == "user"]
    deciders = [u for u in stack.users if u["role"] == "superuser"][:superusers]
    companies = sorted({u["company_cnpj"] for u in stack.users})
    limits = httpx.Limits(max_connections=customers + superusers)
    async with httpx.AsyncClient(base_url=stack.api, timeout=15, limits=limits) as client:
        await asyncio.gather(
            *(customer(client, u, companies, run, random.Random(rng.random())) for u in rng.sample(people, customers)),
            *(superuser(client, u, run, random.Random(rng.random())) for u in deciders),
        )


# --- the faults ---------------------------------------------------------------------------

def shell(command: str) -> str:
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    return (result.stdout + result.stderr).strip().splitlines()[-1:][0] if (result.stdout or result.stderr) else ""


def postgres_restart_command() -> str:
    if os.environ.get("CHAOS_RESTART_POSTGRES"):
        return os.environ["CHAOS_RESTART_POSTGRES"]
    if shutil.which("pg_lsclusters"):
        return ("pg_lsclusters --no-header | while read -r v c _; do "
                "pg_ctlcluster --skip-systemctl-redirect $v $c restart; done")
    return "docker compose restart postgres"


def rabbitmq_restart_command() -> str:
    if os.environ.get("CHAOS_RESTART_RABBITMQ"):
        return os.environ["CHAOS_RESTART_RABBITMQ"]
    if shutil.which("rabbitmqctl"):
        return "rabbitmqctl -q stop_app && sleep 5 && rabbitmqctl -q start_app"
    return "docker compose restart rabbitmq"


def worker_pid(stack: Stack, pool: str) -> int | None:
    try:
        pids = json.loads((stack.root / "supervisor.json").read_text())["pools"][pool]["pids"]
    except (OSError, ValueError, KeyError):
        return None
    return int(pids[0]) if pids else None


async def kill_worker(stack: Stack, run: Run, pool: str) -> None:
    pid = worker_pid(stack, pool)
    if pid is None:
        run.faults.append(Fault(run.now(), f"SIGKILL a {pool} worker", "skipped: no worker found"))
        return
    os.kill(pid, signal.SIGKILL)
    run.faults.append(Fault(run.now(), f"SIGKILL a {pool} worker", f"pid {pid}"))


async def restart(run: Run, what: str, command: str) -> None:
    started = run.now()
    output = await asyncio.to_thread(shell, command)
    run.faults.append(Fault(started, f"restart {what}", f"took {run.now() - started:.1f} s {output}".strip()))


async def smtp_outage(stack: Stack, run: Run, seconds: float) -> None:
    started = run.now()
    await asyncio.to_thread(stack.stop_process, "smtp-sink")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(stack.start_sink)
    run.faults.append(Fault(started, "stop the SMTP server", f"down {run.now() - started:.1f} s"))


async def inject(stack: Stack, run: Run) -> None:
    """Each fault once the load has reached its share of the accepted commands."""
    plan = [
        (0.10, lambda: kill_worker(stack, run, "command")),
        (0.25, lambda: restart(run, "RabbitMQ", rabbitmq_restart_command())),
        (0.45, lambda: restart(run, "PostgreSQL", postgres_restart_command())),
        (0.60, lambda: smtp_outage(stack, run, 20)),
        (0.75, lambda: kill_worker(stack, run, "notifier")),
        (0.85, lambda: kill_worker(stack, run, "command")),
    ]
    for share, fault in plan:
        while run.progress() < share:
            await asyncio.sleep(0.2)
        log.info("Injecting a fault at %.0f%% of the load.", share * 100)
        await fault()


# --- the report ---------------------------------------------------------------------------

def report(run: Run, settled: bool, lines: list[str], elapsed: float) -> str:
    out = ["", "| at | fault | detail |", "| --- | --- | --- |"]
    out += [f"| {f.at:.1f} s | {f.what} | {f.detail} |" for f in run.faults]
    answers = ", ".join(f"{n} x {k}" for k, n in sorted(run.answers.items()))
    out += ["", f"load: {elapsed:.0f} s, answers: {answers}",
            f"settled: {'yes' if settled else 'NO (timed out)'}", *lines]
    return "\n".join(out)


async def chaos(stack: Stack, target: int, customers: int, superusers: int, settle_timeout: float) -> int:
    run = Run(target)
    injector = asyncio.create_task(inject(stack, run))
    await load(stack, run, customers, superusers)
    elapsed = run.now()
    await injector
    settled = await settle(stack.database_url, run.accepted, settle_timeout)
    books = await balance(stack.database_url, stack.mail_dir, run.accepted)
    sys.stdout.write(report(run, settled, books.lines(), elapsed) + "\n")
    return 0 if books.balanced and settled else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=3000, help="accepted commands to aim for")
    parser.add_argument("--customers", type=int, default=120)
    parser.add_argument("--superusers", type=int, default=5)
    parser.add_argument("--settle-timeout", type=float, default=600)
    args = parser.parse_args(argv)
    logging_config.setup("INFO", "chaos")
    stack = Stack(Settings.from_env(), Path(tempfile.mkdtemp(prefix="chaos-")),
                  overrides={"WORKER_MIN_PROCESSES": "1", "WORKER_MAX_PROCESSES": "3", "SCALE_COOLDOWN": "10",
                             "NOTIFIER_MIN_PROCESSES": "1", "NOTIFIER_MAX_PROCESSES": "2",
                             "PUBLISH_TIMEOUT": "3", "SHUTDOWN_GRACE": "10", "LOG_LEVEL": "INFO", **PRODUCTION_TIMINGS},
                  seed_args=("--companies", "30", "--per-company", "200", "--superusers", "10"))
    stack.start()
    log.info("Stack up (logs in %s); sending the load.", stack.logs)
    try:
        return asyncio.run(chaos(stack, args.commands, args.customers, args.superusers, args.settle_timeout))
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
