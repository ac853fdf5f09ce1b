"""One logging configuration for every process."""

from __future__ import annotations

import logging
import sys

from config.settings import Settings, load
from models.errors import ConfigurationError


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


def settings_or_report(process: str) -> Settings | None:
    """This process's settings, or None once it has logged, in one line, why they are unusable."""
    try:
        return load()
    except ConfigurationError as exc:
        setup("INFO", process)
        logging.getLogger(process).error("Cannot start: %s", exc)
        return None
