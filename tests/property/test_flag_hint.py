"""FLAG-HINT and a decision's problems, as properties of the review aggregate: a flag is a
hint, never a verdict (design/product.md); invalidating a « validée » recommendation on a
reason that rests on flags alone takes written reasons from rules-2026-12-flag-hint on, and
never under a rule set frozen before it. `decide` refuses with exactly the problems
`decision_problems` lists, all of them at once, and records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.evidence import Evidence, EvidenceKind, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.review import CitedReason, DecisionRefused, Problem, Review
from domain.rules import RULE_SETS, RuleSet, count_words

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EXAMINER = uuid4()
MINUTE = timedelta(minutes=1)
WORDS = ("she", "reads", "from", "a", "phone", "held", "under", "the", "desk", "for")
WORDS += ("two", "long", "minutes")


def review_of(rules: RuleSet, *, flags: int, photos: bool) -> Review:
    """An exam with its photos (or without the ID photo: an R9 ground) and `flags` detector
    flags during it, recommended and assigned."""
    review = Review.open(
        review_id=uuid4(),
        session_id=uuid4(),
        attempt_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE",
        rules=rules,
        at=T0,
    )
    items = [
        Evidence("s/1", EvidenceKind.SESSION_ENTERED, T0),
        Evidence("s/2", EvidenceKind.FACE_PHOTO_CONFIRMED, T0 + MINUTE),
        Evidence("a/3", EvidenceKind.EXAM_BEGUN, T0 + 10 * MINUTE),
        Evidence("a/9", EvidenceKind.EXAM_VALIDATED, T0 + 70 * MINUTE),
    ]
    if photos:
        items.append(Evidence("s/4", EvidenceKind.ID_PHOTO_CONFIRMED, T0 + 2 * MINUTE))
    items += [
        Evidence(
            f"f/{i}",
            EvidenceKind.FLAG_RAISED,
            T0 + (20 + i) * MINUTE,
            span=MediaSpan(1200.0 + 60 * i, 1210.0 + 60 * i),
            flag=FlagKind.PHONE,
            confidence=0.9,
        )
        for i in range(flags)
    ]
    review.gather_evidence(at=T0, items=tuple(items))
    review.recommend(at=T0)
    review.assign(at=T0, examiner_id=EXAMINER)
    return review


cited_reasons = st.lists(
    st.tuples(
        st.sampled_from([r for r in ReasonCode if r is not ReasonCode.OTHER_RULE_BREACH]),
        st.lists(st.sampled_from(["f/0", "f/1", "a/3", "s/2", "x/404"]), max_size=3, unique=True),
        st.integers(min_value=0, max_value=len(WORDS)),
    ),
    max_size=3,
    unique_by=lambda t: t[0],
)


@settings(max_examples=200, deadline=None)
@given(
    rules=st.sampled_from(sorted(RULE_SETS.values(), key=lambda r: r.version)),
    photos=st.booleans(),
    reasons=cited_reasons,
)
def test_flag_hint_asks_for_words_exactly_when_flags_alone_stand_against_a_validation(
    rules: RuleSet,
    photos: bool,
    reasons: list[tuple[ReasonCode, list[str], int]],
) -> None:
    review = review_of(rules, flags=2, photos=photos)
    assert review.recommendation is not None
    cited = tuple(CitedReason(code, tuple(ids), " ".join(WORDS[:n])) for code, ids, n in reasons)
    problems = review.decision_problems(verdict=Verdict.INVALIDATED, reasons=cited)
    flagged = {p.reason for p in problems if p.rule == "FLAG-HINT"}
    needed = rules.flag_hint_justification_min_words
    expected = {
        c.reason
        for c in cited
        if needed is not None
        and review.recommendation.verdict is Verdict.VALIDATED
        and c.evidence_ids
        and all(e.startswith("f/") for e in c.evidence_ids)
        and count_words(c.justification) < needed
    }
    assert flagged == expected
    # Only the current rule set asks; every older one decides as it always did.
    assert needed is None or rules.version == "rules-2026-12-flag-hint"
    for p in problems:
        if p.rule == "FLAG-HINT":
            assert p.problem is Problem.FLAG_UNJUSTIFIED and p.needed == needed


@settings(max_examples=200, deadline=None)
@given(
    rules=st.sampled_from(sorted(RULE_SETS.values(), key=lambda r: r.version)),
    photos=st.booleans(),
    verdict=st.sampled_from(Verdict),
    reasons=cited_reasons,
    excuse=st.booleans(),
)
def test_decide_refuses_with_every_problem_listed_and_records_nothing_or_records_the_decision(
    rules: RuleSet,
    photos: bool,
    verdict: Verdict,
    reasons: list[tuple[ReasonCode, list[str], int]],
    excuse: bool,
) -> None:
    review = review_of(rules, flags=2, photos=photos)
    cited = tuple(CitedReason(code, tuple(ids), " ".join(WORDS[:n])) for code, ids, n in reasons)
    excused = (CitedReason(ReasonCode.PHONE_USED, ("f/0",)),) if excuse else ()
    listed = review.decision_problems(verdict=verdict, reasons=cited, excused=excused)
    # Pure: asked twice, the same answer.
    assert listed == review.decision_problems(verdict=verdict, reasons=cited, excused=excused)
    review.collect_events()
    if listed:
        with pytest.raises(DecisionRefused) as refused:
            review.decide(
                at=T0, examiner_id=EXAMINER, verdict=verdict, reasons=cited, excused=excused
            )
        assert refused.value.problems == listed  # all of them, at once
        assert (refused.value.rule, refused.value.field) == (listed[0].rule, listed[0].field)
        assert len(set(listed)) == len(listed)  # each once
        assert review.collect_events() == [] and review.verdict is None
    else:
        review.decide(at=T0, examiner_id=EXAMINER, verdict=verdict, reasons=cited, excused=excused)
        (decided,) = review.collect_events()
        assert isinstance(decided, Review.ReviewDecided) and decided.reasons == cited
