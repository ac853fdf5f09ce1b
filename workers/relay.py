"""The outbox relay: re-queue the mail job of any notification left pending and quiet too long.

Notification rows are written in the same transaction as the event that causes them; the
command worker publishes their mail jobs right after the commit. If that publish never
happened (a crash, a broker outage that outlasted every retry), the row is still there,
pending, and this loop, running in every notifier process, publishes its job again.
A duplicate job is harmless: the notifier sends a notification only while it is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from tortoise import Tortoise

from config.settings import Settings
from models.errors import TransientError
from models.messages import MAIL_EXCHANGE, MAIL_QUEUE, MAIL_ROUTING_KEY, MailJob
from workers.broker import Broker
from workers.database import transient_db_errors

log = logging.getLogger(__name__)

BATCH = 500
JOB_SIZE = 100  # notifications per mail job

# Claim a batch: SKIP LOCKED so several notifiers share the work without waiting on each other,
# and stamping last_attempt_at so the same rows are not claimed again before `after` seconds.
_CLAIM = """
UPDATE notifications SET last_attempt_at = now()
WHERE id IN (
    SELECT id FROM notifications
    WHERE status = 'pending' AND coalesce(last_attempt_at, created_at) < now() - make_interval(secs => $1)
    ORDER BY created_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
RETURNING id
"""


async def relay_once(broker: Broker, after: float) -> int:
    """Publish the jobs of pending notifications quiet for `after` seconds; return how many.

    Only while the mail queue is empty: during a backlog a quiet notification's job is most
    likely still waiting its turn, and relaying it would only pile duplicates on the backlog.
    """
    if await broker.queue_depth(MAIL_QUEUE) > 0:
        return 0
    with transient_db_errors():
        rows = await Tortoise.get_connection("default").execute_query_dict(_CLAIM, [after, BATCH])
    for job in MailJob.chunks([uuid.UUID(str(row["id"])) for row in rows], JOB_SIZE):
        await broker.publish(MAIL_EXCHANGE, MAIL_ROUTING_KEY, job.encode(), job.message_id)
    if rows:
        log.warning("Relayed the mail jobs of %d notification(s) pending for over %.0f s without an attempt.",
                    len(rows), after)
    return len(rows)


async def run(settings: Settings, broker: Broker, stop: asyncio.Event) -> None:
    """Relay every `outbox_relay_interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await relay_once(broker, settings.outbox_relay_after)
        except TransientError as exc:
            log.warning("The outbox relay could not run (%s); it tries again in %.0f s.", exc,
                        settings.outbox_relay_interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.outbox_relay_interval)
