"""Prometheus metrics of the API process."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import HTTPResponse, Request, Sanic
from sanic.response import raw

REQUESTS = Histogram(
    "api_request_seconds", "Time to answer an HTTP request.", ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMANDS = Counter("api_commands_total", "Commands the API handled, by type and result.", ["type", "result"])


def install(app: Sanic) -> None:
    @app.on_request
    async def start_timer(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response
    async def observe(request: Request, response: HTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)
        if started is None:
            return
        route = request.route.path if request.route else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status)).observe(time.perf_counter() - started)


async def metrics_response() -> HTTPResponse:
    return raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)
