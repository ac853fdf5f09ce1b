"""Which component a process's CPU is counted in during a benchmark."""

from __future__ import annotations

import pytest

from loadtest.cpu import component, per_unit_ms


@pytest.mark.parametrize(("cmdline", "expected"), [
    ("/srv/.venv/bin/python -m web", "API"),
    ("/srv/.venv/bin/python -m workers run command", "command workers"),
    ("/srv/.venv/bin/python -m workers run notifier", "notifier"),
    ("/srv/.venv/bin/python -m workers smtp-sink", "SMTP sink"),
    ("/srv/.venv/bin/python -m workers pool", "supervisor"),
    ("/srv/.venv/bin/python -m loadtest.ceiling_api --port 4000", "ceiling API"),
    ("/srv/.venv/bin/python -m loadtest.ceiling_worker --queue q", "ceiling worker"),
    ("/usr/lib/erlang/erts-13.1.5/bin/beam.smp -W w -- -root /usr/lib/erlang", "RabbitMQ"),
    ("postgres: 15/main: postgres activations_test_abc 127.0.0.1(4242) idle", "PostgreSQL"),
    ("postgres: 15/main: postgres activations 127.0.0.1(4243) idle", None),
    ("postgres: 15/main: checkpointer", None),
    ("/usr/bin/python3 -m http.server", None),
])
def test_each_process_is_counted_in_its_component(cmdline: str, expected: str | None) -> None:
    assert component(cmdline, "activations_test_abc") == expected


def test_cpu_per_unit_is_in_milliseconds_with_a_total() -> None:
    assert per_unit_ms({"API": 1.0, "RabbitMQ": 0.5}, 1000) == {"API": 1.0, "RabbitMQ": 0.5, "total": 1.5}
