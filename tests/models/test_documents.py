"""CPF and CNPJ validation and generation."""

from __future__ import annotations

import pytest

from models.documents import (
    cnpj_check_digits,
    cpf_check_digits,
    is_valid_cnpj,
    is_valid_cpf,
    make_cnpj,
    make_cpf,
    normalize,
)


@pytest.mark.parametrize("cpf", ["52998224725", "11144477735", "39053344705"])
def test_known_valid_cpfs_are_accepted(cpf: str) -> None:
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize("cnpj", ["11222333000181", "11444777000161", "06990590000123"])
def test_known_valid_cnpjs_are_accepted(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)


def test_check_digits_are_computed_from_the_base() -> None:
    assert cpf_check_digits("529982247") == "25"
    assert cnpj_check_digits("112223330001") == "81"


@pytest.mark.parametrize(
    "cpf",
    [
        "52998224724",  # wrong second check digit
        "52998224715",  # wrong first check digit
        "5299822472",  # too short
        "529982247250",  # too long
        "",
        "00000000000",
        "11111111111",
        "99999999999",
        "5299822472a",
        "529.982.247-25",  # formatted: callers normalize first
        " 52998224725",
        "5299822472٥",  # a non-ASCII digit
    ],
)
def test_malformed_or_wrong_cpfs_are_rejected(cpf: str) -> None:
    assert not is_valid_cpf(cpf)


@pytest.mark.parametrize(
    "cnpj",
    [
        "11222333000182",
        "11222333000191",
        "1122233300018",
        "112223330001810",
        "00000000000000",
        "11111111111111",
        "1122233300018a",
        "11.222.333/0001-81",
    ],
)
def test_malformed_or_wrong_cnpjs_are_rejected(cnpj: str) -> None:
    assert not is_valid_cnpj(cnpj)


def test_a_cpf_is_not_a_cnpj_and_vice_versa() -> None:
    assert not is_valid_cnpj("52998224725")
    assert not is_valid_cpf("11222333000181")


def test_normalize_strips_the_usual_formatting() -> None:
    assert normalize(" 529.982.247-25 ") == "52998224725"
    assert normalize("11.222.333/0001-81") == "11222333000181"
    assert is_valid_cpf(normalize("529.982.247-25"))


@pytest.mark.parametrize("base", [1, 529982247, 123456780, 999999998])
def test_make_cpf_keeps_the_base_and_validates(base: int) -> None:
    cpf = make_cpf(base)
    assert cpf.startswith(f"{base:09d}")
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize("base", [1, 112223330001, 999999999998])
def test_make_cnpj_keeps_the_base_and_validates(base: int) -> None:
    cnpj = make_cnpj(base)
    assert cnpj.startswith(f"{base:012d}")
    assert is_valid_cnpj(cnpj)


def test_make_cpf_reproduces_a_known_cpf() -> None:
    assert make_cpf(529982247) == "52998224725"
    assert make_cnpj(112223330001) == "11222333000181"


@pytest.mark.parametrize("base", [-1, 10**9, 111111111, 0])
def test_make_cpf_refuses_bases_that_give_no_valid_cpf(base: int) -> None:
    with pytest.raises(ValueError):
        make_cpf(base)


@pytest.mark.parametrize("base", [-1, 10**12, 0])
def test_make_cnpj_refuses_bases_that_give_no_valid_cnpj(base: int) -> None:
    with pytest.raises(ValueError):
        make_cnpj(base)
