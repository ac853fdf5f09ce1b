"""Command line of the background processes: `python -m workers {pool,run,smtp-sink}`."""

from __future__ import annotations

import argparse
import sys

from config.logging import settings_or_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    pool = sub.add_parser("pool", help="run the worker pools under the autoscaling supervisor")
    pool.add_argument("roles", nargs="*", metavar="{command,notifier}", help="which pools (default: both)")
    run = sub.add_parser("run", help="run a single worker process")
    run.add_argument("role", choices=["command", "notifier"])
    sub.add_parser("smtp-sink", help="run the local SMTP sink that stores mail under MAIL_DIR")
    args = parser.parse_args(argv)
    if args.action == "pool" and not set(args.roles) <= {"command", "notifier"}:
        parser.error(f"unknown role(s) {sorted(set(args.roles) - {'command', 'notifier'})}; use command or notifier")
    settings = settings_or_report("workers")
    if settings is None:
        return 2
    if args.action == "pool":
        from workers import supervisor

        return supervisor.main(settings, args.roles or ["command", "notifier"])
    if args.action == "run":
        from workers import process

        return process.main(args.role, settings)
    from workers import smtp_sink

    smtp_sink.main(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
