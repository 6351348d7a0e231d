"""The exam engine's properties: deterministic scoring, orders fixed by the seed, banks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.catalogue import BankError, default_catalogue, load_folder, parse_certification
from domain.exam_attempt import ExamAttempt, ExamWindow
from domain.exam_paper import Choice, Question, QuestionKind, choice_order, presentation_order
from domain.rules import CURRENT_RULES
from domain.scoring import GivenAnswer, is_correct, score

PAPER = default_catalogue().get("ENI-ACCESS").paper
PARIS = ZoneInfo("Europe/Paris")
WINDOW = ExamWindow(last_day=date(2025, 4, 27), valid_until=date(2025, 2, 11))  # R1/R3

answers_strategy = st.dictionaries(
    st.sampled_from(PAPER.question_ids),
    st.builds(
        GivenAnswer,
        text=st.sampled_from(["", "taille du champ", "1-N", "[", "Pied de groupe", "x"]),
        choices=st.lists(st.sampled_from("abcd"), unique=True, max_size=4).map(tuple),
    ),
)


@settings(max_examples=200)
@given(answers_strategy, st.integers(1, 100))
def test_scoring_is_deterministic_bounded_and_ignores_the_order_answers_came_in(
    answers: dict[str, GivenAnswer], pass_mark: int
) -> None:
    results = score(answers, PAPER.questions, pass_mark)
    again = score(dict(reversed(list(answers.items()))), PAPER.questions, pass_mark)
    assert results == again
    assert 0 <= results.score <= results.max_score == sum(q.points for q in PAPER.questions)
    assert results.score == sum(s.score for s in results.sections)
    assert results.passed == (results.score * 100 >= pass_mark * results.max_score)


def test_the_expected_answers_score_full_marks_and_none_scores_zero() -> None:
    right = {
        q.question_id: (
            GivenAnswer(text=q.expected[0])
            if q.kind is QuestionKind.SHORT
            else GivenAnswer(choices=q.expected)
        )
        for q in PAPER.questions
    }
    assert score(right, PAPER.questions, 70).score == 10
    assert score({}, PAPER.questions, 70).score == 0


def test_short_answers_match_normalised_or_exactly_as_the_bank_says() -> None:
    normalised = PAPER.question("tables-taille")
    assert is_correct(normalised, GivenAnswer(text="  TAILLE   du champ "))
    exact = PAPER.question("requetes-parametre")
    assert is_correct(exact, GivenAnswer(text="["))
    assert not is_correct(exact, GivenAnswer(text="]"))
    multiple = PAPER.question("tables-types")
    assert is_correct(multiple, GivenAnswer(choices=("d", "a", "b")))
    assert not is_correct(multiple, GivenAnswer(choices=("a", "b")))  # all or nothing


@settings(max_examples=200)
@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=30), st.text(max_size=16))
def test_the_presentation_order_is_a_permutation_fixed_by_the_seed(
    ids: list[str], seed: str
) -> None:
    order = presentation_order(ids, seed)
    assert sorted(order) == sorted(ids)
    assert presentation_order(list(reversed(ids)), seed) == order  # the seed alone decides


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=32))
def test_a_replayed_attempt_shows_the_same_questions_in_the_same_order(seed: str) -> None:
    at = datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)
    attempt = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="ENI-ACCESS",
        duration_minutes=90,
        practice_offered=False,
        rules=CURRENT_RULES,
        at=at,
        question_ids=PAPER.question_ids,
        bank_hash=PAPER.content_hash,
    )
    attempt.select_tile(at=at, certification_code="ENI-ACCESS", profile_complete=True)
    attempt.start_now(at=at)
    attempt.workspace_connected(at=at, workspace_ref="w", url="u")
    attempt.begin(at=at, window=WINDOW, seed=seed)
    replayed = None
    for event in attempt.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, ExamAttempt)
    assert (
        replayed.question_order
        == attempt.question_order
        == presentation_order(PAPER.question_ids, seed)
    )
    for question in PAPER.questions:
        assert choice_order(question, replayed.seed) == choice_order(question, seed)


def test_choice_orders_differ_between_seeds_but_keep_every_choice() -> None:
    question = Question(
        "q",
        "s",
        ("a",),
        kind=QuestionKind.SINGLE,
        choices=tuple(Choice(c, c.upper()) for c in "abcdef"),
    )
    orders = {choice_order(question, str(seed)) for seed in range(20)}
    assert len(orders) > 1
    assert all(sorted(c.choice_id for c in order) == list("abcdef") for order in orders)


@pytest.mark.parametrize(
    ("bank", "names"),
    [
        (b"not toml [", "not a TOML file"),
        (
            b"[certification]\ncode='X'\ntitle='T'\nduration_minutes=200\n"
            b"[[questions]]\nid='q'\nsection='s'\naccept=['a']\n",
            "R4",
        ),
        (
            b"[certification]\ncode='X'\ntitle='T'\nduration_minutes=60\n"
            b"[[questions]]\nid='q'\nsection='s'\nkind='single'\nanswer=['z']\n"
            b"choices=[{id='a', text='A'}, {id='b', text='B'}]\n",
            "question 1",
        ),
        (
            b"[certification]\ncode='X'\ntitle='T'\nduration_minutes=60\n"
            b"[[questions]]\nsection='s'\naccept=['a']\n",
            "missing field 'id'",
        ),
        (b"[certification]\ncode='X'\ntitle='T'\nduration_minutes=60\n", "no question"),
    ],
)
def test_a_malformed_bank_is_refused_naming_the_file_and_the_field(bank: bytes, names: str) -> None:
    with pytest.raises(BankError, match=names) as refused:
        parse_certification(bank, "bank.toml")
    assert "bank.toml" in str(refused.value)


def test_an_operators_folder_of_banks_loads_with_its_practice_file(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "src" / "app" / "catalogue_data"
    for name in ("eni-access.toml", "eni-access-practice.toml"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    certification = load_folder(tmp_path).get("ENI-ACCESS")
    assert certification.practice is not None and len(certification.questions) == 10
    assert certification.paper.content_hash == PAPER.content_hash
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BankError, match="no certification file"):
        load_folder(empty)
