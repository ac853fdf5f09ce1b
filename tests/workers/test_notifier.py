"""What becomes of a mail job of several e-mails, from what became of each."""

from __future__ import annotations

import uuid

from models.errors import PermanentError
from workers.mail import MailRejected, MailUnavailable
from workers.notifier import UnknownNotification, job_outcome

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_job_whose_e_mails_all_went_is_done() -> None:
    assert job_outcome((A, B), {C: MailUnavailable("down")}) is None


def test_an_unavailable_server_defers_the_job_even_beside_a_refused_e_mail() -> None:
    down = MailUnavailable("down")
    assert job_outcome((A, B, C), {A: MailRejected("550"), B: down}) is down


def test_an_unexpected_failure_goes_before_everything_else() -> None:
    surprise = RuntimeError("bug")
    assert job_outcome((A, B), {A: MailUnavailable("down"), B: surprise}) is surprise


def test_a_single_e_mail_job_keeps_its_own_permanent_failure() -> None:
    refused = MailRejected("550 no such user")
    assert job_outcome((A,), {A: refused}) is refused


def test_a_job_of_several_whose_failures_are_permanent_says_which_e_mails_failed() -> None:
    outcome = job_outcome((A, B, C), {A: MailRejected("550 no such user"), C: UnknownNotification("gone")})
    assert isinstance(outcome, PermanentError)  # the job goes to the dead-letter queue
    assert "2 of the job's 3 e-mails" in str(outcome) and str(A) in str(outcome) and str(C) in str(outcome)
