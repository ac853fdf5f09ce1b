"""The notifier's handler: turn one mail job into one sent e-mail, recorded in its notification."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from email.errors import MessageError
from email.utils import parseaddr

from tortoise.backends.base.client import BaseDBAsyncClient
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

# Errors that mean PostgreSQL is down, restarting or unreachable, not that the job is bad.

LAST_ERROR_LIMIT = 2000


class UnknownNotification(PermanentError):
    """A mail job points at a notification that does not exist."""


def make_handler(settings: Settings) -> Handler:
    """The handler of the mail queue: send each job's e-mail, at most once per notification."""
    domain = sender_domain(settings.mail_from)
    mailer = Mailer(settings, sessions=settings.notifier_prefetch)

    async def handle(body: bytes) -> None:
        job = MailJob.decode(body)
        notification_id = job.notification_id
        with transient_db_errors():
            try:
                await _deliver(notification_id, settings, domain, mailer)
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


async def _deliver(notification_id: uuid.UUID, settings: Settings, domain: str, mailer: Mailer) -> None:
    """Send the notification's e-mail unless it went already, and mark it sent."""
    async with in_transaction() as conn:
        # The row lock makes a second notifier holding the same job wait, then see SENT.
        notification = await (
            Notification.filter(id=notification_id).select_for_update().using_db(conn).get_or_none()
        )
        if notification is None:
            raise UnknownNotification(f"Notification {notification_id} does not exist; its mail job is void.")
        if notification.status == NotificationStatus.SENT:
            log.info("Notification %s was already sent; skipping the duplicate job.", notification_id)
            return

        ctx = await _context(notification, conn)
        # One Message-ID per notification, not per attempt: if SMTP's own gap (sent, then we died
        # before recording it) ever sends it twice, receivers can tell it is the same e-mail.
        message_id = f"<{notification.id}@{domain}>"
        try:
            message = render(ctx, settings.mail_from, message_id)
        except (ValueError, MessageError) as exc:
            raise MailRejected(f"Cannot write an e-mail to {ctx.recipient_email!r}: {exc}") from exc
        await mailer.send(message)

        notification.status = NotificationStatus.SENT
        notification.message_id = message_id
        notification.sent_at = notification.last_attempt_at = datetime.now(UTC)
        notification.attempts += 1
        await notification.save(
            using_db=conn, update_fields=["status", "message_id", "sent_at", "last_attempt_at", "attempts"]
        )
    log.info(
        "Sent the %s e-mail of activation %s to %s (notification %s, Message-ID %s).",
        ctx.kind, ctx.activation_id, ctx.recipient_email, notification_id, message_id,
    )


async def _context(notification: Notification, conn: BaseDBAsyncClient) -> MailContext:
    """What the e-mail of `notification` says, read in the caller's transaction."""
    await notification.fetch_related("recipient", "activation__company", "event", using_db=conn)
    recipient = notification.recipient
    activation = notification.activation
    company = activation.company
    kind = NotificationKind(notification.kind)
    return MailContext(
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        company_name=company.name,
        company_cnpj=company.cnpj,
        activation_id=str(activation.id),
        kind=kind,
        happened_at=_aware(notification.event.created_at),
        reason=activation.reason if kind is NotificationKind.REFUSED else None,
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
