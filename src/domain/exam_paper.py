"""The exam paper: questions of three kinds and the order each attempt presents them in.

The order comes from a seed recorded when the exam begins, through a hash rather than a
random generator, so that a replay years later, on any Python, shows exactly what the
candidate saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidArgument


class QuestionKind(StrEnum):
    """Single choice, multiple choice, or a short typed answer."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    SHORT = "short"


class Matching(StrEnum):
    """How a short answer is compared: to the letter, or ignoring case, accents, spaces."""

    EXACT = "exact"
    NORMALISED = "normalised"


@dataclass(frozen=True)
class Choice:
    """One proposed answer of a choice question."""

    choice_id: str
    text: str


@dataclass(frozen=True)
class Question:
    """A question with its expected answer: choice ids, or the accepted short answers."""

    question_id: str
    section: str
    expected: tuple[str, ...]
    points: int = 1
    kind: QuestionKind = QuestionKind.SHORT
    prompt: str = ""
    choices: tuple[Choice, ...] = ()
    matching: Matching = Matching.NORMALISED

    def __post_init__(self) -> None:
        where = f"question {self.question_id!r}"
        if not self.question_id or not self.section:
            raise InvalidArgument("question", f"{where} needs an id and a section")
        if self.points < 1:
            raise InvalidArgument("points", f"{where} is worth at least one point")
        ids = [c.choice_id for c in self.choices]
        if len(set(ids)) != len(ids):
            raise InvalidArgument("choices", f"{where} repeats a choice id")
        if self.kind is QuestionKind.SHORT:
            if self.choices or not self.expected:
                raise InvalidArgument("expected", f"{where}: a short answer lists accepted texts")
        else:
            if len(self.choices) < 2:
                raise InvalidArgument("choices", f"{where} needs at least two choices")
            if not self.expected or not set(self.expected) <= set(ids):
                raise InvalidArgument("expected", f"{where}: expected answers must be choice ids")
            if self.kind is QuestionKind.SINGLE and len(self.expected) != 1:
                raise InvalidArgument("expected", f"{where}: a single choice has one answer")


@dataclass(frozen=True)
class ExamPaper:
    """A certification's question bank, identified by the hash of its content."""

    bank_id: str
    content_hash: str
    questions: tuple[Question, ...]

    def __post_init__(self) -> None:
        ids = [q.question_id for q in self.questions]
        if not ids:
            raise InvalidArgument("questions", f"the bank {self.bank_id!r} has no question")
        if len(set(ids)) != len(ids):
            raise InvalidArgument("questions", f"the bank {self.bank_id!r} repeats a question id")

    @property
    def question_ids(self) -> tuple[str, ...]:
        """The questions in the bank's own order."""
        return tuple(q.question_id for q in self.questions)

    def question(self, question_id: str) -> Question:
        """One question by id."""
        for question in self.questions:
            if question.question_id == question_id:
                return question
        raise InvalidArgument("question_id", f"no question {question_id!r} in {self.bank_id}")


def _rank(seed: str, key: str) -> bytes:
    return hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()


def presentation_order(ids: Sequence[str], seed: str) -> tuple[str, ...]:
    """The order an attempt shows: a permutation fixed by the seed alone."""
    return tuple(sorted(ids, key=lambda key: _rank(seed, key)))


def choice_order(question: Question, seed: str) -> tuple[Choice, ...]:
    """The choices' order for this attempt (fixed by the seed and the question)."""
    return tuple(
        sorted(question.choices, key=lambda c: _rank(seed, f"{question.question_id}/{c.choice_id}"))
    )
