"""Activation routes: the four commands (GET or POST) and the two reads."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from models.state_machine import CommandType, Status
from web import commands, params, reads
from web.auth import authenticated
from web.commands import Caller
from web.errors import ApiError
from web.idempotency import idempotent, planned
from web.views import activation_view, company_view, event_view

bp = Blueprint("activations")

COMMAND_METHODS = ["GET", "POST"]
STATUSES = [s.value for s in Status]


def _accepted(request: Request, activation_id: Any, command_id: Any) -> HTTPResponse:
    href = f"{request.app.ctx.settings.base_url}/activations/{activation_id}"
    return json({"id": activation_id, "command_id": command_id, "status": "queued", "href": href},
                status=202, headers={"Location": href})


@bp.route("/activations/request", methods=COMMAND_METHODS)
@openapi.summary("Ask for a product to be activated at a company")
@openapi.parameter("company", str, "query", required=True, description="the company's CNPJ")
@openapi.parameter("Idempotency-Key", str, "header")
@openapi.secured("token")
@authenticated
@idempotent
async def request_activation(request: Request, user: dict[str, Any]) -> HTTPResponse:
    caller = Caller.from_claims(user)
    cnpj = params.required_cnpj(params.param(request, "company"))
    ids = planned(request)
    if not ids.resent:  # a resent command may have been applied already: the worker tells
        await commands.precheck_request(caller, cnpj, request.app.ctx.companies, request.app.ctx.pending_checks)
    command = commands.new_command(caller, CommandType.REQUEST, ids.command_id, ids.activation_id, company=cnpj)
    await commands.publish(request.app.ctx.broker, command)
    return _accepted(request, ids.activation_id, ids.command_id)


async def _act(request: Request, user: dict[str, Any], raw_id: str, kind: CommandType,
               reason: str | None = None) -> HTTPResponse:
    caller = Caller.from_claims(user)
    activation_id = params.activation_id(raw_id)
    ids = planned(request)  # its activation id is the path's, not the planned one
    if not ids.resent:  # a resent command may have been applied already: the worker tells
        await commands.precheck(caller, kind, activation_id, request.app.ctx.settings.out_of_order_wait)
    command = commands.new_command(caller, kind, ids.command_id, activation_id, reason=reason)
    await commands.publish(request.app.ctx.broker, command)
    return _accepted(request, activation_id, ids.command_id)


@bp.route("/activations/<raw_id:str>/cancel", methods=COMMAND_METHODS)
@openapi.summary("Cancel your own pending activation")
@openapi.secured("token")
@authenticated
@idempotent
async def cancel(request: Request, user: dict[str, Any], raw_id: str) -> HTTPResponse:
    return await _act(request, user, raw_id, CommandType.CANCEL)


@bp.route("/activations/<raw_id:str>/approve", methods=COMMAND_METHODS)
@openapi.summary("Approve a pending activation (super-users)")
@openapi.secured("token")
@authenticated
@idempotent
async def approve(request: Request, user: dict[str, Any], raw_id: str) -> HTTPResponse:
    return await _act(request, user, raw_id, CommandType.APPROVE)


@bp.route("/activations/<raw_id:str>/refuse", methods=COMMAND_METHODS)
@openapi.summary("Refuse a pending activation (super-users), with an optional reason")
@openapi.parameter("reason", str, "query")
@openapi.secured("token")
@authenticated
@idempotent
async def refuse(request: Request, user: dict[str, Any], raw_id: str) -> HTTPResponse:
    return await _act(request, user, raw_id, CommandType.REFUSE, reason=params.reason(request))


@bp.get("/activations/<raw_id:str>")
@openapi.summary("One activation with its history")
@openapi.secured("token")
@authenticated
async def view(request: Request, user: dict[str, Any], raw_id: str) -> HTTPResponse:
    caller = Caller.from_claims(user)
    activation_id = params.activation_id(raw_id)
    activation, history = await reads.activation_with_history(activation_id)
    if activation is None and not history:
        raise ApiError(404, "not_found", f"There is no activation {activation_id} (yet: a request just "
                       "accepted appears once a worker has applied it).")
    owner = activation["requester_id"] if activation is not None else history[0]["actor_cpf"]
    if owner != caller.cpf and not caller.superuser:
        raise ApiError(403, "forbidden", "You may only see your own activations.")
    if activation is None:  # never created (its request, or a command for an unknown id, was rejected)
        first = history[0]
        body: dict[str, Any] = {
            "id": activation_id, "status": "rejected",
            "requester_cpf": first["actor_cpf"] if first["command"] == CommandType.REQUEST else None,
            "company_cnpj": first["company_cnpj"],
            "href": f"{request.app.ctx.settings.base_url}/activations/{activation_id}",
        }
    else:
        body = activation_view(activation, request.app.ctx.settings.base_url)
        cnpj = activation["company_id"]
        body["company"] = company_view(cnpj, await request.app.ctx.companies.name(cnpj))
    body["history"] = [event_view(e) for e in history]
    return json(body)


@bp.get("/activations")
@openapi.summary("List activations: your own, or all of them for super-users")
@openapi.parameter("status", str, "query")
@openapi.parameter("company", str, "query")
@openapi.parameter("page", int, "query")
@openapi.parameter("per_page", int, "query")
@openapi.secured("token")
@authenticated
async def list_activations(request: Request, user: dict[str, Any]) -> HTTPResponse:
    caller = Caller.from_claims(user)
    filters: dict[str, str] = {}
    if not caller.superuser:
        filters["requester_id"] = caller.cpf
    status = request.args.get("status")
    if status:
        if status not in STATUSES:
            raise ApiError(422, "invalid_status", f"status must be one of {', '.join(STATUSES)}.")
        filters["status"] = status
    company = params.cnpj(request.args.get("company"), required=False)
    if company:
        filters["company_id"] = company
    page = params.positive_int(request, "page", 1, 1_000_000)
    per_page = params.positive_int(request, "per_page", 20, 100)
    rows, total = await reads.activation_page(filters, page, per_page)
    base = request.app.ctx.settings.base_url
    return json({"items": [activation_view(a, base) for a in rows], "total": total,
                 "page": page, "per_page": per_page})
