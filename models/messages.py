"""What travels through RabbitMQ: command and mail-job schemas, and their names there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from models.errors import InvalidMessage
from models.state_machine import CommandType

SCHEMA_VERSION = 1

COMMANDS_EXCHANGE = "activations.commands"
COMMANDS_QUEUE = "activations.commands"
EVENTS_EXCHANGE = "activations.events"
MAIL_EXCHANGE = "activations.mail"
MAIL_QUEUE = "activations.mail"
MAIL_ROUTING_KEY = "mail"
DEAD_LETTER_EXCHANGE = "activations.dead"


def to_json(value: Any) -> bytes:
    """JSON bytes for API answers and messages; ids and times as strings (ISO-8601 with offset)."""
    return orjson.dumps(value, default=str)


def dead_letter_queue(queue: str) -> str:
    """The queue where messages that `queue` could never process end up."""
    return f"{queue}.dead"


def delay_queue(queue: str, seconds: int) -> str:
    """The queue where messages of `queue` wait `seconds` before going back to it."""
    return f"{queue}.delay.{seconds}s"


def delay_for(deferrals: int, tiers: tuple[int, ...]) -> int:
    """How long the message's next wait is, after it was deferred `deferrals` times already.

    One delay queue per tier: with a per-message TTL in a single queue, short waits would
    be stuck behind long ones (a queue only expires messages at its head).
    """
    return tiers[min(max(deferrals, 0), len(tiers) - 1)]


@dataclass(frozen=True)
class Command:
    """One user command, as published by the API and applied by a worker."""

    id: uuid.UUID
    type: CommandType
    activation_id: uuid.UUID
    actor_cpf: str
    issued_at: datetime
    company_cnpj: str | None = None
    reason: str | None = None

    def encode(self) -> bytes:
        # Field by field: dataclasses.asdict deep-copies, a tenth of the API's time per command.
        return to_json({"v": SCHEMA_VERSION, "id": self.id, "type": self.type, "activation_id": self.activation_id,
                        "actor_cpf": self.actor_cpf, "issued_at": self.issued_at,
                        "company_cnpj": self.company_cnpj, "reason": self.reason})

    @classmethod
    def decode(cls, body: bytes) -> Command:
        data = _load(body)
        try:
            command = cls(
                id=uuid.UUID(data["id"]),
                type=CommandType(data["type"]),
                activation_id=uuid.UUID(data["activation_id"]),
                actor_cpf=_str(data["actor_cpf"]),
                issued_at=datetime.fromisoformat(data["issued_at"]),
                company_cnpj=_opt_str(data.get("company_cnpj")),
                reason=_opt_str(data.get("reason")),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidMessage(f"Command body does not match schema v{SCHEMA_VERSION}: {exc!r}") from exc
        if command.issued_at.utcoffset() is None:
            raise InvalidMessage("issued_at must carry its UTC offset (ISO-8601, e.g. 2026-12-03T14:05:00+00:00).")
        if command.type is CommandType.REQUEST and not command.company_cnpj:
            raise InvalidMessage("A request command needs company_cnpj.")
        if not _digits(command.actor_cpf, 11):
            raise InvalidMessage("actor_cpf must be a CPF: 11 digits.")
        if command.company_cnpj is not None and not _digits(command.company_cnpj, 14):
            raise InvalidMessage("company_cnpj must be a CNPJ: 14 digits.")
        return command


@dataclass(frozen=True)
class MailJob:
    """E-mails to send: pointers to their notification rows, which hold the rest.

    A command worker sends one job for all the e-mails of a batch of commands, so the mail
    queue carries one message per batch rather than one per e-mail. A job of schema v1
    with a single `notification_id` (as earlier versions wrote) still reads.
    """

    notification_ids: tuple[uuid.UUID, ...]

    def encode(self) -> bytes:
        return to_json({"v": SCHEMA_VERSION, "notification_ids": [str(i) for i in self.notification_ids]})

    @classmethod
    def decode(cls, body: bytes) -> MailJob:
        data = _load(body)
        try:
            raw = data["notification_ids"] if "notification_ids" in data else [data["notification_id"]]
            if not isinstance(raw, list) or not raw:
                raise ValueError("notification_ids must be a non-empty list")
            return cls(notification_ids=tuple(uuid.UUID(_str(value)) for value in raw))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidMessage(f"Mail job does not match schema v{SCHEMA_VERSION}: {exc!r}") from exc

    @property
    def message_id(self) -> str:
        """The notification's id for a job of one (so its dead letter is found by it), else a new id."""
        return str(self.notification_ids[0]) if len(self.notification_ids) == 1 else str(uuid.uuid4())

    @classmethod
    def chunks(cls, notification_ids: list[uuid.UUID], size: int) -> list[MailJob]:
        """Jobs of at most `size` notifications each, for `notification_ids`."""
        return [cls(tuple(notification_ids[start:start + size])) for start in range(0, len(notification_ids), size)]


def _load(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"Body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidMessage("Body is not a JSON object.")
    if data.get("v") != SCHEMA_VERSION:
        raise InvalidMessage(f"Unsupported schema version {data.get('v')!r}; expected {SCHEMA_VERSION}.")
    return data


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        raise ValueError("a string may not contain the NUL character")
    return value


def _digits(value: str, count: int) -> bool:
    return len(value) == count and value.isascii() and value.isdigit()


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)
