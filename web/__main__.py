"""Run the API: `python -m web` (API_WORKERS server processes on API_HOST:API_PORT)."""

from __future__ import annotations

import sys

from sanic import Sanic
from sanic.worker.loader import AppLoader

from config.logging import settings_or_report
from web.app import build


def main() -> int:
    settings = settings_or_report("api")
    if settings is None:
        return 2
    loader = AppLoader(factory=build)
    app = loader.load()
    single = settings.api_workers == 1
    app.prepare(host=settings.api_host, port=settings.api_port, workers=settings.api_workers,
                backlog=settings.api_backlog, single_process=single, access_log=False, motd=False)
    if single:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
