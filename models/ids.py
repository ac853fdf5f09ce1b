"""Identifiers: time-ordered UUIDs (version 7) so new rows land at the end of indexes."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

# How far ahead of one host's clock another's may run: an id or command dated further in
# the future was not made by this service.
CLOCK_SKEW = 60.0


class _Entropy:
    """The operating system's random bytes, drawn a block at a time.

    One getrandom() call per 400 ids instead of one each (a tenth of the API's time for
    the two ids of a command went there). A forked child starts with an empty block, so
    two processes never hand out the same bits.
    """

    BLOCK = 4000

    def __init__(self) -> None:
        self._pool = bytearray()
        os.register_at_fork(after_in_child=self._pool.clear)

    def take(self, count: int) -> bytes:
        if len(self._pool) < count:
            self._pool += os.urandom(self.BLOCK)
        taken = bytes(self._pool[:count])
        del self._pool[:count]
        return taken


_entropy = _Entropy()


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A RFC 9562 version-7 UUID: 48 bits of Unix milliseconds, then random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(_entropy.take(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def issued_at(value: uuid.UUID) -> datetime | None:
    """When a version-7 UUID was made, or None for any other version."""
    if value.version != 7:
        return None
    try:
        return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):  # a timestamp past year 9999: no id we made
        return None


def parse_uuid(raw: str) -> uuid.UUID | None:
    """The UUID written in `raw`, or None when it is not one."""
    try:
        return uuid.UUID(raw)
    except (ValueError, AttributeError, TypeError):
        return None
