"""The audit tool's bulk work: replay every decided review, and what-if studies.

Both only read the log and judge the final decision (after an appeal, the second
examiner's). `replay_all` walks the decisions in log order, a batch at a time, so a caller
can record the position of the last finished batch and resume from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, AggregateEvent

from app.ports.audit_log import AuditLog
from app.replay import ReplayReport, replay_reviews
from domain.evidence import Verdict
from domain.review import AppealOutcome, Review
from domain.rules import RuleSet
from domain.verdict import Finding, Recommendation, recommend_with

BATCH = 500


@dataclass(frozen=True)
class ReplayBatch:
    """The reports of one batch of decisions, and the log position after its last one."""

    position: int
    reports: list[ReplayReport]

    @property
    def events_read(self) -> int:
        return sum(r.events_read for r in self.reports)


def replay_all(log: AuditLog, *, after: int = 0, batch: int = BATCH) -> Iterator[ReplayBatch]:
    """Every review decision recorded after `after`, replayed, batch by batch. The next page
    of decisions is looked for while this one replays: finding them scans the log, which the
    database does while this process decodes and folds."""
    seen: set[UUID] = set()
    with ThreadPoolExecutor(1, thread_name_prefix="audit-prefetch") as prefetch:
        page = log.decided_reviews(after, batch)
        while page:
            after = page[-1][0]
            upcoming = prefetch.submit(log.decided_reviews, after, batch)
            # A review and its appeal's decision are two positions: in one run the review is
            # replayed once, whole (its history already holds the appeal).
            fresh = list(dict.fromkeys(rid for _, rid in page if rid not in seen))
            seen.update(fresh)
            yield ReplayBatch(after, replay_reviews(log, fresh))
            page = upcoming.result()


# --- what-if ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfDifference:
    """One decided review whose recommendation would change under the other rules."""

    review_id: UUID
    certification_code: str
    month: str
    recorded: Recommendation
    alternative: Recommendation
    examiner_verdict: Verdict | None  # the final verdict: the appeal's once decided
    first_verdict: Verdict | None = None
    appeal_outcome: AppealOutcome | None = None

    @property
    def verdict_changed(self) -> bool:
        return self.recorded.verdict is not self.alternative.verdict

    @property
    def grounds_changed(self) -> bool:
        return _keys(self.recorded.grounds) != _keys(self.alternative.grounds)

    @property
    def flags_changed(self) -> bool:
        return _keys(self.recorded.hints) != _keys(self.alternative.hints)

    def describe(self) -> str:
        parts = []
        if self.verdict_changed:
            parts.append(
                f"verdict {self.recorded.verdict.value} → {self.alternative.verdict.value}"
            )
        if self.grounds_changed:
            parts.append(
                f"grounds {_codes(self.recorded.grounds)} → {_codes(self.alternative.grounds)}"
            )
        if self.flags_changed:
            parts.append(f"flags {_codes(self.recorded.hints)} → {_codes(self.alternative.hints)}")
        examiner = self.examiner_verdict.value if self.examiner_verdict else "undecided"
        if self.appeal_outcome is not None and self.first_verdict is not None:
            examiner = (
                f"{self.first_verdict.value}, {self.appeal_outcome.value} on appeal: {examiner}"
            )
        return f"{'; '.join(parts)} (examiner: {examiner})"


@dataclass
class Bucket:
    """Figures of one certification in one month (the month of the decision)."""

    reviews: int = 0
    recorded_invalidations: int = 0
    alternative_invalidations: int = 0
    examiner_invalidations: int = 0  # final verdicts: an overturned invalidation is not one
    changed: int = 0
    overturned: int = 0  # invalidations the second examiner reversed on appeal
    # A false flag: the recommendation pointed at flags and the examiner validated anyway.
    recorded_flagged: int = 0
    recorded_false_flags: int = 0
    alternative_flagged: int = 0
    alternative_false_flags: int = 0

    @staticmethod
    def rate(part: int, whole: int) -> float:
        return part / whole if whole else 0.0


@dataclass
class WhatIfReport:
    """Which decided reviews would be recommended differently, with rates per bucket."""

    rules_version: str
    verdict_version: str
    since: date | None
    reviews: int = 0
    differences: list[WhatIfDifference] = field(default_factory=list)
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)


def what_if(
    log: AuditLog, rules: RuleSet, *, since: date | None = None, batch: int = BATCH
) -> WhatIfReport:
    """Re-run `rules` (and its verdict version) over every decided review's evidence, without
    writing anything; compare with the recommendation each review recorded."""
    report = WhatIfReport(rules.version, rules.verdict_version, since)
    after = 0
    seen: set[UUID] = set()
    while page := log.decided_reviews(after, batch):
        after = page[-1][0]
        fresh = list(dict.fromkeys(rid for _, rid in page if rid not in seen))
        seen.update(fresh)
        histories = log.histories(fresh)
        for rid in fresh:
            review = _fold(histories.get(rid, ()))
            if review is None or review.decided_at is None or review.recommendation is None:
                continue
            if since is not None and review.decided_at.date() < since:
                continue
            _compare(report, review, rules)
    return report


def _compare(report: WhatIfReport, review: Review, rules: RuleSet) -> None:
    assert review.decided_at is not None and review.recommendation is not None
    recorded = review.recommendation
    alternative = recommend_with(rules.verdict_version, review.evidence, rules)
    month = review.decided_at.strftime("%Y-%m")
    bucket = report.buckets.setdefault((review.certification_code, month), Bucket())
    report.reviews += 1
    bucket.reviews += 1
    final = review.final_verdict
    validated = final is Verdict.VALIDATED
    outcome = review.appeal.outcome if review.appeal is not None else None
    bucket.recorded_invalidations += recorded.verdict is Verdict.INVALIDATED
    bucket.alternative_invalidations += alternative.verdict is Verdict.INVALIDATED
    bucket.examiner_invalidations += final is Verdict.INVALIDATED
    bucket.overturned += outcome is AppealOutcome.OVERTURNED
    bucket.recorded_flagged += bool(recorded.hints)
    bucket.recorded_false_flags += bool(recorded.hints) and validated
    bucket.alternative_flagged += bool(alternative.hints)
    bucket.alternative_false_flags += bool(alternative.hints) and validated
    difference = WhatIfDifference(
        review.id,
        review.certification_code,
        month,
        recorded,
        alternative,
        final,
        review.verdict,
        outcome,
    )
    if difference.verdict_changed or difference.grounds_changed or difference.flags_changed:
        bucket.changed += 1
        report.differences.append(difference)


def _fold(events: Sequence[AggregateEvent]) -> Review | None:
    review: Aggregate | None = None
    for event in events:
        review = event.mutate(review)
    return review if isinstance(review, Review) else None


def _keys(findings: tuple[Finding, ...]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """What a finding decides (its wording may change between versions)."""
    return tuple(sorted((f.reason.value, f.rule, f.evidence_ids) for f in findings))


def _codes(findings: tuple[Finding, ...]) -> str:
    return "[" + ", ".join(sorted({f.reason.value for f in findings})) + "]"
