"""Replay a review's decision from the log alone and explain it (the product's promise).

The review's events are folded again (no snapshot, no cache); the verdict function of the
version the review *recorded* runs again under the rule set frozen in it; every piece of
evidence must still be exactly the stored event it names, and every reason the examiner gave
must cite evidence that was gathered. Any difference is reported, never corrected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, AggregateEvent

from app.evidence_gathering import same_fact
from app.ports.audit_log import AuditLog
from app.ports.event_store import AggregateNotFound, EventStore
from domain.errors import InvalidArgument
from domain.evidence import Evidence, Verdict
from domain.review import CitedReason, Override, Review
from domain.verdict import Recommendation, recommend_with


@dataclass(frozen=True)
class DecisionFacts:
    """Who decided, when, on which recommendation version."""

    examiner_id: UUID
    decided_at: datetime
    recommendation_version: str
    overdue: bool


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
    differences: list[str] = field(default_factory=list)
    certification_code: str = ""
    decision: DecisionFacts | None = None
    events_read: int = 0
    # Issue 12: the grounds the examiner decided against, each with its justification (R19).
    overrides: tuple[Override, ...] = ()

    @property
    def matches(self) -> bool:
        """True when the replay gives the same recommendation and every citation holds."""
        return not self.differences


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


def _fold(review_id: UUID, events: Sequence[AggregateEvent]) -> tuple[Review, _Recorded]:
    review: Aggregate | None = None
    recommendation: Recommendation | None = None
    decision: DecisionFacts | None = None
    for event in events:
        review = event.mutate(review)
        if isinstance(event, Review.VerdictRecommended):
            recommendation = event.recommendation
        elif isinstance(event, Review.ReviewDecided):
            decision = DecisionFacts(
                event.examiner_id, event.timestamp, event.recommendation_version, event.overdue
            )
    if not isinstance(review, Review):
        raise AggregateNotFound(review_id, "review")
    return review, _Recorded(recommendation, decision)


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
    differences: list[str] = []
    replayed: Recommendation | None = None
    if review.evidence:
        try:
            replayed = recommend_with(version, review.evidence, rules)
        except InvalidArgument as error:
            differences.append(str(error))
    report = ReplayReport(
        review_id=review_id,
        rules_version=rules.version,
        verdict_version=version,
        evidence=review.evidence,
        recorded=rec,
        replayed=replayed,
        verdict=review.verdict,
        reasons=review.reasons,
        excused=review.excused,
        differences=differences,
        certification_code=review.certification_code,
        decision=recorded.decision,
        events_read=len(events)
        + sum(len(index.get(s, ())) for s in _stream_texts(review.evidence)),
        overrides=review.overrides,
    )
    if rec != replayed:
        differences.append(
            f"recommendation differs: recorded {_summary(rec)}, replayed {_summary(replayed)}"
        )
    if rec is not None and rec.version != rules.verdict_version:
        differences.append(
            f"recorded by {rec.version} but the frozen rule set {rules.version} names "
            f"{rules.verdict_version}"
        )
    decision = recorded.decision
    if decision is not None and rec is not None and decision.recommendation_version != rec.version:
        differences.append(
            f"the decision names recommendation {decision.recommendation_version}, "
            f"the log recorded {rec.version}"
        )
    if review.verdict is Verdict.VALIDATED and rec is not None:
        # R19: a ground is decided against only in writing (an override recorded with it).
        unjustified = [g for g in rec.grounds if not any(o.overrides(g) for o in review.overrides)]
        if unjustified:
            differences.append(
                "validated although the recommendation has grounds to invalidate, "
                f"without a written justification: {', '.join(g.rule for g in unjustified)}"
            )
    differences.extend(_check_evidence(review.evidence, index))
    known = {item.id for item in review.evidence}
    for cited in (*review.reasons, *review.excused):
        missing = [e for e in cited.evidence_ids if e not in known]
        if missing:
            differences.append(
                f"reason {cited.reason.value} cites evidence not gathered: {', '.join(missing)}"
            )
    return report


def _check_evidence(evidence: tuple[Evidence, ...], index: _Index) -> list[str]:
    """Every evidence item must still be exactly the event it names."""
    differences: list[str] = []
    for item in evidence:
        stream_text, _, version_text = item.id.partition("/")
        events = index.get(stream_text, {})
        event = events.get(int(version_text)) if version_text.isdigit() else None
        if event is None:
            differences.append(f"evidence {item.id} names no stored event")
        elif not same_fact(item, event):
            differences.append(f"evidence {item.id} differs from the stored event")
    return differences


def _summary(recommendation: Recommendation | None) -> str:
    if recommendation is None:
        return "none"
    reasons = ", ".join(f.reason.value for f in recommendation.grounds) or "no ground"
    return f"{recommendation.verdict.value} by {recommendation.version} ({reasons})"
