"""The notifier's handler: turn a batch of mail jobs into sent e-mails, recorded in their notifications."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from email.errors import MessageError
from email.utils import parseaddr
from typing import Any

from config.settings import Settings
from models import db
from models.entities import NotificationKind, NotificationStatus
from models.errors import InvalidMessage, PermanentError, TransientError
from models.messages import MailJob
from workers.consumer import BatchHandler, Outcomes
from workers.database import transient_db_errors
from workers.mail import MailContext, Mailer, MailRejected, MailUnavailable, render

log = logging.getLogger(__name__)

LAST_ERROR_LIMIT = 2000

# E-mails go out NOTIFIER_BATCH per transaction, and are recorded as sent when it commits.
# Two transactions at a time: one sending while the next locks and reads its rows, so the
# SMTP sessions stay busy while the e-mails sent but not yet recorded (those a killed
# notifier may send again) stay at most two batches.
LANES = 2


class UnknownNotification(PermanentError):
    """A mail job points at a notification that does not exist."""


def job_outcome(notification_ids: tuple[uuid.UUID, ...], failures: dict[uuid.UUID, Exception]) -> Exception | None:
    """What becomes of a job from what became of its notifications.

    Done when every one was sent (or had been). Otherwise the most hopeful failure wins: an
    unexpected one returns the job to the queue, an unavailable server defers it; only when
    the rest can never be sent does the job go to the dead-letter queue. Whenever it comes
    back, the notifications sent meanwhile are skipped.
    """
    failed = [(n, failures[n]) for n in notification_ids if n in failures]
    if not failed:
        return None
    unexpected = [exc for _, exc in failed if not isinstance(exc, PermanentError | TransientError)]
    transient = [exc for _, exc in failed if isinstance(exc, TransientError)]
    if unexpected or transient:
        return (unexpected or transient)[0]
    if len(notification_ids) == 1:
        return failed[0][1]
    listed = "; ".join(f"{n}: {exc}" for n, exc in failed[:5])
    others = " (the others were sent)" if len(failed) < len(notification_ids) else ""
    return PermanentError(f"{len(failed)} of the job's {len(notification_ids)} e-mails can never be sent{others}: "
                          f"{listed}{' …' if len(failed) > 5 else ''}")


# Everything the e-mails say, in one round trip, with the notifications' rows locked: a second
# notifier holding the same job waits here, then sees it sent.
_LOCK_AND_READ = """
SELECT n.id, n.status, n.kind, u.name AS recipient_name, u.email AS recipient_email,
       c.name AS company_name, c.cnpj AS company_cnpj, a.id AS activation_id, a.reason,
       e.created_at AS happened_at
FROM notifications n
JOIN users u ON u.cpf = n.recipient_id
JOIN activations a ON a.id = n.activation_id
JOIN companies c ON c.cnpj = a.company_id
JOIN activation_events e ON e.id = n.event_id
WHERE n.id = ANY($1::uuid[])
ORDER BY n.id
FOR UPDATE OF n
"""

_MARK_SENT = """
UPDATE notifications n
SET status = 'sent', message_id = v.message_id, sent_at = $3, last_attempt_at = $3, attempts = attempts + 1
FROM unnest($1::uuid[], $2::text[]) AS v(id, message_id)
WHERE n.id = v.id
"""

# Never downgrades a notification that another notifier managed to send meanwhile.
_RECORD_FAILURES = """
UPDATE notifications n
SET attempts = attempts + 1, last_error = v.error, last_attempt_at = $4,
    status = CASE WHEN v.give_up THEN 'failed' ELSE n.status END
FROM unnest($1::uuid[], $2::text[], $3::bool[]) AS v(id, error, give_up)
WHERE n.id = v.id AND n.status <> 'sent'
"""


def make_handler(settings: Settings) -> BatchHandler:
    """The handler of the mail queue: send each job's e-mails, at most once per notification."""
    return Notifier(settings).handle


