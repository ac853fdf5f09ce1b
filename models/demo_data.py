"""Demo data: the same companies, customers and passwords on every machine.

Nothing here is random. Every CPF, CNPJ, name and e-mail is derived arithmetically
from the row's position, so the README, the load test and every developer's database
agree without sharing a file. Only reserved e-mail domains (RFC 2606) are used, so a
misconfigured SMTP relay can never reach a real person.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from models.documents import make_cnpj, make_cpf

DEMO_USER_PASSWORD = "cliente123"
"""The password of every demo customer."""

DEMO_SUPERUSER_PASSWORD = "admin123"
"""The password of every demo super-user."""

EMAIL_DOMAIN = "example.com"

# n -> (OFFSET + n * STEP) mod 10^k is a bijection because STEP is coprime to 10, so
# ids never collide; the constants just make neighbours look unrelated. The first
# CPF base made of one repeated digit (never issued) is at n = 169,582,116.
_CPF_OFFSET, _CPF_STEP = 283_164_907, 7_919_837
_CNPJ_ROOT_OFFSET, _CNPJ_ROOT_STEP = 27_865_757, 3_217_153
_CNPJ_BRANCH = 1  # every demo company is a head office: branch "0001"
# A user's number is company * _STRIDE + position, so user j of company c keeps its CPF
# whatever `per_company` a caller asks for (a small test seed is a prefix of the full one).
_STRIDE = 10_000
MAX_COMPANIES = 10_000  # keeps every user number below that first repeated-digit base

_SECTORS = (
    "Transportes", "Comércio", "Indústria", "Distribuidora", "Construtora",
    "Agropecuária", "Farmácia", "Supermercados", "Energia", "Têxtil",
)  # fmt: skip
# 31 words: coprime with the 10 sectors, so names repeat only after 310 companies.
_PLACES = (
    "Aurora", "Boa Vista", "Cruzeiro", "Estrela do Sul", "Horizonte", "Ipê", "Jacarandá",
    "Litoral", "Mantiqueira", "Nordeste", "Paraná", "Pioneira", "Primavera", "Serra Azul",
    "Sol Nascente", "Tupã", "Vale Verde", "Araucária", "Bandeirante", "Capixaba", "Cerrado",
    "Guanabara", "Itapuã", "Jequitibá", "Maracanã", "Pampa", "Pantanal", "Paraíso", "Ribeira",
    "Tropical", "Xingu",
)  # fmt: skip
_LEGAL_FORMS = ("Ltda", "S.A.", "Ltda")

# 37 first names and 41 surnames (both prime) so combinations cycle slowly.
_FIRST_NAMES = (
    "Ana", "Beatriz", "Bruno", "Camila", "Carlos", "Cecília", "Daniel", "Eduarda", "Fábio",
    "Fernanda", "Gabriel", "Gustavo", "Helena", "Igor", "Isabela", "João", "Júlia", "Larissa",
    "Leonardo", "Luana", "Lucas", "Marcos", "Mariana", "Matheus", "Natália", "Otávio", "Paula",
    "Pedro", "Rafael", "Renata", "Rodrigo", "Sérgio", "Tatiana", "Thiago", "Valéria", "Vinícius",
    "Yasmin",
)  # fmt: skip
_SURNAMES = (
    "Almeida", "Alves", "Araújo", "Barbosa", "Barros", "Cardoso", "Carvalho", "Castro",
    "Cavalcanti", "Correia", "Costa", "Dias", "Fernandes", "Ferreira", "Gomes", "Lima",
    "Machado", "Martins", "Melo", "Mendes", "Monteiro", "Moreira", "Nascimento", "Nogueira",
    "Oliveira", "Pereira", "Pinto", "Ramos", "Ribeiro", "Rocha", "Rodrigues", "Santos",
    "Silva", "Soares", "Sousa", "Teixeira", "Vieira", "Azevedo", "Freitas", "Campos", "Lopes",
)  # fmt: skip


@dataclass(frozen=True)
class DemoCompany:
    """One demo partner company."""

    cnpj: str
    name: str


@dataclass(frozen=True)
class DemoUser:
    """One demo customer or super-user, with the plain-text password it logs in with."""

    cpf: str
    name: str
    email: str
    company_cnpj: str
    is_superuser: bool
    password: str

    @property
    def role(self) -> str:
        """`superuser` or `user`, as written in the load-test credentials file."""
        return "superuser" if self.is_superuser else "user"


def _ascii(text: str) -> str:
    # E-mail local parts stay ASCII: "João" becomes "joao".
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower().replace(" ", "")


def company_name(i: int) -> str:
    """The name of the i-th demo company, e.g. "Transportes Aurora Ltda"."""
    name = f"{_SECTORS[i % len(_SECTORS)]} {_PLACES[i % len(_PLACES)]}"
    cycle = len(_SECTORS) * len(_PLACES)
    if i >= cycle:
        name += f" {i // cycle + 1}"
    return f"{name} {_LEGAL_FORMS[i % len(_LEGAL_FORMS)]}"


def companies(count: int = 30) -> list[DemoCompany]:
    """The first `count` demo companies, always the same ones in the same order."""
    result = []
    for i in range(count):
        root = (_CNPJ_ROOT_OFFSET + i * _CNPJ_ROOT_STEP) % 10**8
        result.append(DemoCompany(cnpj=make_cnpj(root * 10**4 + _CNPJ_BRANCH), name=company_name(i)))
    return result


def _person(n: int) -> tuple[str, str]:
    """The full name and e-mail of demo user number `n`."""
    first = _FIRST_NAMES[n % len(_FIRST_NAMES)]
    last = _SURNAMES[n % len(_SURNAMES)]
    # An offset of 1..40 keeps the middle surname different from the last one.
    middle = _SURNAMES[(n + 1 + (n // len(_SURNAMES)) % (len(_SURNAMES) - 1)) % len(_SURNAMES)]
    email = f"{_ascii(first)}.{_ascii(last)}.{n + 1}@{EMAIL_DOMAIN}"
    return f"{first} {middle} {last}", email


def users(companies: list[DemoCompany], per_company: int = 200, superusers: int = 10) -> list[DemoUser]:
    """`per_company` users for each company, company by company; `superusers` of them decide.

    Super-users are spread round-robin: the first user of each of the first ten
    companies with the defaults.
    """
    if len(companies) > MAX_COMPANIES or not 0 <= per_company <= _STRIDE:
        raise ValueError(
            f"The demo data supports up to {MAX_COMPANIES} companies of up to {_STRIDE} users each."
        )
    total = len(companies) * per_company
    if not 0 <= superusers <= total:
        raise ValueError(f"Cannot make {superusers} super-users out of {total} users.")
    chosen = {(k % len(companies), k // len(companies)) for k in range(superusers)}
    result = []
    for c, company in enumerate(companies):
        for j in range(per_company):
            n = c * _STRIDE + j
            name, email = _person(n)
            is_superuser = (c, j) in chosen
            result.append(
                DemoUser(
                    cpf=make_cpf((_CPF_OFFSET + n * _CPF_STEP) % 10**9),
                    name=name,
                    email=email,
                    company_cnpj=company.cnpj,
                    is_superuser=is_superuser,
                    password=DEMO_SUPERUSER_PASSWORD if is_superuser else DEMO_USER_PASSWORD,
                )
            )
    return result
