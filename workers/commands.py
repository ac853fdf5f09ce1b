"""The command worker's handler: apply a command, then hand its e-mails and event on."""

from __future__ import annotations

import asyncio
import logging

from config.settings import Settings
from models.entities import ActivationEvent, Outcome
from models.messages import EVENTS_EXCHANGE, MAIL_EXCHANGE, MAIL_ROUTING_KEY, Command, MailJob, to_json
from workers import transitions
from workers.broker import Broker
from workers.consumer import Handler

log = logging.getLogger(__name__)


def event_routing_key(event: ActivationEvent) -> str:
    """`activation.<new status>` for an applied event, `activation.rejected` otherwise."""
    return f"activation.{event.to_status if event.outcome is Outcome.APPLIED else 'rejected'}"


def event_body(event: ActivationEvent) -> bytes:
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


def make_handler(settings: Settings, broker: Broker) -> Handler:
    """Build the handler that applies one command message."""

    async def handle(body: bytes) -> None:
        command = Command.decode(body)
        result = await transitions.process(command, settings.out_of_order_wait)
        # Only after the commit: a crash before these publishes is repaired by the redelivery,
        # which finds the command processed and publishes its still-pending e-mails again.
        await asyncio.gather(
            *(broker.publish(MAIL_EXCHANGE, MAIL_ROUTING_KEY, MailJob(n.id).encode(), str(n.id))
              for n in result.notifications),
            broker.publish(EVENTS_EXCHANGE, event_routing_key(result.event), event_body(result.event),
                           str(result.event.command_id), mandatory=False),
        )

    return handle
