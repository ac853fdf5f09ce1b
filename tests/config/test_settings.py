"""Settings come from the environment, with safe local defaults and no production secrets."""

from __future__ import annotations

import pytest

from config.settings import DEV_JWT_SECRET, Settings
from models.errors import ConfigurationError


def test_defaults_work_on_a_laptop() -> None:
    settings = Settings.from_env({})
    assert settings.api_port == 8000
    assert settings.secret == DEV_JWT_SECRET


def test_variables_are_parsed_to_their_field_types() -> None:
    settings = Settings.from_env({"API_PORT": "9001", "SMTP_STARTTLS": "yes", "PUBLISH_TIMEOUT": "2.5"})
    assert (settings.api_port, settings.smtp_starttls, settings.publish_timeout) == (9001, True, 2.5)


def test_a_bad_number_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="API_PORT"):
        Settings.from_env({"API_PORT": "eighty"})


def test_production_has_no_default_jwt_secret() -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        Settings.from_env({"APP_ENV": "production"})
    assert Settings.from_env({"APP_ENV": "production", "JWT_SECRET": "x" * 40}).secret == "x" * 40


def test_tls_and_starttls_are_exclusive() -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env({"SMTP_TLS": "1", "SMTP_STARTTLS": "1"})


@pytest.mark.parametrize("value", ["-1", "20"])
def test_a_worker_priority_outside_what_nice_allows_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="WORKER_NICE"):
        Settings.from_env({"WORKER_NICE": value})


@pytest.mark.parametrize("value", ["0", "65536"])
def test_an_api_backlog_no_socket_can_have_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match="API_BACKLOG"):
        Settings.from_env({"API_BACKLOG": value})
