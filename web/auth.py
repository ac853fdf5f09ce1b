"""Log-in with sanic-jwt: CPF and password against the users table; claims in the token.

sanic-jwt issues and refreshes the tokens; the API's own routes check them with
`authenticated`, which verifies the token once, as sanic-jwt's settings here would.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic_jwt import Initialize, Responses
from sanic_jwt import exceptions as jwt_errors
from tortoise.expressions import Subquery

from config.settings import Settings
from models.documents import is_valid_cpf, normalize
from models.entities import RefreshToken, User
from models.passwords import verify_password_async
from web.errors import ApiError, error_response
from web.params import is_text


async def authenticate(request: Request, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Check `{"cpf", "password"}` and return the user's claims."""
    try:
        body = request.json if request.body else None
    except Exception as exc:  # Sanic raises BadRequest for a body that is not JSON
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "missing_credentials", 'Send a JSON object: {"cpf": "...", "password": "..."}.')
    cpf, password = body.get("cpf"), body.get("password")
    if not isinstance(cpf, str) or not isinstance(password, str) or not cpf or not password:
        raise ApiError(400, "missing_credentials", "Both cpf and password are required, as strings.")
    if not (is_text(cpf) and is_text(password)):
        raise ApiError(400, "invalid_text", "The cpf and password must be text (no unpaired surrogates).")
    cpf = normalize(cpf)
    user = await User.get_or_none(cpf=cpf) if is_valid_cpf(cpf) else None
    # Verify even for unknown users, so the answer time does not reveal which CPFs exist.
    hashed = user.password_hash if user is not None else request.app.ctx.dummy_hash
    ok = await request.app.ctx.login_gate.run(
        functools.partial(verify_password_async, request.app.ctx.hasher, hashed, password))
    if user is None or not ok:
        raise jwt_errors.AuthenticationFailed("Wrong CPF or password.")
    return claims(user)


