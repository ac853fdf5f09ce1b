"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi
from tortoise import Tortoise

from web.metrics import metrics_response

bp = Blueprint("health")


@bp.get("/")
@openapi.summary("Where to start")
async def index(request: Request) -> HTTPResponse:
    base = request.app.ctx.settings.base_url
    return json({"service": "activation requests", "docs": f"{base}/docs", "login": f"{base}/auth",
                 "companies": f"{base}/companies", "activations": f"{base}/activations",
                 "request": f"{base}/activations/request?company={{cnpj}}",
                 "health": f"{base}/health", "ready": f"{base}/ready", "metrics": f"{base}/metrics"})


@bp.get("/health")
@openapi.summary("Liveness: the process answers")
async def health(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


@bp.get("/ready")
@openapi.summary("Readiness: PostgreSQL and RabbitMQ both answer")
async def ready(request: Request) -> HTTPResponse:
    checks = {"database": "ok", "broker": "ok"}
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if not request.app.ctx.broker.is_connected:
        checks["broker"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return json({"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503)


@bp.get("/metrics")
@openapi.summary("Prometheus metrics")
async def metrics(request: Request) -> HTTPResponse:
    return await metrics_response()
