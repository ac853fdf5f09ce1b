"""`GET /companies`: the partner companies."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from models.entities import Company
from web.auth import authenticated
from web.views import company_view

bp = Blueprint("companies")


@bp.get("/companies")
@openapi.summary("List the partner companies")
@openapi.secured("token")
@authenticated
async def list_companies(request: Request, user: dict[str, Any]) -> HTTPResponse:
    companies = await Company.all().order_by("name")
    return json({"items": [company_view(c) for c in companies], "total": len(companies)})
