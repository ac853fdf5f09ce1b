"""API errors and the one JSON shape every error answer has."""

from __future__ import annotations

import logging
from typing import Any

import jwt
from sanic import HTTPResponse, Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import json

from models.state_machine import Reason, Rejected
from workers.database import is_database_down

log = logging.getLogger(__name__)

REJECTION_STATUS: dict[Reason, int] = {
    Reason.NOT_FOUND: 404,
    Reason.FORBIDDEN: 403,
    Reason.OWN_REQUEST: 403,
    Reason.FINAL: 409,
    Reason.ALREADY_EXISTS: 409,
    Reason.DUPLICATE_PENDING: 409,
}

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    422: "unprocessable", 503: "unavailable",
}


class ApiError(SanicException):
    """An error answer: HTTP status, a stable slug and a sentence for humans."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, status_code=status)
        self.code = code
        self.message = message
        self.details = details or {}


def from_rejection(rejection: Rejected) -> ApiError:
    return ApiError(REJECTION_STATUS[rejection.reason], rejection.reason.value, rejection.message)


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> HTTPResponse:
    return json({"error": {"code": code, "message": message, **(details or {})}}, status=status)


async def handle_exception(request: Request, exc: Exception) -> HTTPResponse:
    """Turn any exception into the documented error shape; only real bugs become 500."""
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.message, exc.details)
    if isinstance(exc, Rejected):
        err = from_rejection(exc)
        return error_response(err.status_code, err.code, err.message)
    if isinstance(exc, jwt.PyJWTError):  # what sanic-jwt's own endpoints let through (e.g. alg "none")
        return error_response(401, "unauthorized", "Auth required.")
    if is_database_down(exc):
        log.warning("Request %s %s failed because PostgreSQL is unavailable: %r", request.method, request.path, exc)
        return error_response(503, "database_unavailable",
                              "The database is not answering; try again in a few seconds.")
    if isinstance(exc, SanicException):
        status = exc.status_code or 500
        code = _STATUS_CODES.get(status, "error")
        message = str(exc) or code.replace("_", " ")
        if status == 400 and "json" in message.lower():
            code, message = "invalid_json", "The request body is not valid JSON."
        elif status == 404:
            message = f"There is no route {request.path}; see /docs for the API."
        return error_response(status, code, message)
    log.exception("Unexpected error answering %s %s.", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


def register(app: Sanic) -> None:
    app.error_handler.add(Exception, handle_exception)
