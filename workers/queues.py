"""The service's queues by name, and their depths and rates from the RabbitMQ management API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from config.settings import Settings
from models.messages import COMMANDS_QUEUE, MAIL_QUEUE, dead_letter_queue, delay_queue
from workers.autoscale import Observation

log = logging.getLogger(__name__)


def queue_names(settings: Settings) -> list[str]:
    """Each work queue, its delay queues (deferred messages waiting to come back), its dead letters."""
    return [name for queue in (COMMANDS_QUEUE, MAIL_QUEUE)
            for name in (queue, *(delay_queue(queue, s) for s in settings.delay_tiers), dead_letter_queue(queue))]


def vhost_of(amqp_url: str) -> str:
    """The vhost an AMQP URL names ('/' when it names none)."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def observation_from(body: dict[str, Any]) -> Observation:
    """Ready, unacknowledged and ack rate out of a management API queue object."""
    stats = body.get("message_stats") or {}
    rate = (stats.get("ack_details") or {}).get("rate", 0.0)
    return Observation(ready=int(body.get("messages_ready") or 0),
                       unacked=int(body.get("messages_unacknowledged") or 0), rate=float(rate))


class QueueProbe:
    """Looks at queues through the management API, quietly tolerating its outages."""

    def __init__(self, settings: Settings) -> None:
        parts = urlsplit(settings.rabbitmq_management_url)
        self.base = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}"))
        self.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        self.vhost = quote(vhost_of(settings.amqp_url), safe="")
        self.client = httpx.AsyncClient(timeout=5, auth=self.auth)
        self.failing = False

    async def queue(self, name: str) -> dict[str, Any] | None:
        """The management API's view of queue `name`: {} when it is not declared yet, None when it is down."""
        try:
            response = await self.client.get(f"{self.base}/api/queues/{self.vhost}/{quote(name, safe='')}")
            if response.status_code == 404:
                # Not declared yet (the workers declare it as they start): nothing is waiting in it.
                log.debug("Queue %s does not exist yet.", name)
                return {}
            response.raise_for_status()
        except httpx.HTTPError as exc:
            if not self.failing:
                log.warning("The RabbitMQ management API at %s did not answer for queue %s (%s); keeping the "
                            "pool sizes until it does. Is the rabbitmq_management plugin enabled?",
                            self.base, name, exc)
            self.failing = True
            return None
        if self.failing:
            log.info("The RabbitMQ management API answers again.")
        self.failing = False
        return response.json()  # type: ignore[no-any-return]

    async def delete(self, name: str) -> None:
        """Delete queue `name` with its messages (nothing to do when it does not exist)."""
        response = await self.client.delete(f"{self.base}/api/queues/{self.vhost}/{quote(name, safe='')}")
        if response.status_code != 404:
            response.raise_for_status()

    async def observe(self, name: str) -> Observation | None:
        body = await self.queue(name)
        return observation_from(body) if body is not None else None

    async def close(self) -> None:
        await self.client.aclose()
