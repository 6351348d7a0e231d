"""R20 in the review aggregate: the reasons are an invalidation's. A validation that gives
any, cited or not, justified or not, with the grounds overridden or not, is refused naming
R20 and records nothing; the same reasons, cited, invalidate. (A validation sent from the
review page with a reason ticked was recorded as « validée », the reason dropped.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review, override_of
from tests.property.aggregate_checks import expect_refusal, expect_success
from tests.property.test_review_overrides import EXAMINER, T0, WHY, review_with_two_grounds

SEEN = "la candidate parle à quelqu'un hors champ"  # R20: other_rule_breach's 5 words
# How a reason cites the review's evidence: a fact gathered, none, or one never gathered.
CITATIONS = ("gathered", "nothing", "unknown")

reasons = st.lists(
    st.tuples(
        st.sampled_from(ReasonCode),
        st.sampled_from(CITATIONS),
        st.sampled_from(["", SEEN, "vu"]),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda spec: spec[0],
)


def _cited(review: Review, specs: list[tuple[ReasonCode, str, str]]) -> tuple[CitedReason, ...]:
    gathered = review.evidence[0].id
    cites = {"gathered": (gathered,), "nothing": (), "unknown": ("nowhere/0",)}
    return tuple(CitedReason(code, cites[how], words) for code, how, words in specs)


@settings(max_examples=80, deadline=None)
@given(specs=reasons, overridden=st.booleans())
def test_a_validation_that_gives_a_reason_is_refused_naming_r20(
    specs: list[tuple[ReasonCode, str, str]], overridden: bool
) -> None:
    review = review_with_two_grounds()
    review.collect_events()
    assert review.recommendation is not None
    overrides = (
        tuple(override_of(g, WHY) for g in review.recommendation.grounds) if overridden else ()
    )
    cited = _cited(review, specs)

    def validate() -> None:
        review.decide(
            at=T0,
            examiner_id=EXAMINER,
            verdict=Verdict.VALIDATED,
            reasons=cited,
            overrides=overrides,
        )

    expect_refusal(review, validate, "R20")


@settings(max_examples=40, deadline=None)
@given(specs=reasons)
def test_the_same_reasons_cited_and_justified_invalidate_r20(
    specs: list[tuple[ReasonCode, str, str]],
) -> None:
    review = review_with_two_grounds()
    review.collect_events()
    cited = _cited(review, [(code, "gathered", SEEN) for code, *_ in specs])
    log: list[object] = []

    def invalidate() -> None:
        review.decide(at=T0, examiner_id=EXAMINER, verdict=Verdict.INVALIDATED, reasons=cited)

    expect_success(review, invalidate, log)
    assert review.verdict is Verdict.INVALIDATED and review.reasons == cited
