"""One logging configuration for every process."""

from __future__ import annotations

import logging
import sys


def setup(level: str = "INFO", process: str = "") -> None:
    """Log sentences to stderr, one line each, tagged with the process role."""
    tag = f"{process} " if process else ""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)-5s {tag}%(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "tortoise", "asyncio", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
