"""The command worker's handler: apply a batch of commands, then hand their e-mails and events on."""

from __future__ import annotations

import asyncio
import logging
import uuid

from config.settings import Settings
from models.entities import Outcome
from models.errors import InvalidMessage
from models.messages import EVENTS_EXCHANGE, MAIL_EXCHANGE, MAIL_ROUTING_KEY, Command, MailJob, to_json
from workers import transitions
from workers.broker import Broker
from workers.consumer import BatchHandler, Outcomes, outcomes_of
from workers.transitions import Event, Processed

log = logging.getLogger(__name__)


def event_routing_key(event: Event) -> str:
    """`activation.<new status>` for an applied event, `activation.rejected` otherwise."""
    return f"activation.{event.to_status if event.outcome is Outcome.APPLIED else 'rejected'}"


def event_body(event: Event) -> bytes:
    """The event as other services receive it on the events exchange."""
    return to_json({
        "v": 1,
        "activation_id": event.activation_id,
        "command_id": event.command_id,
        "command": event.command,
        "outcome": event.outcome,
        "actor_cpf": event.actor_cpf,
        "company_cnpj": event.company_cnpj,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason_code": event.reason_code,
        "message": event.message,
        "at": event.created_at,
    })


def make_handler(settings: Settings, broker: Broker) -> BatchHandler:
    """Build the handler that applies a batch of command messages."""

    async def publish_event(result: Processed) -> None:
        await broker.publish(EVENTS_EXCHANGE, event_routing_key(result.event), event_body(result.event),
                             str(result.event.command_id), mandatory=False)

    async def publish_mail(notification_ids: list[uuid.UUID]) -> None:
        # One job for the whole batch's e-mails: one message through the mail queue, not one each.
        await asyncio.gather(*(broker.publish(MAIL_EXCHANGE, MAIL_ROUTING_KEY, job.encode(), job.message_id)
                               for job in MailJob.chunks(notification_ids, settings.worker_batch)))

    async def handle(bodies: list[bytes]) -> Outcomes:
        outcomes: Outcomes = [None] * len(bodies)
        commands: list[tuple[int, Command]] = []
        for i, body in enumerate(bodies):
            try:
                commands.append((i, Command.decode(body)))
            except InvalidMessage as exc:
                outcomes[i] = exc
        # The same command twice in one batch (a redelivery beside the original): the copies
        # go in a batch of their own after it, where they find it processed.
        while commands:
            batch: list[tuple[int, Command]] = []
            later: list[tuple[int, Command]] = []
            seen: set[uuid.UUID] = set()
            for i, command in commands:
                (later if command.id in seen else batch).append((i, command))
                seen.add(command.id)
            commands = later
            results = await transitions.process_batch([c for _, c in batch], settings.out_of_order_wait)
            for (i, _), result in zip(batch, results, strict=True):
                outcomes[i] = result if isinstance(result, Exception) else None
            # Only after the commit: a crash before these publishes is repaired by the redelivery,
            # which finds the command processed and publishes its still-pending e-mails again.
            done = [(i, r) for (i, _), r in zip(batch, results, strict=True) if isinstance(r, Processed)]
            mail = [n for _, r in done for n in r.notifications]
            published = outcomes_of(await asyncio.gather(
                publish_mail(mail), *(publish_event(r) for _, r in done), return_exceptions=True))
            mail_failure, event_failures = published[0], published[1:]
            for (i, result), failure in zip(done, event_failures, strict=True):
                outcomes[i] = failure or (mail_failure if result.notifications else None)
        return outcomes

    return handle
