"""The development SMTP sink stores what `send` delivers; `send` fails fast and transiently."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope

from config.settings import Settings
from models.entities import NotificationKind
from workers.mail import Email, MailContext, Mailer, MailRejected, MailUnavailable, render, send
from workers.smtp_sink import Mailbox, SinkPortInUse, SinkSMTP, serve

SENDER = "Ativações <nao-responda@ativacoes.local>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_listening(port: int) -> None:
    async with asyncio.timeout(5):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
            else:
                writer.close()
                await writer.wait_closed()
                return


@contextlib.asynccontextmanager
async def running_sink(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        await wait_until_listening(settings.smtp_sink_port)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)


def message(message_id: str = "<sink-test@ativacoes.local>", to: str = "maria@example.com") -> Email:
    ctx = MailContext(
        recipient_name="Maria Souza",
        recipient_email=to,
        company_name="Oficina Ágil",
        company_cnpj="11222333000181",
        activation_id="0193e0f2-7c3a-7b4e-9f10-2a3b4c5d6e7f",
        kind=NotificationKind.APPROVED,
        happened_at=datetime(2026, 12, 3, 17, 5, tzinfo=UTC),
    )
    return render(ctx, SENDER, message_id)


async def test_a_message_sent_to_the_sink_is_stored_as_one_eml_file(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(smtp_sink_port=port, smtp_port=port, mail_dir=str(tmp_path / "mail"))
    sent = message()

    async with running_sink(settings):
        await send(sent, settings)

    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    stored = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    expected = message_from_bytes(sent.data, policy=policy.default)
    assert stored["To"] == expected["To"] == "Maria Souza <maria@example.com>"
    assert stored["Subject"] == expected["Subject"]
    assert stored["Message-ID"] == expected["Message-ID"] == "<sink-test@ativacoes.local>"
    assert stored.get_content() == expected.get_content()  # stored as it went on the wire
    assert list((tmp_path / "mail").iterdir()) == files  # no temporary file left behind


async def test_the_sink_refuses_to_start_on_a_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(smtp_sink_port=port, mail_dir=str(tmp_path))

        with pytest.raises(SinkPortInUse, match=f"Port {port} is already in use"):
            await serve(settings, asyncio.Event())


async def test_sending_where_nothing_listens_is_transient_and_quick() -> None:
    settings = Settings(smtp_port=free_port(), smtp_timeout=5)
    started = time.monotonic()

    with pytest.raises(MailUnavailable):
        await send(message(), settings)

    assert time.monotonic() - started < 2


async def test_a_server_that_never_greets_is_transient_within_the_timeout() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(smtp_port=port, smtp_timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(MailUnavailable):
            await send(message(), settings)
    finally:
        release.set()
        server.close()
        await server.wait_closed()

    assert time.monotonic() - started < 3


async def test_a_mailer_reuses_one_session_for_consecutive_emails_and_refuses_dot_invalid(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(smtp_sink_port=port, smtp_port=port, mail_dir=str(tmp_path / "mail"))
    async with running_sink(settings):
        mailer = Mailer(settings, sessions=2)
        for n in range(3):
            await mailer.send(message(f"<reuse-{n}@ativacoes.local>"))
        assert len(mailer._idle) == 1  # one session carried all three
        refused = message("<refused@ativacoes.local>", to="ninguem@exemplo.invalid")
        with pytest.raises(MailRejected, match="550"):
            await mailer.send(refused)
        await mailer.send(message("<after-refusal@ativacoes.local>"))  # a fresh session takes over
        mailer.close()
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 4


async def test_the_sink_counts_what_it_stored_in_one_line_a_while_not_one_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = Settings(smtp_sink_port=port, smtp_port=port, mail_dir=str(tmp_path / "mail"))
    caplog.set_level(logging.INFO, logger="workers.smtp_sink")
    async with running_sink(settings):
        mailer = Mailer(settings, sessions=1)
        for n in range(3):
            await mailer.send(message(f"<counted-{n}@ativacoes.local>"))
        mailer.close()

    stored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Stored")]
    assert len(stored) == 1 and stored[0].startswith("Stored 3 message(s) since the last report")


def test_the_sink_writes_all_of_a_message_even_when_the_system_takes_it_a_little_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))  # short writes
    mailbox = Mailbox(str(tmp_path))
    data = b"Subject: partial writes\r\n\r\n" + b"x" * 1000 + b"\r\nTHE END\r\n"

    path = mailbox.store(data)

    assert Path(path).read_bytes() == data


async def test_a_message_the_sink_cannot_store_is_deferred_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = []

    def full_disk(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, bytes(data[:10]))

    monkeypatch.setattr(os, "write", full_disk)
    mailbox = Mailbox(str(tmp_path))
    envelope = Envelope()
    envelope.mail_from, envelope.rcpt_tos, envelope.original_content = "a@example.com", ["b@example.com"], b"x" * 100

    answer = await mailbox.handle_DATA(None, None, envelope)  # type: ignore[arg-type]

    assert answer.startswith("451 ")  # try again later: the notifier keeps the e-mail pending
    assert os.listdir(tmp_path) == []  # no half message, no temporary file


@pytest.mark.parametrize(("command", "address"), [("RCPT", "someone@invalid"), ("RCPT", "a\x00b@example.com"),
                                                  ("MAIL", "a\x00b@example.com"), ("MAIL", "a\x7fb@example.com")])
async def test_the_sink_refuses_addresses_that_can_never_be_delivered_to(
    tmp_path: Path, command: str, address: str
) -> None:
    mailbox = Mailbox(str(tmp_path))
    envelope = Envelope()
    if command == "RCPT":
        answer = await mailbox.handle_RCPT(None, None, envelope, address, [])  # type: ignore[arg-type]
    else:
        answer = await mailbox.handle_MAIL(None, None, envelope, address, [])  # type: ignore[arg-type]

    assert answer[:1] == "5" and envelope.rcpt_tos == [] and envelope.mail_from is None


ADDRESS_ARGS = [
    "<cliente@exemplo.com.br>", "<a.b+tag@b.c> SIZE=100", "<a@b.c>  BODY=8BITMIME", "<a@b.c>\tX", "<a@b.c>   ",
    "<a@b.c> (comment) SIZE=1", "<a..b@c.d>", "<.a@b.c>", "<a@b..c>", "<a@-b.c>", '<"q q"@b.c>', "<a@[1.2.3.4]>",
    "< a@b.c>", "<a@b.c>x", "<a@b.c>>", "<@route:a@b.c>", "<a@b.c.>", "<a@b>", "<a(c)@b.c>", "<a@b.c(c)>", "<>",
    "<a!#$%&'*+/=?^_`{|}~-@b.c>", "a@b.c", " <a@b.c>", "<" + "x" * 65 + "@b.c>", "<" + "x" * 64 + "@b.c>",
]


@pytest.mark.parametrize("local_part_limit", [0, 64])
def test_the_sink_reads_every_address_as_aiosmtpd_would(local_part_limit: int) -> None:
    """The plain-form shortcut gives aiosmtpd's own answer, for plain and every other form."""
    plain, ours = SMTP(Mailbox.__new__(Mailbox)), SinkSMTP(Mailbox.__new__(Mailbox))
    plain.local_part_limit = ours.local_part_limit = local_part_limit
    for arg in ADDRESS_ARGS:
        assert ours._getaddr(arg) == plain._getaddr(arg), arg


@pytest.mark.parametrize(("sender", "return_path"), [("<>", b"Return-Path: <>\r\n"),
                                                     ("a@example.com", b"Return-Path: <a@example.com>\r\n")])
async def test_the_stored_file_names_the_sender_once_bracketed(tmp_path: Path, sender: str, return_path: bytes) -> None:
    envelope = Envelope()
    envelope.mail_from, envelope.rcpt_tos, envelope.original_content = sender, ["b@example.com"], b"Subject: x\r\n"
    assert (await Mailbox(str(tmp_path)).handle_DATA(None, None, envelope)).startswith("250")  # type: ignore[arg-type]
    [stored] = os.listdir(tmp_path)
    assert (tmp_path / stored).read_bytes().startswith(return_path)
