"""Which customers and companies a backlog picks, and the seed that picks them."""

from __future__ import annotations

from pathlib import Path

from loadtest.backlog import arguments, read_users, spread_requests

USERS = read_users(str(Path(__file__).parents[2] / "loadtest" / "users.csv"))


def pairs(seed: int) -> list[tuple[str, str | None]]:
    return [(c.actor_cpf, c.company_cnpj) for c in spread_requests(USERS, 200, seed=seed)]


def test_the_same_seed_picks_the_same_customers_and_companies() -> None:
    assert pairs(42) == pairs(42)


def test_another_seed_picks_other_customers_and_companies() -> None:
    assert pairs(42) != pairs(43)


def test_a_given_seed_is_kept() -> None:
    assert arguments(["--seed", "42"]).seed == 42


def test_without_a_seed_each_run_gets_a_new_one() -> None:
    # Two draws may collide by chance (one in a million); ten all alike will not.
    assert len({arguments([]).seed for _ in range(10)}) > 1
