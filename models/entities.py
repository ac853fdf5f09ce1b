"""ORM entities: what PostgreSQL stores, through Tortoise."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.state_machine import CommandType, Status


class Company(Model):
    """A partner company where products are activated."""

    cnpj = fields.CharField(primary_key=True, max_length=14)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "companies"
        ordering = ["name"]


class User(Model):
    """A customer of one company; super-users decide activations."""

    cpf = fields.CharField(primary_key=True, max_length=11)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="users", on_delete=fields.RESTRICT
    )
    company_id: str
    is_superuser = fields.BooleanField(default=False)
    password_hash = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class RefreshToken(Model):
    """A refresh token handed out at a log-in, kept as its SHA-256 so each session refreshes on its own."""

    digest = fields.CharField(primary_key=True, max_length=64)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    user_id: str
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"
        indexes = [("user_id", "created_at")]


class Activation(Model):
    """One request to activate a product at a company, and where it stands."""

    id = fields.UUIDField(primary_key=True)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="activations", on_delete=fields.RESTRICT
    )
    requester_id: str
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="activations", on_delete=fields.RESTRICT
    )
    company_id: str
    status = fields.CharEnumField(Status, max_length=16)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    decided_by_id: str | None
    reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "activations"
        # Lists are newest first, filtered by at most a status, a company and (for customers)
        # a requester: each index gives one filter's rows in that order, so a page is read
        # from the index, never sorted from all matching rows (120,000 pending took 50 ms).
        indexes = [("status", "created_at", "id"), ("requester_id", "created_at", "id"),
                   ("company_id", "created_at", "id")]


class Outcome(StrEnum):
    """Whether a command changed the activation."""

    APPLIED = "applied"
    REJECTED = "rejected"


class ActivationEvent(Model):
    """The history: one row per command a worker processed, applied or rejected.

    `activation_id` is a plain column, not a foreign key, so that a rejected request
    (for which no activation was ever created) still has its history.
    """

    id = fields.BigIntField(primary_key=True)
    activation_id = fields.UUIDField(db_index=True)
    command_id = fields.UUIDField(unique=True)
    command = fields.CharEnumField(CommandType, max_length=16)
    outcome = fields.CharEnumField(Outcome, max_length=16)
    actor_cpf = fields.CharField(max_length=11)
    company_cnpj = fields.CharField(max_length=14, null=True)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16, null=True)
    reason_code = fields.CharField(max_length=32, null=True)
    message = fields.TextField(null=True)
    issued_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "activation_events"
        ordering = ["id"]


class ProcessedCommand(Model):
    """Every command id a worker has processed, so a redelivery has no second effect."""

    command_id = fields.UUIDField(primary_key=True)
    activation_id = fields.UUIDField()
    processed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "processed_commands"


class NotificationKind(StrEnum):
    """Which e-mail: one per applied event."""

    RECEIVED = "received"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class NotificationStatus(StrEnum):
    """Where one e-mail stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Model):
    """One e-mail to send, written in the same transaction as the event that causes it."""

    id = fields.UUIDField(primary_key=True)
    event: fields.ForeignKeyRelation[ActivationEvent] = fields.ForeignKeyField(
        "models.ActivationEvent", related_name="notifications", on_delete=fields.RESTRICT
    )
    event_id: int
    activation: fields.ForeignKeyRelation[Activation] = fields.ForeignKeyField(
        "models.Activation", related_name="notifications", on_delete=fields.RESTRICT
    )
    activation_id: str
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.RESTRICT
    )
    recipient_id: str
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    status = fields.CharEnumField(NotificationStatus, max_length=16, default=NotificationStatus.PENDING)
    attempts = fields.IntField(default=0)
    message_id = fields.CharField(max_length=255, null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # Last send attempt or relay of its job; the outbox relay re-queues jobs quiet for too long.
    last_attempt_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        indexes = [("status", "created_at")]


class IdempotencyKey(Model):
    """The answer given to a command sent with an Idempotency-Key, to give it again on a retry.

    `status` is null while the first attempt is still being answered.
    """

    id = fields.BigIntField(primary_key=True)
    cpf = fields.CharField(max_length=11)
    key = fields.CharField(max_length=200)
    fingerprint = fields.CharField(max_length=64)
    status = fields.IntField(null=True)
    body: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("cpf", "key"),)
