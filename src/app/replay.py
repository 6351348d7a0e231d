"""Replay a review's decision from the log alone and explain it (the product's promise)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import Aggregate

from app.evidence_gathering import evidence_id, to_evidence
from app.ports.event_store import AggregateNotFound, EventStore
from domain.evidence import Evidence, Verdict
from domain.review import CitedReason, Review
from domain.verdict import Recommendation, recommend


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

    @property
    def matches(self) -> bool:
        """True when the replay gives the same recommendation and every citation holds."""
        return not self.differences


def replay_review(store: EventStore, review_id: UUID) -> ReplayReport:
    """Fold the review's events (no snapshot, no cache), re-run its frozen verdict function,
    and check every piece of evidence against the event it names."""
    events = store.history(review_id)
    if not events:
        raise AggregateNotFound(review_id, "review")
    review: Aggregate | None = None
    recorded: Recommendation | None = None
    for event in events:
        review = event.mutate(review)
        if isinstance(event, Review.VerdictRecommended):
            recorded = event.recommendation
    assert isinstance(review, Review)
    replayed = recommend(review.evidence, review.rules) if review.evidence else None
    report = ReplayReport(
        review_id=review_id,
        rules_version=review.rules.version,
        verdict_version=review.rules.verdict_version,
        evidence=review.evidence,
        recorded=recorded,
        replayed=replayed,
        verdict=review.verdict,
        reasons=review.reasons,
        excused=review.excused,
    )
    if recorded != replayed:
        report.differences.append(
            f"recommendation differs: recorded {_summary(recorded)}, replayed {_summary(replayed)}"
        )
    report.differences.extend(_check_evidence(store, review.evidence))
    known = {item.id for item in review.evidence}
    for cited in (*review.reasons, *review.excused):
        missing = [e for e in cited.evidence_ids if e not in known]
        if missing:
            report.differences.append(
                f"reason {cited.reason.value} cites evidence not gathered: {', '.join(missing)}"
            )
    return report


def _check_evidence(store: EventStore, evidence: tuple[Evidence, ...]) -> list[str]:
    """Every evidence item must still be exactly the event it names."""
    differences: list[str] = []
    streams: dict[str, dict[str, Evidence]] = {}
    for item in evidence:
        stream = item.id.split("/", 1)[0]
        if stream not in streams:
            streams[stream] = {evidence_id(e): to_evidence(e) for e in store.history(UUID(stream))}
        actual = streams[stream].get(item.id)
        if actual is None:
            differences.append(f"evidence {item.id} names no stored event")
        elif actual != item:
            differences.append(f"evidence {item.id} differs from the stored event")
    return differences


def _summary(recommendation: Recommendation | None) -> str:
    if recommendation is None:
        return "none"
    reasons = ", ".join(f.reason.value for f in recommendation.grounds) or "no ground"
    return f"{recommendation.verdict.value} by {recommendation.version} ({reasons})"
