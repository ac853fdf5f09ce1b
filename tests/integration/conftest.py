"""Fixtures for the end-to-end tests: one private stack per test session, logged-in clients."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from loadtest.stack import Stack


@dataclass
class Client:
    """A logged-in user talking to the API."""

    http: httpx.Client
    cpf: str
    company: str
    email: str
    token: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})},
                             **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})},
                              **kwargs)

    def wait_for(self, activation_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
        """Poll the activation until it reaches `status`; fail with what it showed last."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            response = self.get(f"/activations/{activation_id}")
            last = response.json()
            if response.status_code == 200 and last["status"] == status:
                return last  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"activation {activation_id} did not become {status}; last answer: {last}")

    def wait_for_history(self, activation_id: str, length: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        history: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            response = self.get(f"/activations/{activation_id}")
            if response.status_code == 200:
                history = response.json()["history"]
                if len(history) >= length:
                    return history
            time.sleep(0.1)
        raise AssertionError(f"activation {activation_id} has {len(history)} history rows, wanted {length}")


def login(stack: Stack, user: dict[str, str], http: httpx.Client) -> Client:
    answer = http.post("/auth", json={"cpf": user["cpf"], "password": user["password"]})
    assert answer.status_code == 200, answer.text
    rows = asyncio.run(stack.query("SELECT email FROM users WHERE cpf = $1", user["cpf"]))
    return Client(http, user["cpf"], user["company_cnpj"], rows[0]["email"], answer.json()["access_token"])


@pytest.fixture(scope="session")
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api, timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
def pairs(stack: Stack) -> Iterator[tuple[dict[str, str], str]]:
    """Fresh (customer, company) pairs, so no test trips over another's pending request."""
    customers = [u for u in stack.users if u["role"] == "user"]
    companies = sorted({u["company_cnpj"] for u in stack.users})
    return iter([(u, c) for c, u in itertools.product(companies, customers)])


@pytest.fixture
def customer_at(stack: Stack, http: httpx.Client, pairs: Iterator[tuple[dict[str, str], str]]) -> tuple[Client, str]:
    """A logged-in customer and a company where they have nothing pending."""
    user, company = next(pairs)
    return login(stack, user, http), company


@pytest.fixture(scope="session")
def superuser(stack: Stack, http: httpx.Client) -> Client:
    return login(stack, next(u for u in stack.users if u["role"] == "superuser"), http)


@pytest.fixture(scope="session")
def other_superuser(stack: Stack, http: httpx.Client) -> Client:
    return login(stack, [u for u in stack.users if u["role"] == "superuser"][1], http)


def wait_for_mail(stack: Stack, activation_id: str, subject_word: str, timeout: float = 20) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in stack.mails():
            body = mail.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            if activation_id in text and subject_word in str(mail["Subject"]):
                return mail
        time.sleep(0.1)
    raise AssertionError(f"no e-mail with {subject_word!r} for activation {activation_id} arrived")


def mails_for(stack: Stack, activation_id: str) -> list[Message]:
    found = []
    for mail in stack.mails():
        body = mail.get_body(preferencelist=("plain",))
        if body is not None and activation_id in body.get_content():
            found.append(mail)
    return found


@pytest.fixture
async def amqp(stack: Stack) -> AsyncIterator[AbstractRobustConnection]:
    """A connection to the stack's vhost, for publishing straight to RabbitMQ."""
    connection = await aio_pika.connect_robust(stack.amqp_url)
    yield connection
    await connection.close()
