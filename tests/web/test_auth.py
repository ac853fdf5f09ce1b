"""Token checks of the API's routes: one verification per token, the same answers as sanic-jwt's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from web.auth import LEEWAY_SECONDS, VerifiedTokens, verified_claims
from web.errors import ApiError

SECRET = "a-test-secret-of-enough-length-for-hs256"


def token(secret: str = SECRET, expires_in: timedelta = timedelta(minutes=5), **extra: object) -> str:
    claims = {"cpf": "29108474460", "name": "Ana", "company": "27865757000102", "superuser": False,
              "exp": datetime.now(UTC) + expires_in, **extra}
    return jwt.encode(claims, secret, algorithm="HS256")


def test_given_a_valid_token_then_its_claims_come_back() -> None:
    claims = verified_claims(f"Bearer {token()}", SECRET, VerifiedTokens())
    assert claims == {"cpf": "29108474460", "name": "Ana", "company": "27865757000102", "superuser": False}


def test_given_a_token_seen_before_when_it_comes_again_then_the_remembered_claims_are_used() -> None:
    seen = VerifiedTokens()
    value = token()
    first = verified_claims(f"Bearer {value}", SECRET, seen)
    # A wrong secret would fail a fresh check: the answer can only come from what was remembered.
    assert verified_claims(f"Bearer {value}", "another-secret", seen) == first


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Token abc", "Bearer a b", "Bearer \x80",
                                    "Bearer \udc80"])
def test_given_a_missing_or_malformed_header_then_401(header: str | None) -> None:
    with pytest.raises(ApiError) as raised:
        verified_claims(header, SECRET, VerifiedTokens())
    assert raised.value.status_code == 401 and raised.value.code == "unauthorized"


def test_given_a_token_signed_with_another_secret_then_401_and_nothing_is_remembered() -> None:
    seen = VerifiedTokens()
    forged = token(secret="someone-elses-secret-of-enough-length")
    for _ in range(2):
        with pytest.raises(ApiError) as raised:
            verified_claims(f"Bearer {forged}", SECRET, seen)
        assert raised.value.status_code == 401


def test_given_an_expired_token_then_401_saying_so() -> None:
    expired = token(expires_in=-timedelta(seconds=LEEWAY_SECONDS + 5))
    with pytest.raises(ApiError) as raised:
        verified_claims(f"Bearer {expired}", SECRET, VerifiedTokens())
    assert raised.value.status_code == 401 and "expired" in raised.value.message.lower()


def test_given_a_remembered_token_when_it_expires_then_it_is_checked_again() -> None:
    seen = VerifiedTokens()
    seen.put("t", {"cpf": "1"}, expires=time.time() - 1)
    assert seen.get("t", time.time()) is None
    seen.put("t", {"cpf": "1"}, expires=time.time() + 60)
    assert seen.get("t", time.time()) == {"cpf": "1"}


def test_given_more_tokens_than_room_then_the_least_recently_used_goes() -> None:
    seen = VerifiedTokens(size=2)
    later = time.time() + 60
    seen.put("a", {"cpf": "a"}, later)
    seen.put("b", {"cpf": "b"}, later)
    assert seen.get("a", time.time()) is not None  # a is now the most recent
    seen.put("c", {"cpf": "c"}, later)
    assert seen.get("b", time.time()) is None
    assert seen.get("a", time.time()) is not None and seen.get("c", time.time()) is not None


@pytest.mark.parametrize("claims", [{"cpf": None}, {"cpf": ["a"]}, {"superuser": "yes"}])
def test_given_a_token_whose_claims_name_no_user_then_401(claims: dict[str, object]) -> None:
    with pytest.raises(ApiError) as raised:
        verified_claims(f"Bearer {token(**claims)}", SECRET, VerifiedTokens())
    assert raised.value.status_code == 401


def test_given_a_token_without_an_expiry_then_401() -> None:
    forever = jwt.encode({"cpf": "29108474460", "superuser": False}, SECRET, algorithm="HS256")
    with pytest.raises(ApiError) as raised:
        verified_claims(f"Bearer {forever}", SECRET, VerifiedTokens())
    assert raised.value.status_code == 401


async def test_log_ins_past_the_queue_are_refused_at_once_and_the_others_go_through() -> None:
    import asyncio

    from web.auth import LoginGate
    from web.errors import ApiError

    # Given a gate for one running check and one waiting, and a slow check
    gate, release = LoginGate(running=1, waiting=1), asyncio.Event()

    async def slow_check() -> bool:
        await release.wait()
        return True

    first, second = (asyncio.create_task(gate.run(slow_check)) for _ in range(2))
    await asyncio.sleep(0)
    # When a third log-in comes while both places are taken, then it is refused with 503
    with pytest.raises(ApiError) as refused:
        await gate.run(slow_check)
    assert (refused.value.status_code, refused.value.code) == (503, "too_many_logins")
    # And the two admitted ones finish, freeing their places for the next
    release.set()
    assert await first and await second
    assert await gate.run(slow_check)