class LoginGate:
    """Bounds the password checks one API process runs, and queues, at once.

    An argon2 check costs tens of milliseconds of CPU by design. When a crowd logs in at
    once, a log-in past the queue is refused at once with 503, instead of waiting until its
    client has given up and been checked all the same, starving every other request.
    """

    def __init__(self, running: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(running)
        self._limit = running + waiting
        self._inside = 0

    async def run(self, check: Callable[[], Awaitable[bool]]) -> bool:
        if self._inside >= self._limit:
            raise ApiError(503, "too_many_logins", "Too many log-ins at once; try again in a few seconds.")
        self._inside += 1
        try:
            async with self._slots:
                return await check()
        finally:
            self._inside -= 1


# sanic-jwt's defaults, which the tokens are issued with and were checked against before.
ALGORITHM = "HS256"
LEEWAY_SECONDS = 180
CLAIMS = ("cpf", "name", "company", "superuser")

Handler = Callable[..., Awaitable[HTTPResponse]]


def claims(user: User) -> dict[str, Any]:
    return {"cpf": user.cpf, "name": user.name, "company": user.company_id, "superuser": user.is_superuser}


async def retrieve_user(request: Request, payload: dict[str, Any] | None, *args: Any, **kwargs: Any) -> Any:
    """The logged-in user as the token describes them (workers re-check against the database).

    A refresh reads the database instead, so a new token never carries stale rights.
    """
    if not payload:
        return None
    if is_refresh(request):
        user = await User.get_or_none(cpf=payload.get("cpf"))
        return claims(user) if user is not None else None
    return {key: payload.get(key) for key in CLAIMS}


class VerifiedTokens:
    """The claims of tokens verified lately, so a caller's next request skips the signature check.

    A token cannot change, so its claims stay right until it expires; expiry is looked at on
    every hit. Bounded: the least recently used token goes first.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._claims: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()

    def get(self, token: str, now: float) -> dict[str, Any] | None:
        found = self._claims.get(token)
        if found is None:
            return None
        claims_, expires = found
        if now > expires:
            del self._claims[token]
            return None
        self._claims.move_to_end(token)
        return claims_

    def put(self, token: str, claims_: dict[str, Any], expires: float) -> None:
        self._claims[token] = (claims_, expires)
        if len(self._claims) > self.size:
            self._claims.popitem(last=False)


def verified_claims(authorization: str | None, secret: str, seen: VerifiedTokens | None = None) -> dict[str, Any]:
    """The caller's claims from an `Authorization: Bearer <token>` header, or a 401 ApiError.

    The messages are sanic-jwt's, so a client sees the same answers as before.
    """
    if not authorization:
        raise ApiError(401, "unauthorized", "Authorization header not present.")
    parts = authorization.split(" ")
    if len(parts) != 2 or parts[0] != "Bearer":
        raise ApiError(401, "unauthorized", "Authorization header is invalid.")
    token = parts[1]
    if not token:
        raise ApiError(401, "unauthorized", "Authorization header not present.")
    now = time.time()
    known = seen.get(token, now) if seen is not None else None
    if known is not None:
        return known
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                             options={"require": ["exp"]})
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
        reason = str(exc)
        raise ApiError(401, "unauthorized", reason if reason.endswith(".") else f"{reason}.") from None
    except (jwt.PyJWTError, UnicodeError):  # UnicodeError: a token with characters no JWT has
        raise ApiError(401, "unauthorized", "Auth required.") from None
    if not isinstance(payload.get("cpf"), str) or not isinstance(payload.get("superuser", False), bool):
        raise ApiError(401, "unauthorized", "The token does not name a user; log in again.")
    found = {key: payload.get(key) for key in CLAIMS}
    if seen is not None and isinstance(payload.get("exp"), (int, float)) and "nbf" not in payload:
        seen.put(token, found, float(payload["exp"]) + LEEWAY_SECONDS)
    return found


def authenticated(handler: Handler) -> Handler:
    """Let only callers with a valid access token in; the handler gets their claims as `user`.

    One verification per token: sanic-jwt's `@protected` with `@inject_user` decoded and
    verified the token twice on every request, a third of the time of a whole command.
    """

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        ctx = request.app.ctx
        user = verified_claims(request.headers.get("authorization"), ctx.settings.secret, ctx.verified_tokens)
        return await handler(request, user, *args, **kwargs)

    return wrapped


def is_refresh(request: Request) -> bool:
    return request.path.rstrip("/").endswith("/auth/refresh")


async def check_refresh_body(request: Request) -> HTTPResponse | None:
    """Answer a refresh without `{"refresh_token": "..."}` before sanic-jwt trips over it."""
    if request.method != "POST" or not is_refresh(request):
        return None
    try:
        body = request.json if request.body else None
    except Exception:  # Sanic raises BadRequest for a body that is not JSON
        return error_response(400, "invalid_json", "The request body is not valid JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("refresh_token"), str):
        return error_response(400, "missing_refresh_token",
                              'Send {"refresh_token": "..."} in the body, with the (possibly expired) '
                              "access token in the Authorization header.")
    return None


async def extend_payload(payload: dict[str, Any], user: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    payload.update({"name": user["name"], "company": user["company"], "superuser": user["superuser"]})
    return payload


# Sessions per user that can refresh at once; a log-in past that retires the oldest.
REFRESH_TOKENS_PER_USER = 10


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def store_refresh_token(user_id: str, refresh_token: str, *args: Any, **kwargs: Any) -> None:
    """Keep a new session's refresh token beside the user's other sessions (a few at most)."""
    await RefreshToken.create(digest=token_digest(refresh_token), user_id=user_id)
    latest = RefreshToken.filter(user_id=user_id).order_by("-created_at").limit(REFRESH_TOKENS_PER_USER)
    await RefreshToken.filter(user_id=user_id).exclude(digest__in=Subquery(latest.values("digest"))).delete()


async def retrieve_refresh_token(request: Request, user_id: str, *args: Any, **kwargs: Any) -> str | None:
    """The refresh token the caller sent, if it is one of this user's live sessions."""
    sent = request.json.get("refresh_token") if isinstance(request.json, dict) else None
    if not isinstance(sent, str) or not is_text(sent):
        return None
    known = await RefreshToken.exists(digest=token_digest(sent), user_id=user_id)
    return sent if known else None


class ErrorShapedResponses(Responses):  # type: ignore[misc]
    """sanic-jwt's answers, with its errors in the API's error shape."""

    @staticmethod
    def exception_response(request: Request, exception: Exception) -> HTTPResponse:
        reason = exception.args[0] if exception.args else "Not authorized."
        if isinstance(reason, list):
            reason = " ".join(str(r) for r in reason)
        if isinstance(exception, jwt_errors.AuthenticationFailed):
            return error_response(401, "invalid_credentials", str(reason))
        refreshing = request.path.rstrip("/").endswith("/refresh")
        if refreshing and isinstance(exception, jwt_errors.MissingAuthorizationHeader) and \
                "authorization" in request.headers:
            # sanic-jwt reports a missing refresh token in the body as a missing header.
            return error_response(400, "missing_refresh_token",
                                  'Send {"refresh_token": "..."} in the body, with the (possibly expired) '
                                  "access token in the Authorization header.")
        return error_response(401, "unauthorized", str(reason))


def setup(app: Sanic, settings: Settings) -> None:
    app.ctx.login_gate = LoginGate(settings.login_concurrency, settings.login_queue)
    app.ctx.verified_tokens = VerifiedTokens()
    app.on_request(check_refresh_body)
    Initialize(
        app,
        authenticate=authenticate,
        retrieve_user=retrieve_user,
        extend_payload=extend_payload,
        store_refresh_token=store_refresh_token,
        retrieve_refresh_token=retrieve_refresh_token,
        refresh_token_enabled=True,
        responses_class=ErrorShapedResponses,
        secret=settings.secret,
        user_id="cpf",
        expiration_delta=settings.jwt_access_ttl,
        path_to_authenticate="/",
        url_prefix="/auth",
    )
