"""Scoring: a pure function from the answers given and the paper to detailed results."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.exam_paper import Matching, Question, QuestionKind

# The first exam engine called a keyed short-answer question this; it is the same value.
KeyedQuestion = Question


@dataclass(frozen=True)
class GivenAnswer:
    """What the candidate gave: a typed text, or the ids of the ticked choices."""

    text: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionResult:
    """A section's points in the detailed results (R18)."""

    section: str
    score: int
    max_score: int


@dataclass(frozen=True)
class Results:
    """Detailed results shown full screen at the end of the exam (R18), with the pass mark
    they were scored against: a later catalogue may change it, and a result mail or a page
    read years later must give the mark that decided `passed` (None: scored before the mark
    was recorded with them, where only the catalogue can tell)."""

    score: int
    max_score: int
    passed: bool
    sections: tuple[SectionResult, ...]
    pass_mark_percent: int | None = None

    def pass_mark(self, today: int | None) -> int | None:
        """The mark these results were scored against; `today`'s (the catalogue's now) for
        results recorded without it."""
        return self.pass_mark_percent if self.pass_mark_percent is not None else today


def normalise(text: str) -> str:
    """Case, accents and inner spaces do not change a short answer."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def is_answered(given: GivenAnswer) -> bool:
    """A text typed (not only spaces) or a choice ticked."""
    return bool(given.text.strip() or given.choices)


def is_correct(question: Question, given: GivenAnswer) -> bool:
    """Single: the one right choice; multiple: exactly the right set; short: a match."""
    if question.kind is QuestionKind.SHORT:
        if not given.text.strip():
            return False
        if question.matching is Matching.EXACT:
            return given.text.strip() in {e.strip() for e in question.expected}
        return normalise(given.text) in {normalise(e) for e in question.expected}
    if question.kind is QuestionKind.SINGLE:
        return given.choices == question.expected
    return bool(given.choices) and set(given.choices) == set(question.expected)


def points_needed(max_score: int, pass_mark_percent: int) -> int:
    """The fewest points that pass: the pass mark's share of the maximum, rounded up, as
    `score` decides (7 of 10 at 70 %)."""
    return -(-pass_mark_percent * max_score // 100)


def score(
    answers: Mapping[str, GivenAnswer | str],
    questions: Sequence[Question],
    pass_mark_percent: int,
) -> Results:
    """Score the last answer given to each question; a question left blank scores nothing."""
    sections: dict[str, list[int]] = {}
    for question in questions:
        got, most = sections.setdefault(question.section, [0, 0])
        given = answers.get(question.question_id, GivenAnswer())
        if isinstance(given, str):
            given = GivenAnswer(text=given)
        won = question.points if is_correct(question, given) else 0
        sections[question.section] = [got + won, most + question.points]
    results = tuple(SectionResult(name, got, most) for name, (got, most) in sections.items())
    total = sum(r.score for r in results)
    most = sum(r.max_score for r in results)
    passed = most > 0 and total * 100 >= pass_mark_percent * most
    return Results(
        score=total,
        max_score=most,
        passed=passed,
        sections=results,
        pass_mark_percent=pass_mark_percent,
    )
