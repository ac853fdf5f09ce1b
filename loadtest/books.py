"""Balancing the books after a load: every accepted command and every e-mail, accounted for.

Used by `make chaos` and `make loadtest`. Reads the database and the SMTP sink's folder;
pure counting lives in `Books`, so the rules are easy to read and to test.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

import asyncpg

UUID_IN_MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Activations whose state contradicts their own history or the rules.
IMPOSSIBLE_STATES = {
    "status differs from the last applied event": """
        SELECT count(*) FROM activations a
        WHERE a.status <> (SELECT e.to_status FROM activation_events e
                           WHERE e.activation_id = a.id AND e.outcome = 'applied' ORDER BY e.id DESC LIMIT 1)""",
    "decided without a decider, or a decider without a decision": """
        SELECT count(*) FROM activations
        WHERE (status IN ('approved', 'refused')) <> (decided_by_id IS NOT NULL)""",
    "more than one pending activation per customer and company": """
        SELECT count(*) FROM (SELECT 1 FROM activations WHERE status = 'pending'
                              GROUP BY requester_id, company_id HAVING count(*) > 1) AS twice""",
    "applied events that do not fit the state machine": """
        SELECT count(*) FROM activations a
        WHERE (SELECT count(*) FROM activation_events e WHERE e.activation_id = a.id AND e.outcome = 'applied')
              <> CASE WHEN a.status = 'pending' THEN 1 ELSE 2 END""",
}


@dataclass
class Books:
    """The counts, and what follows from them."""

    accepted: int
    events: int
    commands_with_event: int
    applied: int
    notifications: int
    sent: int
    failed: int
    delivered: int
    mail_duplicates: int
    impossible: dict[str, int]

    @property
    def lost(self) -> int:
        """Accepted commands without an event, plus applied events whose e-mail never arrived."""
        commands = self.accepted - self.commands_with_event
        notifications = self.applied - self.notifications
        mails = self.notifications - self.failed - self.delivered
        return commands + notifications + mails

    @property
    def duplicated(self) -> int:
        """Commands with more than one event, plus e-mails delivered more than once."""
        return (self.events - self.commands_with_event) + self.mail_duplicates

    @property
    def balanced(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not any(self.impossible.values())

    def lines(self) -> list[str]:
        out = [
            f"commands: {self.accepted} accepted (202), {self.commands_with_event} with an event, "
            f"{self.events} events ({self.applied} applied)",
            f"e-mails:  {self.notifications} notifications for {self.applied} applied events, {self.sent} sent, "
            f"{self.failed} refused for good, {self.delivered} distinct delivered, {self.mail_duplicates} extra copies",
        ]
        out += [f"impossible: {n} x {what}" for what, n in self.impossible.items() if n]
        if not any(self.impossible.values()):
            out.append("impossible states: none")
        out.append(f"books: {self.accepted} accepted, {self.events} events, {self.lost} lost, "
                   f"{self.duplicated} duplicated")
        return out


def delivered_notifications(mail_dir: Path) -> Counter[str]:
    """How many messages the sink holds per notification id (taken from each Message-ID)."""
    counts: Counter[str] = Counter()
    headers = BytesHeaderParser()  # the headers alone, classic policy: a tenth of a full parse
    for path in mail_dir.glob("*.eml"):
        with path.open("rb") as handle:
            head = handle.read(8192).split(b"\r\n\r\n", 1)[0]
        found = UUID_IN_MESSAGE_ID.search(str(headers.parsebytes(head).get("Message-ID", "")))
        if found:
            counts[found.group(0)] += 1
    return counts


async def settle(database_url: str, accepted: list[uuid.UUID], timeout: float) -> bool:
    """Wait until every accepted command has its event and no e-mail is pending; False if
    `timeout` seconds ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(database_url)
            try:
                row = await conn.fetchrow(
                    "SELECT (SELECT count(*) FROM activation_events WHERE command_id = ANY($1::uuid[])) AS events, "
                    "(SELECT count(*) FROM notifications WHERE status = 'pending') AS pending", accepted)
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError):  # PostgreSQL may still be coming back from a restart
            await asyncio.sleep(1)
            continue
        if row["events"] >= len(accepted) and row["pending"] == 0:
            return True
        await asyncio.sleep(1)
    return False


async def balance(database_url: str, mail_dir: Path, accepted: list[uuid.UUID]) -> Books:
    """Count everything the accepted commands should have produced."""
    conn = await asyncpg.connect(database_url)
    try:
        events = await conn.fetchrow(
            "SELECT count(*) AS events, count(DISTINCT command_id) AS commands, "
            "count(*) FILTER (WHERE outcome = 'applied') AS applied "
            "FROM activation_events WHERE command_id = ANY($1::uuid[])", accepted)
        rows = await conn.fetch(
            "SELECT n.id, n.status FROM notifications n JOIN activation_events e ON e.id = n.event_id "
            "WHERE e.command_id = ANY($1::uuid[])", accepted)
        impossible = {what: int(await conn.fetchval(sql)) for what, sql in IMPOSSIBLE_STATES.items()}
    finally:
        await conn.close()
    delivered = delivered_notifications(mail_dir)
    ours = {str(r["id"]) for r in rows}
    return Books(
        accepted=len(accepted),
        events=int(events["events"]),
        commands_with_event=int(events["commands"]),
        applied=int(events["applied"]),
        notifications=len(rows),
        sent=sum(1 for r in rows if r["status"] == "sent"),
        failed=sum(1 for r in rows if r["status"] == "failed"),
        delivered=sum(1 for n in ours if delivered[n] > 0),
        mail_duplicates=sum(delivered[n] - 1 for n in ours if delivered[n] > 1),
        impossible=impossible,
    )
