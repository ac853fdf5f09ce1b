"""End to end through the real API, RabbitMQ, workers, PostgreSQL, notifier and SMTP sink."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
import uuid

import httpx
import pytest

from loadtest.stack import Stack
from tests.integration.conftest import Client, mails_for, wait_for_mail

pytestmark = pytest.mark.integration


def request(client: Client, company: str, **kwargs: object) -> str:
    answer = client.get(f"/activations/request?company={company}", **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "queued"
    assert answer.headers["Location"] == body["href"]
    return str(body["id"])


def test_logging_in_gives_an_access_and_a_refresh_token(stack: Stack, http: httpx.Client) -> None:
    user = next(u for u in stack.users if u["role"] == "user")
    answer = http.post("/auth", json={"cpf": user["cpf"], "password": user["password"]})
    assert answer.status_code == 200
    tokens = answer.json()
    assert {"access_token", "refresh_token"} <= tokens.keys()
    me = http.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["me"]["cpf"] == user["cpf"]
    refreshed = http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert refreshed.status_code == 200 and "access_token" in refreshed.json()


def refresh(http: httpx.Client, tokens: dict[str, str]) -> httpx.Response:
    return http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})


def test_each_log_in_keeps_its_own_refresh_token(stack: Stack, http: httpx.Client) -> None:
    # Given a customer logged in on two devices
    user = [u for u in stack.users if u["role"] == "user"][1]
    credentials = {"cpf": user["cpf"], "password": user["password"]}
    first, second = (http.post("/auth", json=credentials).json() for _ in range(2))
    # Then both sessions can refresh
    assert refresh(http, first).status_code == 200
    assert refresh(http, second).status_code == 200
    # But a refresh token that was never handed out cannot
    forged = {**first, "refresh_token": "x" * 24}
    answer = refresh(http, forged)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_credentials"


def test_only_the_latest_sessions_can_refresh(stack: Stack, http: httpx.Client) -> None:
    from web.auth import REFRESH_TOKENS_PER_USER

    user = [u for u in stack.users if u["role"] == "user"][2]
    credentials = {"cpf": user["cpf"], "password": user["password"]}
    sessions = [http.post("/auth", json=credentials).json() for _ in range(REFRESH_TOKENS_PER_USER + 1)]
    assert refresh(http, sessions[0]).status_code == 401
    assert refresh(http, sessions[-1]).status_code == 200


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"cpf": "52998224725", "password": "wrong"}, 401, "invalid_credentials"),
    ({"cpf": "123", "password": "x"}, 401, "invalid_credentials"),
    ({"cpf": "52998224725"}, 400, "missing_credentials"),
    ([1, 2], 400, "missing_credentials"),
])
def test_bad_credentials_get_a_json_error(http: httpx.Client, body: object, status: int, code: str) -> None:
    answer = http.post("/auth", json=body)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize("path", ["/auth", "/activations/request"])
def test_a_body_that_is_not_json_gets_invalid_json(superuser: Client, path: str) -> None:
    answer = superuser.post(path, content=b"{nope", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_json"


def test_credentials_that_are_not_text_get_a_400_not_a_500(http: httpx.Client) -> None:
    answer = http.post("/auth", content=b'{"cpf": "\\ud800", "password": "\\ud800"}',
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_text"


def test_a_refresh_token_that_is_not_text_is_refused_not_a_500(superuser: Client) -> None:
    answer = superuser.post("/auth/refresh", content=b'{"refresh_token": "\\ud800"}',
                            headers={"Content-Type": "application/json"})
    assert answer.status_code == 401


def test_refreshing_without_a_refresh_token_says_what_is_missing(superuser: Client) -> None:
    answer = superuser.post("/auth/refresh", json={})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "missing_refresh_token"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}])
def test_a_missing_or_bad_token_gets_a_json_401(http: httpx.Client, headers: dict[str, str]) -> None:
    answer = http.get("/companies", headers=headers)
    assert answer.status_code == 401
    assert set(answer.json()["error"]) == {"code", "message"}


def test_a_logged_in_user_sees_the_companies(superuser: Client, stack: Stack) -> None:
    answer = superuser.get("/companies")
    assert answer.status_code == 200
    assert answer.json()["total"] == len({u["company_cnpj"] for u in stack.users})


def test_a_request_becomes_pending_and_the_customer_is_told(customer_at: tuple[Client, str], stack: Stack) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    shown = customer.wait_for(activation_id, "pending")
    assert shown["company"]["cnpj"] == company and shown["requester_cpf"] == customer.cpf
    assert [h["command"] for h in shown["history"]] == ["request"]
    mail = wait_for_mail(stack, activation_id, "recebido")
    assert customer.email in str(mail["To"])
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert shown["company"]["name"] in text


def test_the_requester_can_cancel(customer_at: tuple[Client, str], stack: Stack) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    assert customer.get(f"/activations/{activation_id}/cancel").status_code == 202
    shown = customer.wait_for(activation_id, "cancelled")
    assert [(h["command"], h["outcome"]) for h in shown["history"]] == [("request", "applied"), ("cancel", "applied")]
    mail = wait_for_mail(stack, activation_id, "cancelado")
    assert customer.email in str(mail["To"])


def test_a_superuser_approves_and_the_customer_gets_both_emails(
    customer_at: tuple[Client, str], superuser: Client, stack: Stack
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    assert superuser.get(f"/activations/{activation_id}/approve").status_code == 202
    shown = customer.wait_for(activation_id, "approved")
    assert shown["decided_by"] == superuser.cpf
    assert [h["to_status"] for h in shown["history"]] == ["pending", "approved"]
    wait_for_mail(stack, activation_id, "aprovado")
    mails = mails_for(stack, activation_id)
    assert len(mails) == 2 and all(customer.email in str(m["To"]) for m in mails)


def test_a_superuser_refuses_with_a_reason_that_reaches_the_customer(
    customer_at: tuple[Client, str], superuser: Client, stack: Stack
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    answer = superuser.post(f"/activations/{activation_id}/refuse", json={"reason": "documentos ilegíveis"})
    assert answer.status_code == 202
    shown = customer.wait_for(activation_id, "refused")
    assert shown["reason"] == "documentos ilegíveis"
    assert shown["history"][-1]["message"] == "documentos ilegíveis"
    mail = wait_for_mail(stack, activation_id, "recusado")
    assert "documentos ilegíveis" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_customer_calling_approve_is_forbidden(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    answer = customer.get(f"/activations/{activation_id}/approve")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_cancelling_someone_elses_activation_is_forbidden(
    customer_at: tuple[Client, str], stack: Stack, http: httpx.Client
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    from tests.integration.conftest import login

    intruder = login(stack, next(u for u in stack.users if u["role"] == "user" and u["cpf"] != customer.cpf), http)
    answer = intruder.get(f"/activations/{activation_id}/cancel")
    assert answer.status_code == 403
    assert intruder.get(f"/activations/{activation_id}").status_code == 403
    customer.wait_for(activation_id, "pending")


def test_a_second_pending_request_at_the_same_company_conflicts(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    answer = customer.get(f"/activations/request?company={company}")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "duplicate_pending"


def test_a_command_on_a_final_activation_is_refused_by_the_api(
    customer_at: tuple[Client, str], superuser: Client
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    superuser.get(f"/activations/{activation_id}/approve")
    customer.wait_for(activation_id, "approved")
    answer = customer.get(f"/activations/{activation_id}/cancel")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "already_final"


def test_a_command_reaching_a_worker_after_the_activation_is_final_is_rejected_in_the_history(
    customer_at: tuple[Client, str], superuser: Client, other_superuser: Client, stack: Stack
) -> None:
    """Given an approved activation, when a refuse the API accepted earlier reaches a worker
    (published here straight to RabbitMQ, as the API had queued it), then it is rejected,
    recorded in the history, and no second decision e-mail is sent."""
    import asyncio
    from datetime import UTC, datetime

    from loadtest.backlog import publish_all
    from models.ids import uuid7
    from models.messages import Command
    from models.state_machine import CommandType

    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    assert superuser.get(f"/activations/{activation_id}/approve").status_code == 202
    customer.wait_for(activation_id, "approved")
    late = Command(id=uuid7(), type=CommandType.REFUSE, activation_id=uuid.UUID(activation_id),
                   actor_cpf=other_superuser.cpf, issued_at=datetime.now(UTC))
    asyncio.run(publish_all(stack.amqp_url, [late]))
    history = customer.wait_for_history(activation_id, 3)
    assert [(h["command"], h["outcome"]) for h in history] == [
        ("request", "applied"), ("approve", "applied"), ("refuse", "rejected")]
    assert history[2]["rejection"] == "already_final" and "already approved" in history[2]["message"]
    assert customer.get(f"/activations/{activation_id}").json()["status"] == "approved"
    wait_for_mail(stack, activation_id, "aprovado")
    assert len(mails_for(stack, activation_id)) == 2  # received + approved, never refused


def test_post_works_like_get_for_commands(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    answer = customer.post("/activations/request", json={"company": company})
    assert answer.status_code == 202
    activation_id = answer.json()["id"]
    customer.wait_for(activation_id, "pending")
    assert customer.post(f"/activations/{activation_id}/cancel").status_code == 202
    customer.wait_for(activation_id, "cancelled")


def test_an_idempotency_key_makes_a_retry_return_the_same_answer(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    headers = {"Idempotency-Key": "retry-me-1"}
    first = customer.get(f"/activations/request?company={company}", headers=headers)
    assert first.status_code == 202, first.text
    customer.wait_for(first.json()["id"], "pending")
    again = customer.get(f"/activations/request?company={company}", headers=headers)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    listed = customer.get(f"/activations?company={company}").json()
    assert listed["total"] == 1


def test_a_keyed_command_sent_by_post_may_be_retried_by_get(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    headers = {"Idempotency-Key": f"either-way-{uuid.uuid4()}"}
    first = customer.post("/activations/request", json={"company": company}, headers=headers)
    again = customer.get(f"/activations/request?company={company}", headers=headers)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def hang_up_after_sending(client: Client, path: str, headers: dict[str, str], after: float) -> None:
    """Send a GET and reset the connection `after` seconds later, before the answer is read."""
    url = client.http.base_url
    lines = [f"GET {path} HTTP/1.1", f"Host: {url.host}", f"Authorization: Bearer {client.token}",
             *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    with socket.create_connection((url.host, url.port or 80)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall("\r\n".join(lines).encode())
        time.sleep(after)


def retry_until_answered(client: Client, path: str, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        answer = client.get(path, headers=headers)
        in_use = answer.status_code == 409 and answer.json()["error"]["code"] == "idempotency_key_in_use"
        if not in_use or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.mark.parametrize("after", [0.0, 0.001, 0.003, 0.008])
def test_a_client_that_hangs_up_gets_the_same_answer_when_it_retries_with_its_key(
    customer_at: tuple[Client, str], after: float
) -> None:
    # Given a request sent with a key whose client hangs up before the answer
    customer, company = customer_at
    path, headers = f"/activations/request?company={company}", {"Idempotency-Key": f"hang-up-{uuid.uuid4()}"}
    hang_up_after_sending(customer, path, headers, after)
    # When it retries with the same key
    answer = retry_until_answered(customer, path, headers)
    # Then it gets the 202 of the one activation made for it
    assert answer.status_code == 202, answer.text
    customer.wait_for(answer.json()["id"], "pending")
    assert customer.get(f"/activations?company={company}").json()["total"] == 1


def test_a_key_whose_first_attempt_died_unanswered_is_taken_over_by_its_retry(
    stack: Stack, customer_at: tuple[Client, str]
) -> None:
    import asyncio

    # Given a key whose first attempt published its command, then died before storing the answer
    customer, company = customer_at
    path, headers = f"/activations/request?company={company}", {"Idempotency-Key": f"died-{uuid.uuid4()}"}
    first = customer.get(path, headers=headers).json()
    customer.wait_for(first["id"], "pending")
    ids = json.dumps({"command_id": first["command_id"], "id": first["id"]})
    forget = "UPDATE idempotency_keys SET status = NULL, body = $3::jsonb, created_at = {} WHERE cpf = $1 AND key = $2"
    args = (customer.cpf, headers["Idempotency-Key"], ids)
    asyncio.run(stack.query(forget.format("now()"), *args))
    # Then a retry while it might still be answering is told to wait
    busy = customer.get(path, headers=headers)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_key_in_use"
    # And one after it was abandoned sends the same command again, which has no second effect
    asyncio.run(stack.query(forget.format("now() - interval '1 hour'"), *args))
    again = customer.get(path, headers=headers)
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["command_id"]) == (first["id"], first["command_id"])
    time.sleep(1.0)
    history = customer.get(f"/activations/{first['id']}").json()["history"]
    assert [(h["command"], h["outcome"]) for h in history] == [("request", "applied")]
    assert customer.get(path, headers=headers).json()["id"] == first["id"]  # now answered, and kept


def test_lists_show_customers_their_own_and_superusers_everything(
    customer_at: tuple[Client, str], superuser: Client
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    mine = customer.get("/activations?status=pending&per_page=100").json()
    assert {a["requester_cpf"] for a in mine["items"]} == {customer.cpf}
    assert activation_id in {a["id"] for a in mine["items"]}
    everything = superuser.get("/activations?per_page=1&page=1").json()
    assert everything["per_page"] == 1 and len(everything["items"]) == 1 and everything["total"] >= mine["total"]


def test_a_list_totals_every_match_on_full_last_and_empty_pages(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    made = []
    for _ in range(2):  # two cancelled and one pending at the one company
        made.append(request(customer, company))
        customer.wait_for(made[-1], "pending")
        assert customer.get(f"/activations/{made[-1]}/cancel").status_code == 202
        customer.wait_for(made[-1], "cancelled")
    made.append(request(customer, company))
    customer.wait_for(made[-1], "pending")

    def page(query: str) -> tuple[list[str], int]:
        body = customer.get(f"/activations?company={company}&{query}").json()
        return [a["id"] for a in body["items"]], body["total"]

    newest_first = made[::-1]
    assert page("per_page=2&page=1") == (newest_first[:2], 3)  # full: counted
    assert page("per_page=2&page=2") == (newest_first[2:], 3)  # the last: known from the page
    assert page("per_page=2&page=3") == ([], 3)  # past the end: counted
    assert page("per_page=3&page=1") == (newest_first, 3)
    assert page("per_page=100") == (newest_first, 3)
    assert page("status=cancelled") == (newest_first[1:], 2)
    assert page("status=approved") == ([], 0)
    assert page("status=approved&page=2") == ([], 0)


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/activations/request", 400, "missing_company"),
    ("/activations/request?company=123", 422, "invalid_cnpj"),
    ("/activations/request?company=11222333000181", 404, "company_not_found"),
    ("/activations/not-a-uuid", 400, "invalid_id"),
    ("/activations/not-a-uuid/cancel", 400, "invalid_id"),
    ("/activations/00000000-0000-4000-8000-000000000000", 404, "not_found"),
    ("/activations/00000000-0000-4000-8000-000000000000/approve", 404, "not_found"),
    ("/activations?status=lost", 422, "invalid_status"),
    ("/activations?per_page=0", 422, "invalid_per_page"),
    ("/activations?page=abc", 422, "invalid_page"),
    ("/activations?company=1", 422, "invalid_cnpj"),
    ("/nowhere", 404, "not_found"),
])
def test_bad_input_gets_the_documented_json_error(superuser: Client, path: str, status: int, code: str) -> None:
    answer = superuser.get(path)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]


def test_a_refusal_reason_that_is_too_long_is_refused(customer_at: tuple[Client, str], superuser: Client) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    answer = superuser.get(f"/activations/{activation_id}/refuse", params={"reason": "x" * 501})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_reason"


def test_health_ready_metrics_and_docs_answer(http: httpx.Client) -> None:
    assert http.get("/health").json() == {"status": "ok"}
    ready = http.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert "api_request_seconds" in http.get("/metrics").text
    assert http.get("/docs").status_code == 200
    spec = http.get("/docs/openapi.json").json()
    assert "/activations/request" in spec["paths"]


def test_a_retried_decision_with_the_same_idempotency_key_gets_the_same_answer_after_it_applied(
    customer_at: tuple[Client, str], superuser: Client
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    headers = {"Idempotency-Key": f"approve-{activation_id}"}
    first = superuser.get(f"/activations/{activation_id}/approve", headers=headers)
    customer.wait_for(activation_id, "approved")
    again = superuser.get(f"/activations/{activation_id}/approve", headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(customer.get(f"/activations/{activation_id}").json()["history"]) == 2


def test_an_idempotency_key_reused_for_another_request_is_refused(
    customer_at: tuple[Client, str], stack: Stack
) -> None:
    customer, company = customer_at
    other = next(c for c in sorted({u["company_cnpj"] for u in stack.users}) if c != company)
    headers = {"Idempotency-Key": f"once-{customer.cpf}-{company}"}
    assert customer.get(f"/activations/request?company={company}", headers=headers).status_code == 202
    answer = customer.get(f"/activations/request?company={other}", headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "idempotency_key_reused"


def test_a_cancel_sent_right_after_a_keyed_request_is_accepted_and_applied_in_order(
    customer_at: tuple[Client, str],
) -> None:
    customer, company = customer_at
    first = customer.get(f"/activations/request?company={company}", headers={"Idempotency-Key": "k-cancel"})
    assert first.status_code == 202, first.text
    activation_id = first.json()["id"]
    cancel = customer.get(f"/activations/{activation_id}/cancel")
    assert cancel.status_code == 202, (cancel.text, customer.get(f"/activations/{activation_id}").text)
    customer.wait_for(activation_id, "cancelled")


@pytest.mark.parametrize("reason", ["bad\x00reason", "bell\x07"])
def test_a_reason_with_control_characters_is_refused(
    customer_at: tuple[Client, str], superuser: Client, reason: str
) -> None:
    customer, company = customer_at
    activation_id = request(customer, company)
    customer.wait_for(activation_id, "pending")
    answer = superuser.get(f"/activations/{activation_id}/refuse", params={"reason": reason})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_reason"
    lone = superuser.post(f"/activations/{activation_id}/refuse", content=b'{"reason": "x\\ud800y"}',
                          headers={"Content-Type": "application/json"})
    assert lone.status_code == 422 and lone.json()["error"]["code"] == "invalid_reason"


@pytest.mark.parametrize("query", ["page=%C2%B2", "per_page=%E2%91%A2", "page=-1"])
def test_non_ascii_digits_in_paging_are_a_422(superuser: Client, query: str) -> None:
    assert superuser.get(f"/activations?{query}").status_code == 422


def test_head_never_runs_a_command(customer_at: tuple[Client, str]) -> None:
    customer, company = customer_at
    answer = customer.http.head(f"/activations/request?company={company}",
                                headers={"Authorization": f"Bearer {customer.token}"})
    assert answer.status_code == 405
    assert customer.get(f"/activations?company={company}").json()["total"] == 0


@pytest.mark.parametrize("body", [None, b"[1]", b'{"refresh_token": 5}'])
def test_a_refresh_without_a_proper_body_is_a_400(superuser: Client, body: bytes | None) -> None:
    answer = superuser.post("/auth/refresh", content=body or b"", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "missing_refresh_token"


def test_a_refreshed_token_carries_the_users_current_rights(stack: Stack, http: httpx.Client) -> None:
    import asyncio

    admin = [u for u in stack.users if u["role"] == "superuser"][-1]
    tokens = http.post("/auth", json={"cpf": admin["cpf"], "password": admin["password"]}).json()
    asyncio.run(stack.query("UPDATE users SET is_superuser = false WHERE cpf = $1", admin["cpf"]))
    try:
        fresh = http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()["access_token"]
        me = http.get("/auth/me", headers={"Authorization": f"Bearer {fresh}"}).json()["me"]
        assert me["superuser"] is False
    finally:
        asyncio.run(stack.query("UPDATE users SET is_superuser = true WHERE cpf = $1", admin["cpf"]))


def test_an_id_from_the_far_future_is_no_activation(customer_at: tuple[Client, str]) -> None:
    customer, _ = customer_at
    for far in ("ffffffff-ffff-7fff-bfff-ffffffffffff", "7fffffff-ffff-7fff-bfff-ffffffffffff"):
        answer = customer.get(f"/activations/{far}/cancel")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", answer.text


def test_a_body_larger_than_any_command_is_refused_with_413(customer_at: tuple[Client, str]) -> None:
    customer, _ = customer_at
    answer = customer.post("/activations/request", content=b'{"company": "' + b"1" * 200_000 + b'"}',
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"


def test_a_token_with_alg_none_is_a_json_401_everywhere(http: httpx.Client, superuser: Client) -> None:
    import base64

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    header, claims = part(b'{"alg": "none", "typ": "JWT"}'), part(b'{"cpf": "1", "exp": 9999999999}')
    forged = f"{header}.{claims}."
    for path in ("/auth/verify", "/auth/me", "/companies"):
        answer = http.get(path, headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401, (path, answer.text)


def test_a_company_added_while_the_api_runs_takes_requests_at_once_and_is_then_listed(
    customer_at: tuple[Client, str], stack: Stack,
) -> None:
    from models.documents import make_cnpj

    customer, _ = customer_at
    # Given the API has loaded its companies
    assert customer.get("/companies").status_code == 200
    # When a company is added behind its back
    cnpj = make_cnpj(987_654_321_000)
    asyncio.run(stack.query("INSERT INTO companies (cnpj, name, created_at) VALUES ($1, 'Nova Parceira Ltda', now())",
                            cnpj))
    # Then a request there is accepted, not refused as an unknown company
    activation_id = request(customer, cnpj)
    assert customer.wait_for(activation_id, "pending")["company"] == {"cnpj": cnpj, "name": "Nova Parceira Ltda"}
    # And the company is listed from then on
    assert cnpj in {c["cnpj"] for c in customer.get("/companies").json()["items"]}


def test_cancelling_an_activation_whose_request_was_rejected_is_refused_by_the_api(
    customer_at: tuple[Client, str], stack: Stack,
) -> None:
    from models.ids import uuid7

    customer, company = customer_at
    # Given a request the workers rejected: a history, but no activation
    activation_id = uuid7()
    asyncio.run(stack.query(
        "INSERT INTO activation_events (activation_id, command_id, command, outcome, actor_cpf, company_cnpj, "
        "reason_code, message, issued_at, created_at) "
        "VALUES ($1, $2, 'request', 'rejected', $3, $4, 'duplicate_pending', 'One is pending already.', now(), now())",
        activation_id, uuid7(), customer.cpf, company))
    # When its requester cancels it, then the API answers at once that it cannot change
    answer = customer.get(f"/activations/{activation_id}/cancel")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "already_final", answer.text
