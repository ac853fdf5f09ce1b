"""The demo data: sizes, validity, uniqueness and determinism."""

from __future__ import annotations

import pytest

from models import demo_data
from models.demo_data import DEMO_SUPERUSER_PASSWORD, DEMO_USER_PASSWORD, DemoCompany, DemoUser
from models.documents import is_valid_cnpj, is_valid_cpf


@pytest.fixture(scope="module")
def companies() -> list[DemoCompany]:
    return demo_data.companies()


@pytest.fixture(scope="module")
def users(companies: list[DemoCompany]) -> list[DemoUser]:
    return demo_data.users(companies)


def test_there_are_30_companies_with_valid_unique_cnpjs_and_names(companies: list[DemoCompany]) -> None:
    assert len(companies) == 30
    assert all(is_valid_cnpj(c.cnpj) for c in companies)
    assert len({c.cnpj for c in companies}) == 30
    assert len({c.name for c in companies}) == 30


def test_company_names_sound_like_brazilian_companies(companies: list[DemoCompany]) -> None:
    assert companies[0].name == "Transportes Aurora Ltda"
    assert all(c.name.endswith(("Ltda", "S.A.")) for c in companies)


def test_there_are_200_users_per_company_6000_in_all(
    companies: list[DemoCompany], users: list[DemoUser]
) -> None:
    assert len(users) == 6000
    for company in companies:
        assert sum(u.company_cnpj == company.cnpj for u in users) == 200


def test_exactly_10_super_users_each_in_a_different_company(users: list[DemoUser]) -> None:
    superusers = [u for u in users if u.is_superuser]
    assert len(superusers) == 10
    assert len({u.company_cnpj for u in superusers}) == 10


def test_every_cpf_is_valid_and_unique(users: list[DemoUser]) -> None:
    assert all(is_valid_cpf(u.cpf) for u in users)
    assert len({u.cpf for u in users}) == len(users)


def test_every_email_is_unique_ascii_and_on_a_reserved_domain(users: list[DemoUser]) -> None:
    assert len({u.email for u in users}) == len(users)
    for u in users:
        assert u.email.isascii()
        local, _, domain = u.email.partition("@")
        assert domain in {"example.com", "example.org"}
        assert local.count(".") == 2


def test_every_user_has_a_full_name(users: list[DemoUser]) -> None:
    assert all(len(u.name.split()) >= 2 for u in users)


def test_customers_and_super_users_share_their_documented_passwords(users: list[DemoUser]) -> None:
    for u in users:
        assert u.password == (DEMO_SUPERUSER_PASSWORD if u.is_superuser else DEMO_USER_PASSWORD)
        assert u.role == ("superuser" if u.is_superuser else "user")


def test_two_calls_give_the_same_data(companies: list[DemoCompany], users: list[DemoUser]) -> None:
    assert demo_data.companies() == companies
    assert demo_data.users(demo_data.companies()) == users


def test_a_small_seed_is_a_prefix_of_the_full_one(users: list[DemoUser]) -> None:
    small = demo_data.users(demo_data.companies(2), per_company=3, superusers=1)
    full = {u.cpf: u for u in users}
    assert len(small) == 6
    assert [u.is_superuser for u in small] == [True, False, False, False, False, False]
    for u in small:
        assert full[u.cpf].company_cnpj == u.company_cnpj
        assert full[u.cpf].email == u.email


def test_asking_for_more_super_users_than_users_is_refused() -> None:
    with pytest.raises(ValueError):
        demo_data.users(demo_data.companies(1), per_company=2, superusers=3)
