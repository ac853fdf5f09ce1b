"""Log-in with sanic-jwt: CPF and password against the users table; claims in the token."""

from __future__ import annotations

from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic_jwt import Initialize, Responses
from sanic_jwt import exceptions as jwt_errors

from config.settings import Settings
from models.documents import is_valid_cpf, normalize
from models.entities import User
from models.passwords import verify_password_async
from web.errors import ApiError, error_response


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
    cpf = normalize(cpf)
    user = await User.get_or_none(cpf=cpf) if is_valid_cpf(cpf) else None
    # Verify even for unknown users, so the answer time does not reveal which CPFs exist.
    hashed = user.password_hash if user is not None else request.app.ctx.dummy_hash
    ok = await verify_password_async(request.app.ctx.hasher, hashed, password)
    if user is None or not ok:
        raise jwt_errors.AuthenticationFailed("Wrong CPF or password.")
    return claims(user)


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
    return {key: payload.get(key) for key in ("cpf", "name", "company", "superuser")}


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


async def store_refresh_token(user_id: str, refresh_token: str, *args: Any, **kwargs: Any) -> None:
    await User.filter(cpf=user_id).update(refresh_token=refresh_token)


async def retrieve_refresh_token(request: Request, user_id: str, *args: Any, **kwargs: Any) -> str | None:
    user = await User.get_or_none(cpf=user_id)
    return user.refresh_token if user is not None else None


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
