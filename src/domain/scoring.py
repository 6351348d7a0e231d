"""Scoring: a pure function from answers and an answer key to detailed results."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyedQuestion:
    """One question's expected answer and its section; the answer compares normalised."""

    question_id: str
    section: str
    expected: tuple[str, ...]
    points: int = 1


@dataclass(frozen=True)
class SectionResult:
    """A section's points in the detailed results (R18)."""

    section: str
    score: int
    max_score: int


@dataclass(frozen=True)
class Results:
    """Detailed results shown full screen at the end of the exam (R18)."""

    score: int
    max_score: int
    passed: bool
    sections: tuple[SectionResult, ...]


def normalise(text: str) -> str:
    """Case, accents and inner spaces do not change a short answer."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def score(
    answers: Mapping[str, str], key: Sequence[KeyedQuestion], pass_mark_percent: int
) -> Results:
    """Score the last answer given to each question; a question left blank scores nothing."""
    sections: dict[str, list[int]] = {}
    for question in key:
        got, most = sections.setdefault(question.section, [0, 0])
        expected = {normalise(e) for e in question.expected}
        given = normalise(answers.get(question.question_id, ""))
        won = question.points if given and given in expected else 0
        sections[question.section] = [got + won, most + question.points]
    results = tuple(SectionResult(name, got, most) for name, (got, most) in sections.items())
    total = sum(r.score for r in results)
    most = sum(r.max_score for r in results)
    passed = most > 0 and total * 100 >= pass_mark_percent * most
    return Results(score=total, max_score=most, passed=passed, sections=results)
