"""The local SMTP sink for development: accepts every e-mail and stores it as a .eml file."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
import uuid
import weakref
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from config import logging as logging_config
from config.settings import Settings, load
from models.errors import ConfigurationError

log = logging.getLogger(__name__)


class SinkPortInUse(ConfigurationError):
    """Another process already listens on the sink's port."""


class Mailbox:
    """aiosmtpd handler that writes each accepted message into one directory."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # The reserved .invalid top-level domain can never receive mail (RFC 2606): refuse it
        # for good, like a real server would, so permanent refusals can be tried locally.
        if address.lower().rstrip(">").endswith(".invalid"):
            return f"550 5.1.1 <{address}>: no such domain"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        recipients = ", ".join(envelope.rcpt_tos)
        # Standard delivery headers, so the file shows the envelope as well as the headers.
        trace = f"Return-Path: <{envelope.mail_from or ''}>\r\nDelivered-To: {recipients}\r\n"
        # Written in the event loop: a few kilobytes into the page cache take less time than
        # handing them to a thread and back (which cost a third of the sink's time).
        path = self.store(trace.encode() + content)
        log.info("Stored a message from %s to %s in %s.", envelope.mail_from, recipients, path)
        return "250 Message accepted for delivery"

    def store(self, data: bytes) -> Path:
        """Write `data` to a new .eml file, atomically so readers never see half a message."""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{uuid.uuid4().hex[:8]}.eml"
        path = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, path)
        return path


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Accept SMTP on the sink's host and port until `stop` is set."""
    mailbox = Mailbox(settings.mail_dir)
    loop = asyncio.get_running_loop()
    # Our own host name: aiosmtpd's default, socket.getfqdn(), can stall on DNS.
    hostname = socket.gethostname()
    sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def session() -> SMTP:
        protocol = SMTP(mailbox, hostname=hostname, loop=loop)
        sessions.add(protocol)
        return protocol

    host, port = settings.smtp_sink_host, settings.smtp_sink_port
    try:
        server = await loop.create_server(session, host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SinkPortInUse(
                f"Port {port} is already in use; another SMTP sink may be running. Set SMTP_SINK_PORT."
            ) from exc
        raise ConfigurationError(f"The SMTP sink cannot listen on {host}:{port}: {exc}.") from exc
    log.info("SMTP sink listening on %s:%d; messages are stored in %s.", host, port, mailbox.directory)
    try:
        await stop.wait()
    finally:
        server.close()
        # Since Python 3.12 wait_closed() also waits for open sessions: end them first.
        for protocol in list(sessions):
            if protocol.transport is not None:
                protocol.transport.close()
        await server.wait_closed()
        log.info("SMTP sink on %s:%d stopped.", host, port)


def main(settings: Settings) -> None:
    """Run the sink in the foreground until SIGINT or SIGTERM; exit 1 if it cannot listen."""
    logging_config.setup(settings.log_level, "smtp-sink")
    # aiosmtpd logs every SMTP command at INFO; our one line per stored message is enough.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        asyncio.run(_run(settings))
    except ConfigurationError as exc:
        log.error("%s", exc)
        sys.exit(1)


async def _run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    await serve(settings, stop)


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    log.info("Received %s; stopping the SMTP sink.", signal.Signals(signum).name)
    stop.set()


if __name__ == "__main__":
    main(load())
