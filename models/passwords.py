"""Password hashing with argon2id, tuned by the settings."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.settings import Settings


def hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher every process uses, with the costs from `settings`."""
    return PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_kib,
        parallelism=settings.password_parallelism,
    )


def hash_password(h: PasswordHasher, password: str) -> str:
    """The encoded argon2id hash (salt and parameters included) to store for `password`."""
    return h.hash(password)


def verify_password(h: PasswordHasher, password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; False, never an exception, when it does not."""
    try:
        return h.verify(password_hash, password)
    # A corrupt or empty stored hash is a failed login, not a server error.
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(h: PasswordHasher, password_hash: str, password: str) -> bool:
    """`verify_password` on the default thread pool, so its ~40 ms of CPU never blocks the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(verify_password, h, password_hash, password))
