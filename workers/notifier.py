"""The notifier's handler: turn one mail job into one sent e-mail, recorded in its notification."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from email.errors import MessageError
from email.utils import parseaddr
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from config.settings import Settings
from models.entities import Notification, NotificationKind, NotificationStatus
from models.errors import PermanentError
from models.messages import MailJob
from workers.consumer import Handler
from workers.database import transient_db_errors
from workers.mail import MailContext, Mailer, MailRejected, MailUnavailable, render

log = logging.getLogger(__name__)

LAST_ERROR_LIMIT = 2000


class UnknownNotification(PermanentError):
    """A mail job points at a notification that does not exist."""


def make_handler(settings: Settings) -> Handler:
    """The handler of the mail queue: send each job's e-mail, at most once per notification."""
    domain = sender_domain(settings.mail_from)
    mailer = Mailer(settings, sessions=settings.notifier_prefetch)
    # E-mails the SMTP server took whose "sent" the database did not (it went away between
    # the two): a retry in this process records them instead of sending them again.
    unrecorded: dict[uuid.UUID, str] = {}

    async def handle(body: bytes) -> None:
        job = MailJob.decode(body)
        notification_id = job.notification_id
        with transient_db_errors():
            try:
                await _deliver(notification_id, settings, domain, mailer, unrecorded)
            except MailRejected as exc:
                # The transaction rolled back with the send; record the failure on its own.
                await _record_failure(notification_id, exc, give_up=True)
                log.error("Notification %s can never be sent and is marked failed: %s", notification_id, exc)
                raise
            except MailUnavailable as exc:
                await _record_failure(notification_id, exc, give_up=False)
                log.warning("Notification %s is still pending; it will be retried: %s", notification_id, exc)
                raise

    return handle


# Everything the e-mail says, in one round trip, with the notification's row locked: a second
# notifier holding the same job waits here, then sees it sent.
_LOCK_AND_READ = """
SELECT n.status, n.kind, u.name AS recipient_name, u.email AS recipient_email,
       c.name AS company_name, c.cnpj AS company_cnpj, a.id AS activation_id, a.reason,
       e.created_at AS happened_at
FROM notifications n
JOIN users u ON u.cpf = n.recipient_id
JOIN activations a ON a.id = n.activation_id
JOIN companies c ON c.cnpj = a.company_id
JOIN activation_events e ON e.id = n.event_id
WHERE n.id = $1
FOR UPDATE OF n
"""

_MARK_SENT = """
UPDATE notifications
SET status = 'sent', message_id = $2, sent_at = $3, last_attempt_at = $3, attempts = attempts + 1
WHERE id = $1
"""


async def _deliver(notification_id: uuid.UUID, settings: Settings, domain: str, mailer: Mailer,
                   unrecorded: dict[uuid.UUID, str]) -> None:
    """Send the notification's e-mail unless it went already, and mark it sent."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_LOCK_AND_READ, [notification_id])
        if not rows:
            raise UnknownNotification(f"Notification {notification_id} does not exist; its mail job is void.")
        if rows[0]["status"] == NotificationStatus.SENT:
            unrecorded.pop(notification_id, None)
            log.info("Notification %s was already sent; skipping the duplicate job.", notification_id)
            return

        ctx = mail_context(rows[0])
        # One Message-ID per notification, not per attempt: if SMTP's own gap (sent, then we died
        # before recording it) ever sends it twice, receivers can tell it is the same e-mail.
        message_id = f"<{notification_id}@{domain}>"
        if notification_id in unrecorded:
            log.info("Notification %s went out before the database failed; recording it, not sending it again.",
                     notification_id)
        else:
            try:
                message = render(ctx, settings.mail_from, message_id)
            except (ValueError, MessageError) as exc:
                raise MailRejected(f"Cannot write an e-mail to {ctx.recipient_email!r}: {exc}") from exc
            await mailer.send(message)
            unrecorded[notification_id] = message_id
        await conn.execute_query(_MARK_SENT, [notification_id, message_id, datetime.now(UTC)])
    unrecorded.pop(notification_id, None)
    log.info(
        "Sent the %s e-mail of activation %s to %s (notification %s, Message-ID %s).",
        ctx.kind, ctx.activation_id, ctx.recipient_email, notification_id, message_id,
    )


def mail_context(row: dict[str, Any]) -> MailContext:
    """What the e-mail says, from the row `_LOCK_AND_READ` returns."""
    kind = NotificationKind(row["kind"])
    return MailContext(
        recipient_name=row["recipient_name"],
        recipient_email=row["recipient_email"],
        company_name=row["company_name"],
        company_cnpj=row["company_cnpj"],
        activation_id=str(row["activation_id"]),
        kind=kind,
        happened_at=_aware(row["happened_at"]),
        reason=row["reason"] if kind is NotificationKind.REFUSED else None,
    )


async def _record_failure(notification_id: uuid.UUID, exc: Exception, *, give_up: bool) -> None:
    """Count a failed attempt and keep its error; `give_up` also marks the notification failed."""
    changes: dict[str, object] = {
        "attempts": F("attempts") + 1,
        "last_error": str(exc)[:LAST_ERROR_LIMIT],
        "last_attempt_at": datetime.now(UTC),
    }
    if give_up:
        changes["status"] = NotificationStatus.FAILED
    # Never downgrade a notification that another notifier managed to send meanwhile.
    await Notification.filter(id=notification_id).exclude(status=NotificationStatus.SENT).update(**changes)


def sender_domain(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs (without a DNS lookup)."""
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def _aware(moment: datetime) -> datetime:
    """`moment` with a timezone; the database stores UTC (Tortoise `timezone` is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
