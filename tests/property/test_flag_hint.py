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
from domain.review import CitedReason, DecisionRefused, Field, Problem, Review
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


def known_kind(review: Review, evidence_id: str) -> EvidenceKind:
    (kind,) = [e.kind for e in review.evidence if e.id == evidence_id]
    return kind


cited_reasons = st.lists(
    st.tuples(
        st.sampled_from([r for r in ReasonCode if r is not ReasonCode.OTHER_RULE_BREACH]),
        st.lists(st.sampled_from(["f/0", "f/1", "a/3", "s/2", "x/404"]), max_size=3, unique=True),
        st.integers(min_value=0, max_value=len(WORDS)),
    ),
    max_size=3,
    unique_by=lambda t: t[0],
)


@settings(max_examples=300, deadline=None)
@given(
    rules=st.sampled_from(sorted(RULE_SETS.values(), key=lambda r: r.version)),
    photos=st.booleans(),
    flags=st.sampled_from([0, 2]),
    reasons=cited_reasons,
)
def test_flag_hint_asks_for_words_exactly_when_flags_alone_stand_against_a_validation(
    rules: RuleSet,
    photos: bool,
    flags: int,
    reasons: list[tuple[ReasonCode, list[str], int]],
) -> None:
    """FLAG-HINT: the words are asked for unless the reason cites a moment of the review
    other than a flag, whichever problem the examiner fixes first: a reason citing nothing
    of the review yet is asked for them with R20's citation, when there is a flag to cite."""
    review = review_of(rules, flags=flags, photos=photos)
    assert review.recommendation is not None
    known = {e.id for e in review.evidence}
    cited = tuple(CitedReason(code, tuple(ids), " ".join(WORDS[:n])) for code, ids, n in reasons)
    problems = review.decision_problems(verdict=Verdict.INVALIDATED, reasons=cited)
    flagged = {p.reason for p in problems if p.rule == "FLAG-HINT"}
    needed = rules.flag_hint_justification_min_words

    def flags_alone(c: CitedReason) -> bool:
        ours = [e for e in c.evidence_ids if e in known]
        if ours:
            return all(e.startswith("f/") for e in ours)
        return flags > 0  # nothing of the review cited yet: a flag could be

    expected = {
        c.reason
        for c in cited
        if needed is not None
        and review.recommendation.verdict is Verdict.VALIDATED
        and flags_alone(c)
        and count_words(c.justification) < needed
    }
    assert flagged == expected
    # Only the current rule set asks; every older one decides as it always did.
    assert needed is None or rules.version == "rules-2026-12-flag-hint"
    for p in problems:
        if p.rule == "FLAG-HINT":
            (c,) = [c for c in cited if c.reason is p.reason]
            uncited = not any(e in known for e in c.evidence_ids)
            assert p.problem is (
                Problem.FLAG_UNJUSTIFIED_UNCITED if uncited else Problem.FLAG_UNJUSTIFIED
            )
            assert p.needed == needed
    # A decision that may be recorded is judged as it always was: FLAG-HINT asks exactly
    # when every cited moment is a flag (no decision changes outcome).
    for c in cited:
        if c.evidence_ids and all(e in known for e in c.evidence_ids):
            assert (c.reason in flagged) == (
                needed is not None
                and review.recommendation.verdict is Verdict.VALIDATED
                and all(known_kind(review, e) is EvidenceKind.FLAG_RAISED for e in c.evidence_ids)
                and count_words(c.justification) < needed
            )


def test_a_reason_citing_nothing_against_a_validation_is_told_both_problems_at_once() -> None:
    """A reviewer's finding: « Invalidée », « Utilisation d'un téléphone », nothing cited and
    no words was told of the missing citation only (R20); once the flag was cited, a second
    refusal asked for the words (FLAG-HINT). One submission now says both."""
    review = review_of(RULE_SETS["rules-2026-12-flag-hint"], flags=2, photos=True)
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.VALIDATED
    uncited = (CitedReason(ReasonCode.PHONE_USED, ()),)
    listed = review.decision_problems(verdict=Verdict.INVALIDATED, reasons=uncited)
    assert [(p.rule, p.problem, p.field, p.reason) for p in listed] == [
        ("R20", Problem.NO_EVIDENCE, Field.EVIDENCE, ReasonCode.PHONE_USED),
        ("FLAG-HINT", Problem.FLAG_UNJUSTIFIED_UNCITED, Field.JUSTIFICATION, ReasonCode.PHONE_USED),
    ]
    assert (listed[1].needed, listed[1].given) == (10, 0)
    review.collect_events()
    with pytest.raises(DecisionRefused) as refused:
        review.decide(at=T0, examiner_id=EXAMINER, verdict=Verdict.INVALIDATED, reasons=uncited)
    assert refused.value.problems == listed
    assert review.collect_events() == [] and review.verdict is None  # nothing recorded
    # The flag cited: the words are still asked for, nothing new (the same rule, FLAG-HINT).
    on_flag = (CitedReason(ReasonCode.PHONE_USED, ("f/0",)),)
    (only,) = review.decision_problems(verdict=Verdict.INVALIDATED, reasons=on_flag)
    assert (only.rule, only.problem) == ("FLAG-HINT", Problem.FLAG_UNJUSTIFIED)
    # A moment other than a flag cited instead: no words needed, nothing refused.
    on_photo = (CitedReason(ReasonCode.PHONE_USED, ("s/2",)),)
    assert review.decision_problems(verdict=Verdict.INVALIDATED, reasons=on_photo) == ()
    # A review without any flag: nothing but other moments to cite, so R20's citation only.
    flagless = review_of(RULE_SETS["rules-2026-12-flag-hint"], flags=0, photos=True)
    assert flagless.recommendation is not None
    assert flagless.recommendation.verdict is Verdict.VALIDATED
    (alone,) = flagless.decision_problems(verdict=Verdict.INVALIDATED, reasons=uncited)
    assert alone.problem is Problem.NO_EVIDENCE


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
