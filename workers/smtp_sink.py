"""The local SMTP sink for development: accepts every e-mail and stores it as a .eml file."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import signal
import socket
import sys
import weakref
from datetime import UTC, datetime
from pathlib import Path

import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

from config import logging as logging_config
from config.settings import Settings, load
from models.errors import ConfigurationError

log = logging.getLogger(__name__)


REPORT_EVERY = 5.0  # seconds between the lines that count the messages stored


class SinkPortInUse(ConfigurationError):
    """Another process already listens on the sink's port."""


class Mailbox:
    """aiosmtpd handler that writes each accepted message into one directory."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.folder = str(self.directory)
        self.stored = 0
        self.latest = ""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # The reserved .invalid top-level domain can never receive mail (RFC 2606): refuse it
        # for good, like a real server would, so permanent refusals can be tried locally.
        domain = address.lower().rstrip(">").rpartition("@")[2]
        if domain == "invalid" or domain.endswith(".invalid"):
            return f"550 5.1.1 <{address}>: no such domain"
        if not address.isprintable():
            return f"553 5.1.3 {address!r}: control characters are not allowed in an address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if not address.isprintable():  # it would end up in the stored file's Return-Path
            return f"553 5.1.7 {address!r}: control characters are not allowed in an address"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        recipients = ", ".join(envelope.rcpt_tos)
        # Standard delivery headers, so the file shows the envelope as well as the headers.
        # The null sender (bounces) comes as "<>", already in its brackets.
        sender = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        trace = f"Return-Path: <{sender}>\r\nDelivered-To: {recipients}\r\n"
        # Written in the event loop: a few kilobytes into the page cache take less time than
        # handing them to a thread and back (which cost a third of the sink's time).
        try:
            path = self.store(trace.encode() + content)
        except OSError as exc:  # a full disk, a file-size limit: nothing is kept, the sender tries again
            log.error("Could not store a message from %s to %s: %s. Is %s full?", envelope.mail_from, recipients,
                      exc, self.folder)
            return "451 4.3.0 Could not store the message; try again later"
        self.stored += 1
        self.latest = path
        # One line a message only when debugging: at hundreds a second they cost more than storing.
        log.debug("Stored a message from %s to %s in %s.", envelope.mail_from, recipients, path)
        return "250 Message accepted for delivery"

    def report(self) -> None:
        """Say how many messages arrived since the last report, if any."""
        if self.stored:
            log.info("Stored %d message(s) since the last report; the latest is %s.", self.stored, self.latest)
            self.stored = 0

    def store(self, data: bytes) -> str:
        """Write `data` to a new .eml file, atomically so readers never see half a message.

        Plain `os` calls on string paths: pathlib's objects were a sixth of the sink's time.
        """
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{os.urandom(4).hex()}.eml"
        path = f"{self.folder}/{name}"
        temporary = f"{self.folder}/.{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:  # a write may take less than all of it (a file-size limit, a full disk)
                    written = os.write(fd, view)
                    if written == 0:
                        raise OSError(f"no space taken for the last {len(view)} bytes of {temporary}")
                    view = view[written:]
            finally:
                os.close(fd)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path


# An address in its plain form, `<local@domain>` with dot-atoms on both sides (RFC 5321),
# then whatever parameters follow: the form of nearly every MAIL FROM and RCPT TO.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"<((?:{_ATEXT}(?:\.{_ATEXT})*)@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")


class SinkSMTP(SMTP):
    """aiosmtpd's server, with the plain form of an address read without the full parser.

    aiosmtpd parses every address with the email package's header parser and defines a
    class on each call: a quarter of the sink's time when every e-mail goes to a new
    customer. An address in the plain form gives the same result read directly; any other
    form still goes through aiosmtpd's parser.
    """

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_ADDRESS.match(arg)
        rest = arg[plain.end():] if plain is not None else ""
        if plain is None or "(" in rest:  # comments after the address: the parser's business
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest.lstrip(" \t")


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Accept SMTP on the sink's host and port until `stop` is set."""
    mailbox = Mailbox(settings.mail_dir)
    loop = asyncio.get_running_loop()
    # Our own host name: aiosmtpd's default, socket.getfqdn(), can stall on DNS.
    hostname = socket.gethostname()
    sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def session() -> SMTP:
        protocol = SinkSMTP(mailbox, hostname=hostname, loop=loop)
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
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REPORT_EVERY)
            mailbox.report()
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
        uvloop.run(_run(settings))
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
