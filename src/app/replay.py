"""Replay a review's decision from the log alone and explain it (the product's promise).

The review's events are folded again (no snapshot, no cache); the verdict function of the
version the review *recorded* runs again under the rule set frozen in it; every piece of
evidence must still be exactly the stored event it names, and every reason the examiner gave
must cite evidence that was gathered. Any difference is reported, never corrected.

The decision replayed is the final one: when the candidate appealed, the first examiner's
decision and the second examiner's answer are both replayed, and the verdict compared is the
appeal's (what the candidate was told).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, AggregateEvent

from app.evidence_gathering import same_fact
from app.ports.audit_log import AuditLog
from app.ports.event_store import AggregateNotFound, EventStore
from domain.errors import InvalidArgument
from domain.evidence import Evidence, Verdict
from domain.review import AppealOutcome, CitedReason, Override, Review
from domain.verdict import Recommendation, recommend_with


class Mismatch(StrEnum):
    """What a replay found different from what the log recorded."""

    VERDICT_FUNCTION_FAILED = "verdict_function_failed"
    RECOMMENDATION = "recommendation"
    VERSION_NOT_FROZEN = "version_not_frozen"
    DECISION_VERSION = "decision_version"
    UNJUSTIFIED_VALIDATION = "unjustified_validation"
    EVIDENCE_MISSING = "evidence_missing"
    EVIDENCE_CHANGED = "evidence_changed"
    CITATION_NOT_GATHERED = "citation_not_gathered"
    APPEAL_VERDICT = "appeal_verdict"
    FINAL_VERDICT = "final_verdict"
    APPEAL_FIRST_EXAMINER = "appeal_first_examiner"
    APPEAL_SAME_EXAMINER = "appeal_same_examiner"
    APPEAL_AGREEMENT = "appeal_agreement"
    OVERTURNED_WITH_GROUNDS = "overturned_with_grounds"
    UPHELD_WITHOUT_REASON = "upheld_without_reason"


@dataclass(frozen=True)
class Difference:
    """One difference: its kind and the facts it names, typed (a page says them in its
    reader's language), and the English sentence the command line and the evidence bundle
    print (`str()`)."""

    kind: Mismatch
    text: str
    facts: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class DecisionFacts:
    """Who decided, when, on which recommendation version."""

    examiner_id: UUID
    decided_at: datetime
    recommendation_version: str
    overdue: bool
    # The grounds the examiner decided against, each with its written justification (R19;
    # decisions recorded before overrides existed have none).
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class AppealFacts:
    """The candidate's appeal and, once decided, the second examiner's answer and verdict."""

    candidate_reason: str
    lodged_at: datetime
    examiner_id: UUID | None = None
    outcome: AppealOutcome | None = None
    verdict: Verdict | None = None
    reasons: tuple[CitedReason, ...] = ()
    answer: str = ""
    decided_at: datetime | None = None
    first_examiner_id: UUID | None = None  # as the appeal's decision recorded it
    agrees: bool | None = None  # whether the second examiner agreed with the first

    @property
    def decided(self) -> bool:
        return self.outcome is not None


@dataclass
class ReplayReport:
    """What the log says was decided, what replaying it gives, and every difference."""

    review_id: UUID
    rules_version: str
    verdict_version: str
    evidence: tuple[Evidence, ...]
    recorded: Recommendation | None
    replayed: Recommendation | None
    verdict: Verdict | None
    reasons: tuple[CitedReason, ...]
    excused: tuple[CitedReason, ...]
    differences: list[Difference] = field(default_factory=list)
    certification_code: str = ""
    decision: DecisionFacts | None = None
    events_read: int = 0
    # Issue 12: the grounds the examiner decided against, each with its justification (R19).
    overrides: tuple[Override, ...] = ()
    # The first examiner's verdict (`verdict` is the final one: the appeal's once decided).
    first_verdict: Verdict | None = None
    appeal: AppealFacts | None = None

    @property
    def matches(self) -> bool:
        """True when the replay gives the same recommendation, every citation holds and the
        final verdict follows from the decisions recorded."""
        return not self.differences

    @property
    def overturned(self) -> bool:
        """The appeal reversed the first decision."""
        return self.appeal is not None and self.appeal.outcome is AppealOutcome.OVERTURNED


def replay_review(store: EventStore, review_id: UUID) -> ReplayReport:
    """Fold the review's events (no snapshot, no cache), re-run its recorded verdict function,
    and check every piece of evidence against the event it names."""
    events = store.history(review_id)
    if not events:
        raise AggregateNotFound(review_id, "review")
    streams: dict[UUID, Sequence[AggregateEvent]] = {}
    for stream in _evidence_streams(_fold(review_id, events)[0]):
        streams[stream] = store.history(stream)
    return replay_events(review_id, events, streams)


def replay_reviews(log: AuditLog, review_ids: Sequence[UUID]) -> list[ReplayReport]:
    """Many reviews at once: their streams, then their evidence streams, in bulk reads."""
    reviews = log.histories(review_ids)
    folded = {rid: _fold(rid, reviews[rid]) for rid in review_ids if rid in reviews}
    wanted = {s for review, _ in folded.values() for s in _evidence_streams(review)}
    streams = log.histories(sorted(wanted))
    index = _index(streams)
    reports = []
    for rid in review_ids:
        if rid not in reviews:
            raise AggregateNotFound(rid, "review")
        review, recorded = folded[rid]
        report = _report(rid, review, recorded, reviews[rid], index)
        reports.append(report)
    return reports


_Index = Mapping[str, Mapping[int, AggregateEvent]]


def _index(streams: Mapping[UUID, Sequence[AggregateEvent]]) -> _Index:
    """Events by the two halves of an evidence id: stream text, version."""
    return {str(k): {e.originator_version: e for e in v} for k, v in streams.items()}


def replay_events(
    review_id: UUID,
    events: Sequence[AggregateEvent],
    streams: Mapping[UUID, Sequence[AggregateEvent]],
) -> ReplayReport:
    """The replay of one review from its events and the streams its evidence names."""
    review, recorded = _fold(review_id, events)
    return _report(review_id, review, recorded, events, _index(streams))


@dataclass(frozen=True)
class _Recorded:
    recommendation: Recommendation | None
    decision: DecisionFacts | None
    appeal: AppealFacts | None = None


def _fold(review_id: UUID, events: Sequence[AggregateEvent]) -> tuple[Review, _Recorded]:
    """The review folded from its events, and what its events say directly (the facts the
    aggregate's state does not keep: who decided, the appeal's own record)."""
    review: Aggregate | None = None
    recommendation: Recommendation | None = None
    decision: DecisionFacts | None = None
    appeal: AppealFacts | None = None
    for event in events:
        review = event.mutate(review)
        if isinstance(event, Review.VerdictRecommended):
            recommendation = event.recommendation
        elif isinstance(event, Review.ReviewDecided):
            decision = DecisionFacts(
                event.examiner_id,
                event.timestamp,
                event.recommendation_version,
                event.overdue,
                event.overrides,
            )
        elif isinstance(event, Review.AppealLodged):
            appeal = AppealFacts(event.reason, event.timestamp)
        elif isinstance(event, Review.AppealExaminerAssigned) and appeal is not None:
            appeal = replace(appeal, examiner_id=event.examiner_id)
        elif isinstance(event, Review.AppealDecided) and appeal is not None:
            appeal = replace(
                appeal,
                examiner_id=event.examiner_id,
                outcome=event.outcome,
                verdict=event.verdict,
                reasons=event.reasons,
                answer=event.answer,
                decided_at=event.timestamp,
                first_examiner_id=event.first_examiner_id,
                agrees=event.agrees,
            )
    if not isinstance(review, Review):
        raise AggregateNotFound(review_id, "review")
    return review, _Recorded(recommendation, decision, appeal)


def _evidence_streams(review: Review) -> list[UUID]:
    return [UUID(s) for s in _stream_texts(review.evidence)]


def _stream_texts(evidence: tuple[Evidence, ...]) -> list[str]:
    return list(dict.fromkeys(item.id.partition("/")[0] for item in evidence))


def _report(
    review_id: UUID,
    review: Review,
    recorded: _Recorded,
    events: Sequence[AggregateEvent],
    index: _Index,
) -> ReplayReport:
    rules = review.rules
    rec = recorded.recommendation
    # The recorded version, not today's default: an old decision replays with its function.
    version = rec.version if rec is not None else rules.verdict_version
    differences: list[Difference] = []
    replayed: Recommendation | None = None
    if review.evidence:
        try:
            replayed = recommend_with(version, review.evidence, rules)
        except InvalidArgument as error:
            differences.append(
                Difference(
                    Mismatch.VERDICT_FUNCTION_FAILED,
                    str(error),
                    {"version": version, "detail": error.message},
                )
            )
    report = ReplayReport(
        review_id=review_id,
        rules_version=rules.version,
        verdict_version=version,
        evidence=review.evidence,
        recorded=rec,
        replayed=replayed,
        verdict=review.final_verdict,
        reasons=review.reasons,
        excused=review.excused,
        differences=differences,
        certification_code=review.certification_code,
        decision=recorded.decision,
        events_read=len(events)
        + sum(len(index.get(s, ())) for s in _stream_texts(review.evidence)),
        overrides=review.overrides,
        first_verdict=review.verdict,
        appeal=recorded.appeal,
    )
    if rec != replayed:
        differences.append(
            Difference(
                Mismatch.RECOMMENDATION,
                f"recommendation differs: recorded {_summary(rec)}, replayed {_summary(replayed)}",
                {"recorded": rec, "replayed": replayed},
            )
        )
    if rec is not None and rec.version != rules.verdict_version:
        differences.append(
            Difference(
                Mismatch.VERSION_NOT_FROZEN,
                f"recorded by {rec.version} but the frozen rule set {rules.version} names "
                f"{rules.verdict_version}",
                {"recorded": rec.version, "rules": rules.version, "named": rules.verdict_version},
            )
        )
    decision = recorded.decision
    if decision is not None and rec is not None and decision.recommendation_version != rec.version:
        differences.append(
            Difference(
                Mismatch.DECISION_VERSION,
                f"the decision names recommendation {decision.recommendation_version}, "
                f"the log recorded {rec.version}",
                {"named": decision.recommendation_version, "recorded": rec.version},
            )
        )
    if review.verdict is Verdict.VALIDATED and rec is not None:
        overrides = decision.overrides if decision is not None else ()
        for ground in rec.grounds:
            answer = next((o for o in overrides if o.overrides(ground)), None)
            if answer is None or not answer.justification.strip():
                differences.append(
                    Difference(
                        Mismatch.UNJUSTIFIED_VALIDATION,
                        f"validated although the recommendation has a ground to invalidate "
                        f"({ground.rule} {ground.reason.value}) and no written justification",
                        {"rule": ground.rule, "reason": ground.reason},
                    )
                )
    differences.extend(_check_evidence(review.evidence, index))
    known = {item.id for item in review.evidence}
    appeal_reasons = recorded.appeal.reasons if recorded.appeal is not None else ()
    for cited in (*review.reasons, *review.excused, *appeal_reasons):
        missing = [e for e in cited.evidence_ids if e not in known]
        if missing:
            differences.append(
                Difference(
                    Mismatch.CITATION_NOT_GATHERED,
                    f"reason {cited.reason.value} cites evidence not gathered: "
                    f"{', '.join(missing)}",
                    {"reason": cited.reason, "evidence_ids": tuple(missing)},
                )
            )
    differences.extend(_check_appeal(review, recorded.appeal, replayed))
    return report


# What each outcome of an appeal makes the final verdict.
_OUTCOME_VERDICT: dict[AppealOutcome, Verdict] = {
    AppealOutcome.UPHELD: Verdict.INVALIDATED,
    AppealOutcome.OVERTURNED: Verdict.VALIDATED,
}


def _check_appeal(
    review: Review, appeal: AppealFacts | None, replayed: Recommendation | None
) -> list[Difference]:
    """The final verdict must follow from the decisions the log records: the appeal's
    outcome gives it, the second examiner is not the first, and an overturn stands only if
    the replayed recommendation has no ground."""
    if appeal is None or not appeal.decided:
        return []
    assert appeal.outcome is not None
    differences: list[Difference] = []
    expected = _OUTCOME_VERDICT[appeal.outcome]
    if appeal.verdict is not expected:
        differences.append(
            Difference(
                Mismatch.APPEAL_VERDICT,
                f"the appeal was {appeal.outcome.value} but recorded the verdict "
                f"{appeal.verdict.value if appeal.verdict else 'none'}",
                {"outcome": appeal.outcome, "verdict": appeal.verdict},
            )
        )
    if review.final_verdict is not expected:
        differences.append(
            Difference(
                Mismatch.FINAL_VERDICT,
                f"final verdict differs: the appeal gives {expected.value}, the review folds "
                f"to {review.final_verdict.value if review.final_verdict else 'none'}",
                {"expected": expected, "folded": review.final_verdict},
            )
        )
    if appeal.first_examiner_id != review.examiner_id:
        differences.append(
            Difference(
                Mismatch.APPEAL_FIRST_EXAMINER,
                f"the appeal names first examiner {appeal.first_examiner_id}, the review "
                f"was decided by {review.examiner_id}",
                {"named": appeal.first_examiner_id, "decider": review.examiner_id},
            )
        )
    # The checks below name no fact: their sentence is all there is.
    checks = (
        (
            appeal.examiner_id is None or appeal.examiner_id == review.examiner_id,
            Mismatch.APPEAL_SAME_EXAMINER,
            "the appeal was not decided by a second examiner",
        ),
        (
            appeal.agrees is not (appeal.verdict is review.verdict),
            Mismatch.APPEAL_AGREEMENT,
            "the appeal's record of agreeing with the first decision is wrong",
        ),
        (
            appeal.outcome is AppealOutcome.OVERTURNED
            and replayed is not None
            and bool(replayed.grounds),
            Mismatch.OVERTURNED_WITH_GROUNDS,
            "overturned although the replayed recommendation has grounds",
        ),
        (
            appeal.outcome is AppealOutcome.UPHELD and not appeal.reasons,
            Mismatch.UPHELD_WITHOUT_REASON,
            "the invalidation was upheld without a reason",
        ),
    )
    differences += [Difference(kind, text) for failed, kind, text in checks if failed]
    return differences


def _check_evidence(evidence: tuple[Evidence, ...], index: _Index) -> list[Difference]:
    """Every evidence item must still be exactly the event it names."""
    differences: list[Difference] = []
    for item in evidence:
        stream_text, _, version_text = item.id.partition("/")
        events = index.get(stream_text, {})
        event = events.get(int(version_text)) if version_text.isdigit() else None
        if event is None:
            differences.append(
                Difference(
                    Mismatch.EVIDENCE_MISSING,
                    f"evidence {item.id} names no stored event",
                    {"evidence": item},
                )
            )
        elif not same_fact(item, event):
            differences.append(
                Difference(
                    Mismatch.EVIDENCE_CHANGED,
                    f"evidence {item.id} differs from the stored event",
                    {"evidence": item},
                )
            )
    return differences


def _summary(recommendation: Recommendation | None) -> str:
    if recommendation is None:
        return "none"
    reasons = ", ".join(f.reason.value for f in recommendation.grounds) or "no ground"
    return f"{recommendation.verdict.value} by {recommendation.version} ({reasons})"
