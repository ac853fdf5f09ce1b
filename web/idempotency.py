"""Idempotency-Key: a retried command gets the first attempt's answer and has no second effect.

The first request with a key claims (customer, key) in `idempotency_keys` and, once
answered, stores the answer there. A retry with the same key and the same request gets
that answer again without publishing anything; the same key on a different request is
refused. Answers 5xx are not kept: nothing was queued, so a retry should really retry.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sanic import Request
from sanic.response import HTTPResponse, json
from tortoise.exceptions import IntegrityError

from models.entities import IdempotencyKey
from web import params
from web.errors import ApiError

Handler = Callable[..., Awaitable[HTTPResponse]]


def fingerprint(request: Request) -> str:
    """What makes two requests the same request: the route and every parameter given."""
    body: Any = None
    if request.method == "POST" and request.body:
        try:
            body = request.json
        except Exception:  # not JSON: the handler answers that; fingerprint the raw bytes
            body = request.body.decode("utf-8", "replace")
    material = orjson.dumps({"path": request.path.rstrip("/"), "args": sorted(request.args.items()), "body": body},
                            option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(material).hexdigest()


async def _claim(cpf: str, key: str, print_: str) -> HTTPResponse | None:
    """Claim the key for this request, or return the answer a previous attempt got."""
    try:
        await IdempotencyKey.create(cpf=cpf, key=key, fingerprint=print_)
        return None
    except IntegrityError:
        pass
    earlier = await IdempotencyKey.get(cpf=cpf, key=key)
    if earlier.fingerprint != print_:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used for a different request; use a new key.")
    if earlier.status is None:
        raise ApiError(409, "idempotency_key_in_use",
                       "The first request with this Idempotency-Key is still being answered; retry in a moment.")
    headers = {"Location": earlier.body["href"]} if isinstance(earlier.body, dict) and "href" in earlier.body else {}
    return json(earlier.body, status=earlier.status, headers={**headers, "Idempotent-Replayed": "true"})


def idempotent(handler: Handler) -> Handler:
    """Make a command handler honour the Idempotency-Key header (the handler gets `user`)."""

    @functools.wraps(handler)
    async def wrapped(request: Request, user: dict[str, Any], *args: Any, **kwargs: Any) -> HTTPResponse:
        key = params.idempotency_key(request)
        if key is None:
            return await handler(request, user, *args, **kwargs)
        cpf = str(user["cpf"])
        replay = await _claim(cpf, key, fingerprint(request))
        if replay is not None:
            return replay
        try:
            response = await handler(request, user, *args, **kwargs)
        except ApiError as error:
            if error.status_code >= 500:
                await IdempotencyKey.filter(cpf=cpf, key=key).delete()
            else:
                await IdempotencyKey.filter(cpf=cpf, key=key).update(
                    status=error.status_code, body={"error": {"code": error.code, "message": error.message}})
            raise
        except BaseException:
            await IdempotencyKey.filter(cpf=cpf, key=key).delete()
            raise
        await IdempotencyKey.filter(cpf=cpf, key=key).update(status=response.status,
                                                              body=orjson.loads(response.body or b"null"))
        return response

    return wrapped
