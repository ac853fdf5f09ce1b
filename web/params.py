"""Reading and validating request parameters, with clear errors for bad input."""

from __future__ import annotations

import uuid
from typing import Any

from sanic import Request

from models.documents import is_valid_cnpj, normalize
from models.ids import parse_uuid
from web.errors import ApiError

MAX_REASON = 500
MAX_IDEMPOTENCY_KEY = 200


def param(request: Request, name: str) -> str | None:
    """A parameter from the query string, or from a JSON body on POST."""
    value: Any = request.args.get(name)
    if value is None and request.method == "POST" and request.body:
        try:
            body = request.json
        except Exception as exc:
            raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from exc
        if isinstance(body, dict):
            value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, f"invalid_{name}", f"Parameter {name} must be a string.")
    if value is not None and not printable(value):
        raise ApiError(422, f"invalid_{name}", f"Parameter {name} contains control characters or invalid Unicode.")
    return value


def is_text(value: str) -> bool:
    """Whether `value` can be written as UTF-8: JSON may carry unpaired surrogates ("\\ud800") that cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> bool:
    """Whether `text` can be stored and sent on: valid UTF-8, no NUL or other control characters."""
    return is_text(text) and not any(ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 for c in text)


def activation_id(raw: str) -> uuid.UUID:
    value = parse_uuid(raw)
    if value is None:
        raise ApiError(400, "invalid_id", f"{raw[:64]!r} is not an activation id (a UUID).")
    return value


def required_cnpj(raw: str | None) -> str:
    """A CNPJ that must be there."""
    value = cnpj(raw, required=True)
    assert value is not None  # cnpj(required=True) raises instead of returning None
    return value


def cnpj(raw: str | None, *, required: bool) -> str | None:
    if raw is None or raw == "":
        if required:
            raise ApiError(400, "missing_company", "Say which company with ?company=<cnpj>.")
        return None
    value = normalize(raw)
    if not is_valid_cnpj(value):
        raise ApiError(422, "invalid_cnpj", f"{raw[:32]!r} is not a valid CNPJ (14 digits with check digits).")
    return value


def positive_int(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ApiError(422, f"invalid_{name}", f"{name} must be a whole number from 1 to {maximum}.")
    return int(raw)


def reason(request: Request) -> str | None:
    value = param(request, "reason")
    if value is not None and len(value) > MAX_REASON:
        raise ApiError(422, "invalid_reason", f"The reason may have at most {MAX_REASON} characters.")
    return value.strip() or None if value is not None else None


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and (not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not printable(key)):
        raise ApiError(422, "invalid_idempotency_key",
                       f"Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY} printable characters "
                       "(letters, digits, punctuation; no control characters).")
    return key
