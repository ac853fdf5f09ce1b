"""Load the demo data into PostgreSQL, idempotently, and export its credentials for the load test.

Run it with ``python -m models.seed [--companies N --per-company N --superusers N --csv PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DBConnectionError, OperationalError

from config import logging as log_config
from config.settings import Settings, load
from models import db, demo_data
from models.demo_data import DemoCompany, DemoUser
from models.entities import Company, User
from models.passwords import hash_password, hasher

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
CSV_HEADER = ("cpf", "password", "company_cnpj", "role")
DEFAULT_CSV = "loadtest/users.csv"


@dataclass(frozen=True)
class SeedReport:
    """What one seeding run inserted and what it found already there."""

    companies_created: int
    companies_present: int
    users_created: int
    users_present: int


def _chunks(items: Sequence[str], size: int = BATCH_SIZE) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _existing_cnpjs(cnpjs: Sequence[str], conn: BaseDBAsyncClient) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(cnpjs):
        rows = await Company.filter(cnpj__in=chunk).using_db(conn).values_list("cnpj", flat=True)
        found.update(cast(list[str], rows))  # flat=True yields values, not the tuples mypy sees
    return found


async def _existing_cpfs(cpfs: Sequence[str], conn: BaseDBAsyncClient) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(cpfs):
        rows = await User.filter(cpf__in=chunk).using_db(conn).values_list("cpf", flat=True)
        found.update(cast(list[str], rows))
    return found


async def _password_hashes(settings: Settings, passwords: set[str]) -> dict[str, str]:
    """One argon2id hash per distinct demo password, computed off the event loop.

    Demo-data shortcut: every user created in this run who shares a password also shares
    its hash (and salt). Hashing 6,000 passwords at ~40 ms each would take minutes, and
    these passwords are published in the README anyway. Real users get their own salt.
    """
    h = hasher(settings)
    return {pw: await asyncio.to_thread(hash_password, h, pw) for pw in sorted(passwords)}


async def seed_data(
    settings: Settings, companies: Sequence[DemoCompany], users: Sequence[DemoUser]
) -> SeedReport:
    """Insert the given companies and users that are not in the database yet, in one transaction.

    Rows already present are left exactly as they are (their password hashes included).
    """
    async with db.transaction() as conn:
        present_cnpjs = await _existing_cnpjs([c.cnpj for c in companies], conn)
        new_companies = [Company(cnpj=c.cnpj, name=c.name) for c in companies if c.cnpj not in present_cnpjs]
        # ignore_conflicts: a concurrent seed run may insert the same rows; theirs win.
        await Company.bulk_create(new_companies, batch_size=BATCH_SIZE, ignore_conflicts=True, using_db=conn)

        present_cpfs = await _existing_cpfs([u.cpf for u in users], conn)
        missing = [u for u in users if u.cpf not in present_cpfs]
        hashes = await _password_hashes(settings, {u.password for u in missing})
        new_users = [
            User(
                cpf=u.cpf,
                name=u.name,
                email=u.email,
                company_id=u.company_cnpj,
                is_superuser=u.is_superuser,
                password_hash=hashes[u.password],
            )
            for u in missing
        ]
        await User.bulk_create(new_users, batch_size=BATCH_SIZE, ignore_conflicts=True, using_db=conn)
    return SeedReport(
        companies_created=len(new_companies),
        companies_present=len(present_cnpjs),
        users_created=len(new_users),
        users_present=len(present_cpfs),
    )


async def seed(
    settings: Settings, companies: int = 30, per_company: int = 200, superusers: int = 10
) -> SeedReport:
    """Insert the standard demo data (see `models.demo_data`) that is missing; needs `db.connect` first."""
    demo_companies = demo_data.companies(companies)
    return await seed_data(settings, demo_companies, demo_data.users(demo_companies, per_company, superusers))


def export_users_csv(users: Iterable[DemoUser], path: str | Path) -> None:
    """Write the demo credentials (`cpf,password,company_cnpj,role`) for the load test to read."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows((u.cpf, u.password, u.company_cnpj, u.role) for u in users)


def _where(database_url: str) -> str:
    # Never log the password that may be embedded in the URL.
    parts = urlsplit(database_url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


async def _run(settings: Settings, companies: list[DemoCompany], users: list[DemoUser], csv_path: str) -> int:
    started = time.perf_counter()
    try:
        await db.connect(settings)
        report = await seed_data(settings, companies, users)
    except (OSError, DBConnectionError) as exc:
        logger.error(
            "Cannot reach PostgreSQL at %s (%s). Start it (for example `sudo service postgresql start` "
            "or `docker compose up -d postgres`), make sure the database exists and DATABASE_URL "
            "points at it, then run `.venv/bin/aerich upgrade` and this command again.",
            _where(settings.database_url),
            exc,
        )
        return 1
    except OperationalError as exc:
        logger.error(
            "PostgreSQL at %s refused the seed (%s). If the tables are missing, run "
            "`.venv/bin/aerich upgrade` first.",
            _where(settings.database_url),
            exc,
        )
        return 1
    finally:
        await db.disconnect()
    export_users_csv(users, csv_path)
    logger.info(
        "Seeded %d companies and %d users (%d companies and %d users already present) in %.1f s; "
        "credentials written to %s.",
        report.companies_created,
        report.users_created,
        report.companies_present,
        report.users_present,
        time.perf_counter() - started,
        csv_path,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: seed the database and write the load-test credentials."""
    parser = argparse.ArgumentParser(prog="python -m models.seed", description=__doc__)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--per-company", type=int, default=200)
    parser.add_argument("--superusers", type=int, default=10)
    parser.add_argument("--csv", default=DEFAULT_CSV, help=f"credentials file (default {DEFAULT_CSV})")
    args = parser.parse_args(argv)
    try:
        companies = demo_data.companies(args.companies)
        users = demo_data.users(companies, args.per_company, args.superusers)
    except ValueError as exc:
        parser.error(str(exc))
    settings = load()
    log_config.setup(settings.log_level, "seed")
    return asyncio.run(_run(settings, companies, users, args.csv))


if __name__ == "__main__":
    sys.exit(main())
