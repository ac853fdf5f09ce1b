"""E-mail to customers: a pure `render` of each notification and an I/O `send` over SMTP."""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from zoneinfo import ZoneInfo

import aiosmtplib

from config.settings import Settings
from models.entities import NotificationKind
from models.errors import PermanentError, TransientError

BRASILIA = ZoneInfo("America/Sao_Paulo")

SUBJECTS = {
    NotificationKind.RECEIVED: "Pedido de ativação recebido",
    NotificationKind.APPROVED: "Pedido de ativação aprovado",
    NotificationKind.REFUSED: "Pedido de ativação recusado",
    NotificationKind.CANCELLED: "Pedido de ativação cancelado",
}

# What happened, completed by "na empresa <name> (CNPJ <cnpj>)".
OUTCOMES = {
    NotificationKind.RECEIVED: "Recebemos o seu pedido de ativação na empresa {company}. "
    "Avisaremos por e-mail assim que ele for analisado.",
    NotificationKind.APPROVED: "O seu pedido de ativação na empresa {company} foi aprovado.",
    NotificationKind.REFUSED: "O seu pedido de ativação na empresa {company} foi recusado.",
    NotificationKind.CANCELLED: "O seu pedido de ativação na empresa {company} foi cancelado "
    "conforme solicitado.",
}

WHEN_LABELS = {
    NotificationKind.RECEIVED: "Recebido em",
    NotificationKind.APPROVED: "Aprovado em",
    NotificationKind.REFUSED: "Recusado em",
    NotificationKind.CANCELLED: "Cancelado em",
}


class MailRejected(PermanentError):
    """This e-mail can never be delivered: the server refused it for good (5xx) or it cannot be written."""


class MailUnavailable(TransientError):
    """The mail server is unreachable, slow or asked us to try later (4xx)."""


@dataclass(frozen=True)
class MailContext:
    """Everything one notification e-mail says, already loaded from the database."""

    recipient_name: str
    recipient_email: str
    company_name: str
    company_cnpj: str
    activation_id: str
    kind: NotificationKind
    happened_at: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        # A naive time would be read as the server's local time and misstate the hour.
        if self.happened_at.tzinfo is None or self.happened_at.utcoffset() is None:
            raise ValueError("MailContext.happened_at must be timezone-aware.")


def format_cnpj(cnpj: str) -> str:
    """A CNPJ as people write it (00.000.000/0000-00); anything else unchanged."""
    if len(cnpj) != 14 or not cnpj.isdigit():
        return cnpj
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def format_brasilia(moment: datetime) -> str:
    """An aware time as Brazilian customers read it, e.g. '03/12/2026 às 14:05 (horário de Brasília)'."""
    local = moment.astimezone(BRASILIA)
    return f"{local:%d/%m/%Y} às {local:%H:%M} (horário de Brasília)"


def subject(ctx: MailContext) -> str:
    """The subject line: the event and the company."""
    return f"{SUBJECTS[ctx.kind]} — {ctx.company_name}"


def body(ctx: MailContext) -> str:
    """The plain-text body, in Portuguese."""
    company = f"{ctx.company_name} (CNPJ {format_cnpj(ctx.company_cnpj)})"
    lines = [f"Olá, {display_name(ctx.recipient_name)}.", "", OUTCOMES[ctx.kind].format(company=company)]
    if ctx.kind is NotificationKind.REFUSED and ctx.reason:
        lines += ["", f"Motivo: {ctx.reason}"]
    lines += [
        "",
        f"Número do pedido: {ctx.activation_id}",
        f"{WHEN_LABELS[ctx.kind]}: {format_brasilia(ctx.happened_at)}",
        "",
        "Este é um e-mail automático; por favor, não responda.",
        "",
    ]
    return "\n".join(lines)


# Quoted-printable keeps headers and body 7-bit, so any relay takes them without 8BITMIME.
UTF8_QP = Charset("utf-8")
UTF8_QP.header_encoding = QP
UTF8_QP.body_encoding = QP
CRLF = "\r\n"

# The MIME headers every notification carries: one part of plain text, quoted-printable.
_MIME_HEADERS = (
    "MIME-Version: 1.0\r\n"
    'Content-Type: text/plain; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n"
)


