"""Idempotency-Key: a retried command gets the first attempt's answer and has no second effect.

The first request with a key claims (customer, key) in `idempotency_keys`, fixing there the
ids its command will be published with, and once answered stores the answer. A retry with
the same key and the same request gets that answer again without publishing anything; the
same key on a different request is refused. Answers 5xx are not kept: nothing was queued,
so a retry should really retry. Two cases may have published the command without an
answer to show for it: RabbitMQ did not confirm it (503 `broker_unconfirmed`), or the
process answering died first. A retry then publishes that very command again (the same
command id, which the workers never apply twice) instead of a new one.

A client that hangs up does not stop the answer: it is worked out and stored all the same,
so that its retry finds it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sanic import Request
from sanic.response import HTTPResponse, json
from tortoise.exceptions import IntegrityError

from models.entities import IdempotencyKey
from models.ids import uuid7
from web import params
from web.errors import ApiError

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[HTTPResponse]]

IN_DOUBT = "broker_unconfirmed"
# A first attempt unanswered for this long died with its process (an answer takes at most
# the publish timeout); a retry then takes over.
ABANDONED_AFTER = 60.0


@dataclass(frozen=True)
class Planned:
    """The ids a keyed command is published with, fixed when its key is first claimed.

    `resent`: an earlier attempt may have published it already, so the command goes out
    again as it is, without the API's early checks (the worker tells what became of it).
    """

    command_id: uuid.UUID
    activation_id: uuid.UUID
    resent: bool = False

    def stored(self) -> dict[str, str]:
        return {"command_id": str(self.command_id), "id": str(self.activation_id)}

    @classmethod
    def from_stored(cls, body: Any) -> Planned | None:
        try:
            return cls(uuid.UUID(str(body["command_id"])), uuid.UUID(str(body["id"])), resent=True)
        except (KeyError, TypeError, ValueError):
            return None


def planned(request: Request) -> Planned:
    """For a command handler: the ids to publish with (fixed by its Idempotency-Key, or new)."""
    ids: Planned | None = getattr(request.ctx, "planned", None)
    return ids if ids is not None else Planned(uuid7(), uuid7())


def fingerprint(request: Request) -> str:
    """What makes two requests the same request: the route and every parameter given.

    GET and POST are the same request: a parameter counts the same from the query string
    or from a JSON body (where the query string wins, as in the handlers).
    """
    given: dict[str, Any] = {}
    if request.method == "POST" and request.body:
        try:
            body = request.json
        except Exception:  # not JSON: the handler answers that; fingerprint the raw bytes
            body = request.body.decode("utf-8", "replace")
        if isinstance(body, dict):
            given.update(body)
        else:
            given["(body)"] = body
    given.update({name: values[0] if len(values) == 1 else values for name, values in request.args.items()})
    material = orjson.dumps({"path": request.path.rstrip("/"), "params": given},
                            option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(material).hexdigest()


async def _claim(cpf: str, key: str, print_: str) -> HTTPResponse | Planned:
    """Claim the key for this request, or return the answer a previous attempt got (or what to resend)."""
    for _ in range(3):
        fresh = Planned(uuid7(), uuid7())
        try:
            await IdempotencyKey.create(cpf=cpf, key=key, fingerprint=print_, body=fresh.stored())
            return fresh
        except IntegrityError:
            pass
        earlier = await IdempotencyKey.get_or_none(cpf=cpf, key=key)
        if earlier is not None:
            return _earlier_answer(earlier, print_)
        # The attempt holding the key gave it up in between (nothing was queued): claim it again.
    raise ApiError(409, "idempotency_key_in_use",
                   "Another request with this Idempotency-Key is being answered; retry in a moment.")


def _earlier_answer(earlier: IdempotencyKey, print_: str) -> HTTPResponse | Planned:
    if earlier.fingerprint != print_:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used for a different request; use a new key.")
    body = earlier.body if isinstance(earlier.body, dict) else {}
    error = body.get("error")
    if earlier.status == 503 and isinstance(error, dict) and error.get("code") == IN_DOUBT:
        resend = Planned.from_stored(error)
        if resend is not None:
            return resend
    if earlier.status is None:
        age = (datetime.now(UTC) - earlier.created_at).total_seconds()
        resend = Planned.from_stored(body) if age > ABANDONED_AFTER else None
        if resend is None:
            raise ApiError(409, "idempotency_key_in_use",
                           "The first request with this Idempotency-Key is still being answered; retry in a moment.")
        log.warning("The first request with Idempotency-Key %r of %s was never answered; sending its command %s "
                    "again.", earlier.key, earlier.cpf, resend.command_id)
        return resend
    headers = {"Location": body["href"]} if "href" in body else {}
    return json(earlier.body, status=earlier.status, headers={**headers, "Idempotent-Replayed": "true"})


async def _answer_once(handler: Handler, request: Request, user: dict[str, Any], key: str,
                       *args: Any, **kwargs: Any) -> HTTPResponse:
    cpf = str(user["cpf"])
    claimed = await _claim(cpf, key, fingerprint(request))
    if isinstance(claimed, HTTPResponse):
        return claimed
    request.ctx.planned = claimed
    mine = IdempotencyKey.filter(cpf=cpf, key=key)
    try:
        response = await handler(request, user, *args, **kwargs)
    except ApiError as error:
        if error.code == IN_DOUBT:
            # Kept, with the command's ids, so that a retry sends the same command again.
            await mine.update(status=error.status_code, body=orjson.loads(orjson.dumps(
                {"error": {"code": error.code, "message": error.message, **error.details}}, default=str)))
        elif error.status_code >= 500:
            if not claimed.resent:  # nothing was queued, by this attempt or any before it
                await mine.delete()
        else:
            await mine.update(status=error.status_code, body={"error": {"code": error.code, "message": error.message}})
        raise
    # Anything else leaves the key unanswered with its ids: a retry past ABANDONED_AFTER resends them.
    await mine.update(status=response.status, body=orjson.loads(response.body or b"null"))
    return response


def _settled(task: asyncio.Task[HTTPResponse]) -> None:
    """Collect the outcome of an answer nobody waited for (the client hung up)."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("A keyed command whose client hung up ended with %r.", task.exception())


def idempotent(handler: Handler) -> Handler:
    """Make a command handler honour the Idempotency-Key header (the handler gets `user`)."""

    @functools.wraps(handler)
    async def wrapped(request: Request, user: dict[str, Any], *args: Any, **kwargs: Any) -> HTTPResponse:
        key = params.idempotency_key(request)
        if key is None:
            return await handler(request, user, *args, **kwargs)
        # Shielded: when the client hangs up, Sanic cancels this handler, but the answer must
        # still be stored for the retry, whatever was published.
        task = asyncio.ensure_future(_answer_once(handler, request, user, key, *args, **kwargs))
        task.add_done_callback(_settled)
        return await asyncio.shield(task)

    return wrapped
