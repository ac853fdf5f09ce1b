"""`GET /companies`: the partner companies."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi
from sanic_jwt import protected

from models.entities import Company
from web.views import company_view

bp = Blueprint("companies")


@bp.get("/companies")
@openapi.summary("List the partner companies")
@openapi.secured("token")
@protected()
async def list_companies(request: Request) -> HTTPResponse:
    companies = await Company.all().order_by("name")
    return json({"items": [company_view(c) for c in companies], "total": len(companies)})
