"""The certification catalogue: what an operator loads (a built-in demo certification now)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from domain.errors import InvalidArgument
from domain.scoring import KeyedQuestion


@dataclass(frozen=True)
class Certification:
    """A certification's code, title, duration (R4), pass mark and practice offer (R12)."""

    code: str
    title: str
    language: str
    duration_minutes: int
    pass_mark_percent: int
    practice_offered: bool
    questions: tuple[KeyedQuestion, ...]


ACCESS = Certification(
    code="ENI-ACCESS",
    title="Certification Bureautique Access",
    language="fr",
    duration_minutes=90,
    pass_mark_percent=70,
    practice_offered=True,
    questions=(
        KeyedQuestion("q1", "Tables", ("clé primaire", "cle primaire")),
        KeyedQuestion("q2", "Tables", ("texte court",)),
        KeyedQuestion("q3", "Requêtes", ("requête sélection", "requete selection")),
        KeyedQuestion("q4", "Requêtes", ("regroupement",)),
        KeyedQuestion("q5", "Formulaires", ("mode création", "mode creation")),
    ),
)


class Catalogue:
    """Certifications by code."""

    def __init__(self, *certifications: Certification) -> None:
        self._by_code = {c.code: c for c in certifications}

    def get(self, code: str) -> Certification:
        """The certification with that code; a clear error otherwise."""
        try:
            return self._by_code[code]
        except KeyError:
            known = ", ".join(sorted(self._by_code)) or "none"
            raise InvalidArgument(
                "certification_code", f"unknown certification {code!r} (known: {known})"
            ) from None

    def __iter__(self) -> Iterator[Certification]:
        return iter(self._by_code.values())


def default_catalogue() -> Catalogue:
    """The catalogue shipped for demos and tests."""
    return Catalogue(ACCESS)
