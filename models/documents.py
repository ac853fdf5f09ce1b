"""Brazilian tax ids: CPF (people, 11 digits) and CNPJ (companies, 14 digits).

Both end in two check digits computed the same way (a weighted sum modulo 11); only
the weights differ. Everything here is pure and works on plain digit strings: callers
strip formatting (``529.982.247-25``) with `normalize` first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

CPF_LENGTH = 11
CNPJ_LENGTH = 14

# Weights for the first check digit; the second digit uses the same series prefixed by
# the next weight (CPF counts down from 11, CNPJ's series restarts at 9 after 2).
_CPF_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)

# ASCII digits only: str.isdigit() would also accept "²" or Arabic-Indic digits.
_DIGITS = re.compile(r"[0-9]+")
_FORMATTING = re.compile(r"[.\-/\s]")


def normalize(raw: str) -> str:
    """Strip the usual formatting (dots, dashes, slashes, spaces) from a typed CPF or CNPJ."""
    return _FORMATTING.sub("", raw)


def _check_digit(digits: str, weights: Sequence[int]) -> str:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


@functools.lru_cache(maxsize=8192)
def cpf_check_digits(base9: str) -> str:
    """The two check digits that complete the 9-digit CPF base `base9`."""
    first = _check_digit(base9, _CPF_WEIGHTS)
    second = _check_digit(base9 + first, (11, *_CPF_WEIGHTS))
    return first + second


@functools.lru_cache(maxsize=8192)
def cnpj_check_digits(base12: str) -> str:
    """The two check digits that complete the 12-digit CNPJ base `base12`."""
    first = _check_digit(base12, _CNPJ_WEIGHTS)
    second = _check_digit(base12 + first, (6, *_CNPJ_WEIGHTS))
    return first + second


def _well_formed(value: object, length: int) -> bool:
    # A number made of one repeated digit passes the arithmetic but is never issued.
    return (
        isinstance(value, str)
        and len(value) == length
        and _DIGITS.fullmatch(value) is not None
        and len(set(value)) > 1
    )


def is_valid_cpf(value: str) -> bool:
    """Whether `value` is an 11-digit CPF with correct check digits (digits only)."""
    return _well_formed(value, CPF_LENGTH) and cpf_check_digits(value[:9]) == value[9:]


def is_valid_cnpj(value: str) -> bool:
    """Whether `value` is a 14-digit CNPJ with correct check digits (digits only)."""
    return _well_formed(value, CNPJ_LENGTH) and cnpj_check_digits(value[:12]) == value[12:]


def make_cpf(base9: int) -> str:
    """A valid CPF built from the number `base9` (0 ≤ base9 < 10⁹) plus its check digits."""
    if not 0 <= base9 < 10**9:
        raise ValueError(f"A CPF base has 9 digits; {base9} does not fit.")
    base = f"{base9:09d}"
    cpf = base + cpf_check_digits(base)
    if not is_valid_cpf(cpf):
        raise ValueError(f"The CPF base {base} gives the repeated-digit number {cpf}, never issued.")
    return cpf


def make_cnpj(base12: int) -> str:
    """A valid CNPJ built from the number `base12` (0 ≤ base12 < 10¹²) plus its check digits."""
    if not 0 <= base12 < 10**12:
        raise ValueError(f"A CNPJ base has 12 digits; {base12} does not fit.")
    base = f"{base12:012d}"
    cnpj = base + cnpj_check_digits(base)
    if not is_valid_cnpj(cnpj):
        raise ValueError(f"The CNPJ base {base} gives the repeated-digit number {cnpj}, never issued.")
    return cnpj
