"""`GET /companies`: the partner companies."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from web.auth import authenticated

bp = Blueprint("companies")


@bp.get("/companies")
@openapi.summary("List the partner companies")
@openapi.secured("token")
@authenticated
async def list_companies(request: Request, user: dict[str, Any]) -> HTTPResponse:
    # The answer is built once per load of the directory (at most a minute old).
    return raw((await request.app.ctx.companies.current()).body, content_type="application/json")