@dataclass(frozen=True)
class Email:
    """One e-mail as it goes on the wire, with its envelope (who sends it, to whom)."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


def render(ctx: MailContext, sender: str, message_id: str) -> Email:
    """The e-mail for `ctx`, from `sender`; the same arguments always give the same bytes.

    The standard message the email package writes (RFC 5322 headers, non-ASCII words
    encoded by its `Header` and `Charset`, a quoted-printable body), put together line by
    line: building and flattening a `Message` object for it cost ten times as much, most
    of the notifier's time. The headers that repeat (From, each Subject) are encoded once.
    """
    for value in (sender, ctx.recipient_email, message_id):
        if "\r" in value or "\n" in value:
            raise ValueError(f"A header value may not contain line breaks: {value!r}")
    sender_address, from_header = _sender(sender)
    if "@" not in ctx.recipient_email or not sender_address:
        raise ValueError(f"Not an e-mail address: {ctx.recipient_email!r} (to) or {sender!r} (from)")
    head = (
        f"From: {from_header}\r\n"
        f"To: {_address_header(display_name(ctx.recipient_name), ctx.recipient_email)}\r\n"
        f"Subject: {_subject_header(subject(ctx))}\r\n"
        f"Date: {format_datetime(ctx.happened_at)}\r\n"
        f"Message-ID: {message_id}\r\n"
        f"{_MIME_HEADERS}\r\n"
    )
    text = UTF8_QP.body_encode(body(ctx)).replace("\n", "\r\n")
    return Email(sender_address, (ctx.recipient_email,), (head + text).encode("ascii"))


_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]+")


def display_name(name: str) -> str:
    """A name as it can stand in a header and a greeting: line breaks and other control characters
    (which a name typed into some other system may carry) become single spaces."""
    return _CONTROL.sub(" ", name).strip()


def _address_header(name: str, address: str) -> str:
    """`Name <address>`, the name quoted or, when not plain ASCII, encoded (folded if long).

    A name that looks like an encoded word (`=?...?=`) is encoded too, so that a mail client
    shows it as typed rather than decoding it.
    """
    if name.isascii() and "=?" not in name:
        return formataddr((name, address))
    encoded = UTF8_QP.header_encode(name)
    if len(encoded) > 75:  # the longest encoded word RFC 2047 allows: split over folded lines
        encoded = Header(name, UTF8_QP, header_name="To").encode(linesep=CRLF)
    return f"{encoded} <{address}>"


@functools.lru_cache(maxsize=8)
def _sender(sender: str) -> tuple[str, str]:
    """The sender's address and its From header, worked out once per sender."""
    name, address = parseaddr(sender)
    return address, _address_header(name, address)


@functools.lru_cache(maxsize=1024)
def _subject_header(text: str) -> str:
    return Header(text, UTF8_QP, header_name="Subject").encode(linesep=CRLF)


def envelope(data: bytes) -> Email:
    """An e-mail written elsewhere, with the envelope its From and To headers give."""
    headers = BytesHeaderParser().parsebytes(data)
    sender = parseaddr(str(headers["From"]))[1]
    recipients = tuple(address for _, address in getaddresses([str(v) for v in headers.get_all("To", [])])
                       if address)
    return Email(sender, recipients, data)


async def send(email: Email, settings: Settings) -> None:
    """Hand `email` to the configured SMTP server in a session of its own."""
    mailer = Mailer(settings, sessions=1)
    try:
        await mailer.send(email)
    finally:
        mailer.close()


class Mailer:
    """SMTP sessions kept open between e-mails, one per concurrent send, reopened after errors.

    Opening a session (TCP, greeting, EHLO, maybe TLS and AUTH) costs more than sending a
    short e-mail; a notifier sending thousands reuses its sessions.
    """

    def __init__(self, settings: Settings, sessions: int) -> None:
        self.settings = settings
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(sessions)

    async def send(self, email: Email) -> None:
        """Send `email`, or raise MailRejected (never deliverable) / MailUnavailable (try later)."""
        sender, recipients, data = email.sender, list(email.recipients), email.data
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._open()
                    await client.sendmail(sender, recipients, data)
                else:
                    try:
                        await client.sendmail(sender, recipients, data)
                    except aiosmtplib.SMTPServerDisconnected:
                        # The server closed an idle session: one fresh try before calling it an outage.
                        client = await self._open()
                        await client.sendmail(sender, recipients, data)
            except (aiosmtplib.SMTPException, OSError) as exc:
                if client is not None:
                    client.close()
                raise _translate(exc, self.where) from exc
            self._idle.append(client)

    async def _open(self) -> aiosmtplib.SMTP:
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=settings.smtp_tls,
            # An explicit False: None would make aiosmtplib upgrade whenever the server offers it.
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout,
        )
        await client.connect()
        return client

    def close(self) -> None:
        for client in self._idle:
            client.close()
        self._idle.clear()


def _translate(exc: Exception, where: str) -> MailRejected | MailUnavailable:
    """What an SMTP failure means for the e-mail: never deliverable, or worth another try."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({r.code for r in exc.recipients})
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        # Greylisting and full mailboxes answer 4xx: worth another try later.
        if any(code < 500 for code in codes):
            return MailUnavailable(f"The mail server at {where} deferred the recipients ({text}).")
        return MailRejected(f"The mail server at {where} refused the recipients ({text}).")
    if isinstance(exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPConnectResponseError,
                        aiosmtplib.SMTPHeloError)):
        # These refuse the session, not this e-mail: every message would fail until the
        # server or our settings change, so keep the e-mail pending instead of failing it.
        return MailUnavailable(
            f"The mail server at {where} refused the session ({exc.code} {exc.message}); "
            "check SMTP_HOST, SMTP_USERNAME and SMTP_PASSWORD."
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        answer = f"{exc.code} {exc.message}"
        if exc.code >= 500:
            return MailRejected(f"The mail server at {where} refused the e-mail ({answer}).")
        return MailUnavailable(f"The mail server at {where} deferred the e-mail ({answer}).")
    # Timeouts and lost connections are OSError subclasses (TimeoutError, ConnectionError).
    return MailUnavailable(f"The mail server at {where} is unavailable: {exc!r}.")
