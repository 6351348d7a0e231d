"""The recommended verdict as a pure function of the evidence (verdict-2025-03, pinned: it
stays unchanged so old decisions replay; verdict-2026-12 has its own tests).

Grounds decide: a missing face or ID photo (R9) and the proctoring tab closed during the exam
(R17). Detector flags are hints pointing to a moment of the recording, never verdicts.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.evidence import Evidence, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.rules import RULES_2025_03
from domain.verdict import Recommendation, recommend

T0 = datetime(2025, 3, 12, 14, 0, tzinfo=UTC)
PHOTOS = ("FacePhotoConfirmed", "IdPhotoConfirmed")
SPANNED = {"FlagRaised", "ProctoringTabClosed"}  # facts that point to a moment of the video

specs = st.one_of(
    st.tuples(st.sampled_from(PHOTOS), st.none(), st.just(False)),
    st.tuples(st.just("ProctoringTabClosed"), st.none(), st.booleans()),
    st.tuples(st.just("FlagRaised"), st.sampled_from(FlagKind), st.just(False)),
    st.tuples(
        st.sampled_from(["TechnicalProblemRecorded", "ExamLaunched", "SessionEntered"]),
        st.none(),
        st.just(False),
    ),
)


def build(prefix: str, spec_list: Sequence[tuple[str, FlagKind | None, bool]]) -> list[Evidence]:
    """Evidence with ids unique within the prefix, as '<stream>/<version>' ids are."""
    return [
        Evidence(
            id=f"{prefix}/{n}",
            kind=kind,
            at=T0 + timedelta(seconds=n),
            span=MediaSpan(float(n), n + 3.0) if kind in SPANNED else None,
            flag=flag,
            confidence=0.7 if flag else None,
            during_exam=during_exam,
        )
        for n, (kind, flag, during_exam) in enumerate(spec_list, start=1)
    ]


evidence = st.lists(specs, max_size=12).map(lambda s: build("session", s))
flags = st.lists(
    st.tuples(st.just("FlagRaised"), st.sampled_from(FlagKind), st.just(False)), min_size=1
).map(lambda s: build("detector", s))
closed_tabs = st.lists(
    st.tuples(st.just("ProctoringTabClosed"), st.none(), st.booleans()), min_size=1
).map(lambda s: build("tab", s))


def judge(items: Sequence[Evidence]) -> Recommendation:
    return recommend(items, RULES_2025_03)


def grounds_by_rule(recommendation: Recommendation) -> list[tuple[ReasonCode, str]]:
    return [(g.reason, g.rule) for g in recommendation.grounds]


PROPERTIES = settings(max_examples=60, deadline=None)


@PROPERTIES
@given(items=evidence)
def test_the_same_evidence_always_gives_the_same_recommendation(items: list[Evidence]) -> None:
    """An auditor replaying a decision gets the same answer with the same reasons."""
    first = judge(items)
    assert judge(tuple(items)) == first
    assert judge(copy.deepcopy(items)) == first
    assert first.version == RULES_2025_03.verdict_version


@PROPERTIES
@given(data=st.data(), items=evidence)
def test_the_order_of_the_evidence_changes_neither_the_verdict_nor_its_reasons(
    data: st.DataObject, items: list[Evidence]
) -> None:
    """Order only decides which fact an absence is cited against (R9's anchor).

    The cited ids of R17 and of the hints are the same sets in any order; an R9 ground cites
    one fact, the exam's launch when there is exactly one, else whichever fact comes first.
    """
    shuffled = data.draw(st.permutations(items), label="shuffled")
    one, other = judge(items), judge(shuffled)
    assert one.verdict is other.verdict
    assert grounds_by_rule(one) == grounds_by_rule(other)
    for a, b in zip(one.grounds, other.grounds, strict=True):
        assert a.explanation == b.explanation
        if a.rule == "R9":
            launches = [i.id for i in items if i.kind == "ExamLaunched"]
            for cited in (a.evidence_ids, b.evidence_ids):
                if len(launches) == 1:
                    assert cited == (launches[0],)
                elif items:
                    assert len(cited) == 1
                    assert cited[0] in {i.id for i in items}
                else:
                    assert cited == ()  # nothing to cite (a review never judges no evidence)
        else:
            assert set(a.evidence_ids) == set(b.evidence_ids)
    assert [(h.reason, set(h.evidence_ids), h.explanation) for h in one.hints] == [
        (h.reason, set(h.evidence_ids), h.explanation) for h in other.hints
    ]


@PROPERTIES
@given(items=evidence, more_flags=flags, data=st.data())
def test_detector_flags_never_change_the_verdict_nor_its_grounds(
    items: list[Evidence], more_flags: list[Evidence], data: st.DataObject
) -> None:
    """Flags are hints: wherever they land in the log, an invalidation is never undone."""
    position = data.draw(st.integers(0, len(items)), label="position")
    flagged = [*items[:position], *more_flags, *items[position:]]
    before, after = judge(items), judge(flagged)
    assert after.verdict is before.verdict
    assert grounds_by_rule(after) == grounds_by_rule(before)
    assert {h.reason for h in after.hints} >= {h.reason for h in before.hints}


@PROPERTIES
@given(items=evidence, tabs=closed_tabs)
def test_more_evidence_of_a_closed_tab_never_turns_invalidated_into_validated_r17(
    items: list[Evidence], tabs: list[Evidence]
) -> None:
    before, after = judge(items), judge([*items, *tabs])
    if before.verdict is Verdict.INVALIDATED:
        assert after.verdict is Verdict.INVALIDATED
    during = [t.id for t in tabs if t.during_exam]
    if during:
        assert after.verdict is Verdict.INVALIDATED
        (closed,) = [g for g in after.grounds if g.rule == "R17"]
        assert closed.reason is ReasonCode.PROCTORING_TAB_CLOSED
        assert set(during) <= set(closed.evidence_ids)
    else:
        # Closing the tab before the exam starts is not a ground (R17 is about the exam).
        assert after.verdict is before.verdict


@PROPERTIES
@given(items=evidence, dropped=st.sampled_from([PHOTOS[:1], PHOTOS[1:], PHOTOS]))
def test_a_missing_face_or_id_photo_always_invalidates_with_an_r9_ground(
    items: list[Evidence], dropped: tuple[str, ...]
) -> None:
    without = [i for i in items if i.kind not in dropped]
    recommendation = judge(without)
    assert recommendation.verdict is Verdict.INVALIDATED
    r9 = [g for g in recommendation.grounds if g.rule == "R9"]
    missing = set(PHOTOS) - {i.kind for i in without}
    assert len(r9) == len(missing)  # one ground per missing photo
    assert all(g.reason is ReasonCode.IDENTITY_NOT_VERIFIABLE for g in r9)


@PROPERTIES
@given(items=evidence)
def test_hints_never_change_the_verdict(items: list[Evidence]) -> None:
    """The verdict follows the grounds alone; without any flag it is the same."""
    recommendation = judge(items)
    assert (recommendation.verdict is Verdict.INVALIDATED) is bool(recommendation.grounds)
    unflagged = judge([i for i in items if i.kind != "FlagRaised"])
    assert unflagged.verdict is recommendation.verdict
    assert grounds_by_rule(unflagged) == grounds_by_rule(recommendation)
    assert not unflagged.hints
    flag_ids = {i.id for i in items if i.kind == "FlagRaised"}
    assert {e for h in recommendation.hints for e in h.evidence_ids} == flag_ids


@PROPERTIES
@given(items=evidence)
def test_validated_exactly_when_both_photos_and_no_tab_closed_during_the_exam(
    items: list[Evidence],
) -> None:
    kinds = {i.kind for i in items}
    tab_closed = any(i.kind == "ProctoringTabClosed" and i.during_exam for i in items)
    clean = set(PHOTOS) <= kinds and not tab_closed
    assert (judge(items).verdict is Verdict.VALIDATED) is clean
