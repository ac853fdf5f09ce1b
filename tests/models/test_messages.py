"""Commands and mail jobs survive the trip through JSON; anything else is refused clearly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from models.errors import InvalidMessage, PermanentError
from models.ids import issued_at, parse_uuid, uuid7
from models.messages import Command, MailJob
from models.state_machine import CommandType


def a_command(**overrides: object) -> Command:
    fields: dict[str, object] = {
        "id": uuid7(), "type": CommandType.REQUEST, "activation_id": uuid7(), "actor_cpf": "52998224725",
        "issued_at": datetime(2026, 12, 3, 12, 0, tzinfo=UTC), "company_cnpj": "11222333000181",
    }
    fields.update(overrides)
    return Command(**fields)  # type: ignore[arg-type]


def test_a_command_decodes_to_what_was_encoded() -> None:
    command = a_command(type=CommandType.REFUSE, company_cnpj=None, reason="sem documentos")
    assert Command.decode(command.encode()) == command


def test_a_command_with_a_nul_character_is_invalid_so_it_cannot_break_a_batch_in_postgresql() -> None:
    body = a_command(type=CommandType.REFUSE, company_cnpj=None, reason="sem\x00documentos").encode()
    with pytest.raises(InvalidMessage):
        Command.decode(body)


def test_a_mail_job_decodes_to_what_was_encoded() -> None:
    job = MailJob((uuid.uuid4(), uuid.uuid4()))
    assert MailJob.decode(job.encode()) == job


def test_a_mail_job_of_one_notification_as_earlier_versions_wrote_it_still_reads() -> None:
    notification_id = uuid.uuid4()
    body = f'{{"v": 1, "notification_id": "{notification_id}"}}'.encode()
    assert MailJob.decode(body) == MailJob((notification_id,))


@pytest.mark.parametrize("body", [b'{"v": 1, "notification_ids": []}', b'{"v": 1, "notification_ids": "x"}',
                                  b'{"v": 1, "notification_ids": [1]}', b'{"v": 1}'])
def test_a_mail_job_without_notifications_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidMessage):
        MailJob.decode(body)


def test_mail_jobs_are_cut_into_chunks_in_order() -> None:
    ids = [uuid.uuid4() for _ in range(5)]
    assert MailJob.chunks(ids, 2) == [MailJob(tuple(ids[:2])), MailJob(tuple(ids[2:4])), MailJob((ids[4],))]


@pytest.mark.parametrize("body", [
    b"not json",
    b"\xff\xfe\x00garbage",
    b"[1, 2]",
    b'{"v": 99, "id": "x"}',
    b'{"v": 1}',
    b'{"v": 1, "id": "1", "type": "request"}',
])
def test_a_malformed_body_is_a_permanent_invalid_message(body: bytes) -> None:
    with pytest.raises(InvalidMessage) as caught:
        Command.decode(body)
    assert isinstance(caught.value, PermanentError)


def test_an_unknown_command_type_is_refused() -> None:
    data = orjson.loads(a_command().encode())
    data["type"] = "delete"
    with pytest.raises(InvalidMessage):
        Command.decode(orjson.dumps(data))


def test_a_request_without_a_company_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="company_cnpj"):
        Command.decode(a_command(company_cnpj=None).encode())


@pytest.mark.parametrize("overrides", [
    {"actor_cpf": "9" * 200_000},
    {"actor_cpf": "529982247"},
    {"actor_cpf": "5299822472\u0665"},  # a non-ASCII digit
    {"company_cnpj": "1122233300018"},
])
def test_an_actor_or_company_that_is_no_document_number_is_refused(overrides: dict[str, str]) -> None:
    with pytest.raises(InvalidMessage, match="digits"):
        Command.decode(a_command(**overrides).encode())


def test_uuid7_carries_its_creation_time_and_sorts_by_it() -> None:
    early, late = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert early.version == 7 and early < late
    assert issued_at(early) == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert issued_at(uuid.uuid4()) is None


def test_parse_uuid_returns_none_for_garbage() -> None:
    assert parse_uuid("nope") is None
    assert parse_uuid("01a23d14-84f9-7321-adfa-ebcf2432819d") is not None


def test_uuid7_never_repeats_and_a_forked_child_draws_bits_of_its_own() -> None:
    import os

    assert len({uuid7() for _ in range(20_000)}) == 20_000
    uuid7()  # the parent now holds a partly used block of random bytes
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, b",".join(str(uuid7()).encode() for _ in range(50)))
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write)
    theirs = {part[-20:] for part in os.read(read, 1 << 16).decode().split(",")}
    ours = {str(uuid7())[-20:] for _ in range(50)}
    assert len(theirs) == 50 and not theirs & ours
