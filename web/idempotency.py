"""Idempotency-Key: a retried command gets the first attempt's answer and has no second effect.

The first request with a key claims (customer, key) in `idempotency_keys` and, once
answered, stores the answer there. A retry with the same key and the same request gets
that answer again without publishing anything; the same key on a different request is
refused. Answers 5xx are not kept: nothing was queued, so a retry should really retry.
The one exception is a command RabbitMQ did not confirm (503 `broker_unconfirmed`): it may
still be applied, so a retry with the key publishes that very command again (same command
id, which the workers never apply twice) instead of a new one.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sanic import Request
from sanic.response import HTTPResponse, json
from tortoise.exceptions import IntegrityError

from models.entities import IdempotencyKey
from web import params
from web.errors import ApiError

Handler = Callable[..., Awaitable[HTTPResponse]]

IN_DOUBT = "broker_unconfirmed"


@dataclass(frozen=True)
class Resend:
    """The command an earlier attempt with this key published without a confirm: send it again."""

    command_id: uuid.UUID
    activation_id: uuid.UUID


def resend(request: Request) -> Resend | None:
    """For a command handler: the ids to publish again, when this is a retry of an unconfirmed command."""
    return getattr(request.ctx, "resend", None)


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


async def _claim(cpf: str, key: str, print_: str) -> HTTPResponse | Resend | None:
    """Claim the key for this request, or return the answer a previous attempt got (or what to resend)."""
    try:
        await IdempotencyKey.create(cpf=cpf, key=key, fingerprint=print_)
        return None
    except IntegrityError:
        pass
    earlier = await IdempotencyKey.get(cpf=cpf, key=key)
    if earlier.fingerprint != print_:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used for a different request; use a new key.")
    error = earlier.body.get("error") if isinstance(earlier.body, dict) else None
    if earlier.status == 503 and isinstance(error, dict) and error.get("code") == IN_DOUBT:
        return Resend(uuid.UUID(str(error["command_id"])), uuid.UUID(str(error["id"])))
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
        if isinstance(replay, HTTPResponse):
            return replay
        request.ctx.resend = replay
        try:
            response = await handler(request, user, *args, **kwargs)
        except ApiError as error:
            if error.code == IN_DOUBT:
                # Kept, with the command's ids, so that a retry sends the same command again.
                await IdempotencyKey.filter(cpf=cpf, key=key).update(
                    status=error.status_code,
                    body=orjson.loads(orjson.dumps({"error": {"code": error.code, "message": error.message,
                                                              **error.details}}, default=str)))
            elif error.status_code >= 500:
                if replay is None:  # nothing was queued, by this attempt or any before it
                    await IdempotencyKey.filter(cpf=cpf, key=key).delete()
            else:
                await IdempotencyKey.filter(cpf=cpf, key=key).update(
                    status=error.status_code, body={"error": {"code": error.code, "message": error.message}})
            raise
        except BaseException:
            if replay is None:
                await IdempotencyKey.filter(cpf=cpf, key=key).delete()
            raise
        await IdempotencyKey.filter(cpf=cpf, key=key).update(status=response.status,
                                                              body=orjson.loads(response.body or b"null"))
        return response

    return wrapped