class Notifier:
    """Sends the e-mails of mail jobs over kept-open SMTP sessions, and records each in its notification."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.domain = sender_domain(settings.mail_from)
        self.mailer = Mailer(settings, sessions=settings.smtp_sessions)
        # E-mails the SMTP server took whose "sent" the database did not (it went away between
        # the two): a retry in this process records them instead of sending them again.
        self.unrecorded: dict[uuid.UUID, str] = {}
        self.lanes = asyncio.Semaphore(LANES)

    async def handle(self, bodies: list[bytes]) -> Outcomes:
        outcomes: Outcomes = [None] * len(bodies)
        jobs: dict[int, tuple[uuid.UUID, ...]] = {}
        for i, body in enumerate(bodies):
            try:
                jobs[i] = MailJob.decode(body).notification_ids
            except InvalidMessage as exc:
                outcomes[i] = exc
        wanted = sorted({n for ids in jobs.values() for n in ids})
        size = self.settings.notifier_batch
        chunks = [wanted[start:start + size] for start in range(0, len(wanted), size)]
        results = await asyncio.gather(*(self._deliver_in_lane(chunk) for chunk in chunks), return_exceptions=True)
        failures: dict[uuid.UUID, Exception] = {}
        for result in results:
            if isinstance(result, BaseException):
                raise result  # nothing of that chunk was recorded: the jobs come back, and what went is skipped
            failures.update(result)
        for i, ids in jobs.items():
            outcomes[i] = job_outcome(ids, failures)
        return outcomes

    async def _deliver_in_lane(self, notification_ids: list[uuid.UUID]) -> dict[uuid.UUID, Exception]:
        async with self.lanes:
            with transient_db_errors():
                return await self.deliver(notification_ids)

    async def deliver(self, notification_ids: list[uuid.UUID]) -> dict[uuid.UUID, Exception]:
        """Send the e-mails of the notifications not sent yet, and record each one's fate.

        Returns what stopped the ones that did not go: MailRejected (marked failed),
        MailUnavailable (still pending, for a later try), UnknownNotification.
        """
        failures: dict[uuid.UUID, Exception] = {}
        async with db.transaction() as conn:
            rows = {row["id"]: row for row in await conn.execute_query_dict(_LOCK_AND_READ, [notification_ids])}
            due: list[tuple[uuid.UUID, MailContext]] = []
            already = 0
            for notification_id in notification_ids:
                row = rows.get(notification_id)
                if row is None:
                    failures[notification_id] = UnknownNotification(
                        f"Notification {notification_id} does not exist; its mail job is void.")
                elif row["status"] == NotificationStatus.SENT:
                    self.unrecorded.pop(notification_id, None)
                    already += 1
                    log.info("Notification %s was already sent; skipping the duplicate job.", notification_id)
                else:
                    due.append((notification_id, mail_context(row)))
            results = await asyncio.gather(*(self.send(i, ctx) for i, ctx in due), return_exceptions=True)
            sent: list[tuple[uuid.UUID, str, MailContext]] = []
            for (notification_id, ctx), result in zip(due, results, strict=True):
                if isinstance(result, str):
                    sent.append((notification_id, result, ctx))
                elif isinstance(result, Exception):
                    failures[notification_id] = result
                else:
                    raise result
            now = datetime.now(UTC)
            if sent:
                await conn.execute_query(_MARK_SENT, [[i for i, _, _ in sent], [m for _, m, _ in sent], now])
            failed = [(i, exc) for i, exc in failures.items() if isinstance(exc, MailRejected | MailUnavailable)]
            if failed:
                await conn.execute_query(_RECORD_FAILURES, [
                    [i for i, _ in failed], [str(exc)[:LAST_ERROR_LIMIT] for _, exc in failed],
                    [isinstance(exc, MailRejected) for _, exc in failed], now])
        for notification_id, message_id, ctx in sent:
            self.unrecorded.pop(notification_id, None)
            log.debug("Sent the %s e-mail of activation %s to %s (notification %s, Message-ID %s).",
                      ctx.kind, ctx.activation_id, ctx.recipient_email, notification_id, message_id)
        if sent:
            # One line a batch: each e-mail's Message-ID and time are in its notification's row.
            log.info("Sent %d e-mail(s) of %d notification(s) in one transaction (%d already sent, %d not sent).",
                     len(sent), len(notification_ids), already, len(failures))
        for notification_id, exc in failed:
            if isinstance(exc, MailRejected):
                log.error("Notification %s can never be sent and is marked failed: %s", notification_id, exc)
            else:
                log.warning("Notification %s is still pending; it will be retried: %s", notification_id, exc)
        return failures

    async def send(self, notification_id: uuid.UUID, ctx: MailContext) -> str:
        """Hand the notification's e-mail to the SMTP server unless it went already; its Message-ID."""
        # One Message-ID per notification, not per attempt: if SMTP's own gap (sent, then we died
        # before recording it) ever sends it twice, receivers can tell it is the same e-mail.
        message_id = f"<{notification_id}@{self.domain}>"
        if notification_id in self.unrecorded:
            log.info("Notification %s went out before the database failed; recording it, not sending it again.",
                     notification_id)
            return message_id
        try:
            email = render(ctx, self.settings.mail_from, message_id)
        except (ValueError, MessageError) as exc:
            raise MailRejected(f"Cannot write an e-mail to {ctx.recipient_email!r}: {exc}") from exc
        await self.mailer.send(email)
        self.unrecorded[notification_id] = message_id
        return message_id


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


def sender_domain(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs (without a DNS lookup)."""
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def _aware(moment: datetime) -> datetime:
    """`moment` with a timezone; the database stores UTC (Tortoise `timezone` is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
