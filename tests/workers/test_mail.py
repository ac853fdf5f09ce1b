"""Rendering notification e-mails: pure, Portuguese, deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesHeaderParser

import pytest

from models.entities import NotificationKind
from workers.mail import Email, MailContext, envelope, format_brasilia, format_cnpj, render

SENDER = "Ativações <nao-responda@ativacoes.local>"
MESSAGE_ID = "<1764770700.1.42.notification@ativacoes.local>"
ACTIVATION_ID = "0193e0f2-7c3a-7b4e-9f10-2a3b4c5d6e7f"
# 17:05 UTC is 14:05 in Brasília (UTC-3 all year since 2019).
HAPPENED_AT = datetime(2026, 12, 3, 17, 5, 30, tzinfo=UTC)


def context(kind: NotificationKind, reason: str | None = None) -> MailContext:
    return MailContext(
        recipient_name="João da Silva",
        recipient_email="joao.silva@example.com",
        company_name="Padaria Pão Quente",
        company_cnpj="11222333000181",
        activation_id=ACTIVATION_ID,
        kind=kind,
        happened_at=HAPPENED_AT,
        reason=reason,
    )


def parsed(email: Email) -> EmailMessage:
    """The message as a mail client would read it from the wire."""
    result = message_from_bytes(email.data, policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


def text_of(email: Email) -> str:
    part = parsed(email).get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize(
    ("kind", "subject", "sentence"),
    [
        (NotificationKind.RECEIVED, "Pedido de ativação recebido — Padaria Pão Quente",
         "Recebemos o seu pedido de ativação na empresa Padaria Pão Quente"),
        (NotificationKind.APPROVED, "Pedido de ativação aprovado — Padaria Pão Quente", "foi aprovado."),
        (NotificationKind.REFUSED, "Pedido de ativação recusado — Padaria Pão Quente", "foi recusado."),
        (NotificationKind.CANCELLED, "Pedido de ativação cancelado — Padaria Pão Quente",
         "foi cancelado conforme solicitado."),
    ],
)
def test_each_kind_is_addressed_to_the_customer_with_a_portuguese_subject_and_body(
    kind: NotificationKind, subject: str, sentence: str
) -> None:
    email = render(context(kind), SENDER, MESSAGE_ID)
    message, body = parsed(email), text_of(email)

    assert message["To"] == "João da Silva <joao.silva@example.com>"
    assert message["From"] == SENDER
    assert message["Subject"] == subject
    assert message["Message-ID"] == MESSAGE_ID
    assert sentence in body
    assert body.startswith("Olá, João da Silva.")
    assert "Padaria Pão Quente (CNPJ 11.222.333/0001-81)" in body
    assert ACTIVATION_ID in body
    assert "03/12/2026 às 14:05 (horário de Brasília)" in body


def test_the_date_header_is_when_the_event_happened() -> None:
    message = parsed(render(context(NotificationKind.APPROVED), SENDER, MESSAGE_ID))

    assert message["Date"].datetime == HAPPENED_AT.replace(second=30)


def test_a_refused_request_states_the_reason_when_there_is_one() -> None:
    refusal = context(NotificationKind.REFUSED, "Documentação incompleta")
    with_reason = text_of(render(refusal, SENDER, MESSAGE_ID))
    without_reason = text_of(render(context(NotificationKind.REFUSED), SENDER, MESSAGE_ID))

    assert "Motivo: Documentação incompleta" in with_reason
    assert "Motivo" not in without_reason


def test_a_reason_is_never_shown_on_e_mails_other_than_refusals() -> None:
    body = text_of(render(context(NotificationKind.APPROVED, "left over"), SENDER, MESSAGE_ID))

    assert "left over" not in body


def test_the_same_input_always_renders_the_same_bytes() -> None:
    first = render(context(NotificationKind.REFUSED, "Documentação incompleta"), SENDER, MESSAGE_ID)
    second = render(context(NotificationKind.REFUSED, "Documentação incompleta"), SENDER, MESSAGE_ID)

    assert first.data == second.data


def test_the_body_travels_as_seven_bit_text_so_any_relay_accepts_it() -> None:
    raw = render(context(NotificationKind.RECEIVED), SENDER, MESSAGE_ID).data

    assert raw.isascii()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends as SMTP wants it


def test_times_are_shown_in_brasilia_whatever_zone_they_come_in() -> None:
    in_tokyo = datetime(2026, 12, 4, 2, 5, tzinfo=timezone(timedelta(hours=9)))

    assert format_brasilia(in_tokyo) == "03/12/2026 às 14:05 (horário de Brasília)"


def test_a_cnpj_is_formatted_and_anything_else_is_left_alone() -> None:
    assert format_cnpj("11222333000181") == "11.222.333/0001-81"
    assert format_cnpj("123") == "123"


def test_a_naive_time_is_refused_because_its_hour_would_be_ambiguous() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MailContext("A", "a@example.com", "C", "11222333000181", ACTIVATION_ID,
                    NotificationKind.RECEIVED, datetime(2026, 12, 3, 14, 5))


def test_a_line_break_in_an_address_is_refused_so_no_header_can_be_injected() -> None:
    ctx = MailContext("João da Silva", "joao.silva@example.com\r\nBcc: someone@example.com", "Padaria Pão Quente",
                      "11222333000181", ACTIVATION_ID, NotificationKind.APPROVED, HAPPENED_AT)
    with pytest.raises(ValueError, match="line breaks"):
        render(ctx, SENDER, MESSAGE_ID)


@pytest.mark.parametrize("name", ["João da Silva\r\nBcc: someone@example.com", "Ana\nMaria", "Ana\x0b\x7f Maria"])
def test_control_characters_in_a_name_become_spaces_so_the_customer_still_gets_the_e_mail(name: str) -> None:
    email = render(customer_named(name), SENDER, MESSAGE_ID)

    message = parsed(email)
    assert "Bcc" not in message and not message["To"].defects
    assert message["To"].addresses[0].display_name == " ".join(name.replace("\x0b\x7f", " ").split())
    assert text_of(email).startswith(f"Olá, {message['To'].addresses[0].display_name}.")


def test_an_ascii_name_that_looks_encoded_is_shown_as_typed() -> None:
    name = "=?utf-8?q?Banco_Central?="
    to = parsed(render(customer_named(name), SENDER, MESSAGE_ID))["To"]

    assert to.addresses[0].display_name == name


def test_the_envelope_names_the_sender_and_the_customer() -> None:
    email = render(context(NotificationKind.APPROVED), SENDER, MESSAGE_ID)

    assert email.sender == "nao-responda@ativacoes.local"
    assert email.recipients == ("joao.silva@example.com",)
    assert envelope(email.data) == email  # the same envelope as the headers give
    assert b"Message-ID: " + MESSAGE_ID.encode() in email.data


def customer_named(name: str) -> MailContext:
    return MailContext(name, "ana@example.com", "Padaria Pão Quente", "11222333000181", ACTIVATION_ID,
                       NotificationKind.APPROVED, HAPPENED_AT)


def test_a_name_with_quotes_and_commas_is_quoted_in_the_to_header() -> None:
    name = 'Ana "Aninha" Souza, Jr.'
    to = parsed(render(customer_named(name), SENDER, MESSAGE_ID))["To"]

    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [(name, "ana@example.com")]


def test_a_long_accented_name_is_folded_over_encoded_words_that_decode_to_it() -> None:
    name = " ".join(["Conceição"] * 20)
    email = render(customer_named(name), SENDER, MESSAGE_ID)

    to = BytesHeaderParser().parsebytes(email.data)["To"]
    assert str(make_header(decode_header(to))) == f"{name} <ana@example.com>"  # as RFC 2047 reads it
    assert all(len(line) <= 78 for line in email.data.split(b"\r\n"))
