"""One settings object, read from the environment with safe local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from models.errors import ConfigurationError

DEV_JWT_SECRET = "development-only-secret-change-me-in-production-0123456789"


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the processes need to know, each field named after its variable."""

    app_env: str = "development"
    log_level: str = "INFO"

    database_url: str = "postgres://postgres@127.0.0.1:5432/activations"
    db_pool_size: int = 5
    # The API holds a connection only for a query or two, but for many requests at once.
    api_db_pool_size: int = 20

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    rabbitmq_management_url: str = "http://guest:guest@127.0.0.1:15672"
    publish_timeout: float = 5.0
    publisher_channels: int = 4

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    # Connections the kernel holds for the API before it accepts them. Past it, a new
    # connection's handshake is dropped and the client retries after 1, 3, 7, 15… s: a
    # crowd's connections arriving while the API is busy would wait tens of seconds.
    api_backlog: int = 4096
    public_url: str = ""

    jwt_secret: str = ""
    jwt_access_ttl: int = 1800
    password_time_cost: int = 2
    password_memory_kib: int = 19456
    password_parallelism: int = 1
    # Password checks one API process runs at once, and how many more may wait for a turn;
    # past that a log-in is refused at once (503 too_many_logins).
    login_concurrency: int = 2
    login_queue: int = 32

    worker_min_processes: int = 1
    worker_max_processes: int = 4
    # A command worker applies up to WORKER_BATCH commands in one transaction; it holds up to
    # WORKER_PREFETCH unacknowledged, so the next batch gathers while one is being applied.
    worker_batch: int = 100
    worker_prefetch: int = 200
    notifier_min_processes: int = 1
    notifier_max_processes: int = 2
    # A notifier holds NOTIFIER_PREFETCH mail jobs (each the e-mails of a batch of commands) and
    # sends up to NOTIFIER_BATCH e-mails a transaction, over SMTP_SESSIONS connections.
    notifier_batch: int = 64
    notifier_prefetch: int = 20
    # Seconds a command worker or notifier lets a batch that is not full gather before
    # applying it: fewer, larger transactions on a quiet queue, for that much more latency.
    batch_window: float = 0.05
    scale_poll_interval: float = 2.0
    scale_cooldown: float = 30.0
    scale_backlog_per_worker: int = 200
    scale_drain_target: float = 30.0
    db_connection_budget: int = 60
    status_file: str = "var/supervisor.json"
    delivery_limit: int = 5
    out_of_order_wait: float = 300.0
    retry_delays: str = "2,10,60"
    outbox_relay_after: float = 600.0
    outbox_relay_interval: float = 30.0
    shutdown_grace: float = 30.0
    # Scheduling priority of the worker processes (0 to 19): on a machine shared with the
    # API, a positive value lets answers go first and the backlog wait.
    worker_nice: int = 0

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout: float = 10.0
    smtp_sessions: int = 16
    mail_from: str = "Ativações <nao-responda@ativacoes.local>"

    smtp_sink_host: str = "127.0.0.1"
    smtp_sink_port: int = 1025
    mail_dir: str = "var/mail"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (the process environment by default)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None:
                continue
            kind = type(getattr(cls, f.name))
            try:
                if kind is bool:
                    values[f.name] = _bool(raw)
                elif kind is int:
                    values[f.name] = int(raw)
                elif kind is float:
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError as exc:
                raise ConfigurationError(
                    f"Environment variable {f.name.upper()}={raw!r} is not a valid "
                    f"{kind.__name__}: {exc}. Fix or unset it."
                ) from exc
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that would run insecurely or not at all."""
        if self.app_env == "production" and not self.jwt_secret:
            raise ConfigurationError(
                "JWT_SECRET is not set. In production it has no default: "
                "set it to a random string of at least 32 characters."
            )
        if self.jwt_secret and len(self.jwt_secret) < 32:
            raise ConfigurationError("JWT_SECRET must be at least 32 characters long.")
        try:
            tiers = self.delay_tiers
        except ValueError:
            tiers = ()
        if not tiers or min(tiers) < 1:
            raise ConfigurationError(f"RETRY_DELAYS={self.retry_delays!r} must list whole seconds >= 1, e.g. 2,10,60.")
        if self.api_backlog > 65535:
            raise ConfigurationError(f"API_BACKLOG={self.api_backlog} is more than a socket can queue (65535); "
                                     "the kernel caps it at net.core.somaxconn anyway.")
        if not 0 <= self.batch_window <= 1:
            raise ConfigurationError(f"BATCH_WINDOW={self.batch_window} must be between 0 (no waiting) and 1 second.")
        if not 0 <= self.worker_nice <= 19:
            raise ConfigurationError(f"WORKER_NICE={self.worker_nice} must be between 0 and 19.")
        if self.smtp_tls and self.smtp_starttls:
            raise ConfigurationError("Set SMTP_TLS or SMTP_STARTTLS, not both.")
        for name in ("worker_min_processes", "notifier_min_processes", "worker_prefetch", "worker_batch",
                     "notifier_prefetch", "notifier_batch", "smtp_sessions", "db_pool_size",
                     "api_db_pool_size", "api_backlog", "scale_backlog_per_worker", "login_concurrency"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name.upper()} must be at least 1.")
        for role in ("worker", "notifier"):
            low, high = getattr(self, f"{role}_min_processes"), getattr(self, f"{role}_max_processes")
            if high < low:
                raise ConfigurationError(
                    f"{role.upper()}_MAX_PROCESSES ({high}) is below {role.upper()}_MIN_PROCESSES ({low})."
                )
        peak = (self.worker_max_processes + self.notifier_max_processes) * self.db_pool_size
        if peak > self.db_connection_budget:
            raise ConfigurationError(
                f"At their maximum the worker pools could open {peak} PostgreSQL connections "
                f"((WORKER_MAX_PROCESSES + NOTIFIER_MAX_PROCESSES) x DB_POOL_SIZE), more than "
                f"DB_CONNECTION_BUDGET={self.db_connection_budget}. Lower a maximum or DB_POOL_SIZE, "
                f"or raise the budget if PostgreSQL's max_connections allows it."
            )

    @property
    def delay_tiers(self) -> tuple[int, ...]:
        """RETRY_DELAYS as seconds: the n-th deferral of a message waits the n-th (or last) of them."""
        return tuple(int(part) for part in self.retry_delays.split(","))

    @property
    def secret(self) -> str:
        """The JWT signing secret; the development one only outside production."""
        return self.jwt_secret or DEV_JWT_SECRET

    @property
    def base_url(self) -> str:
        """Where clients reach the API, for links in answers and logs."""
        return self.public_url.rstrip("/") or f"http://{self.api_host}:{self.api_port}"


def load() -> Settings:
    """The settings of this process."""
    return Settings.from_env()
