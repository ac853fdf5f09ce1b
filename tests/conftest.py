"""Fixtures shared by every test that needs the running service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from loadtest.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Settings.from_env(), Path(tmp_path_factory.mktemp("stack")))
    try:
        running.start()
    except Exception:
        running.stop()
        raise
    yield running
    running.stop()
