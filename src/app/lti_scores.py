"""Results back to the learning platform (issue 16: Assignment and Grade Services).

A policy decides one `ScoreReport` per decision released to the candidate (R19's release,
and again after an appeal is decided) for an enrolment that came through an LTI launch with
a line item; its id is derived from the decision's event, so a decision is reported once.
The worker's outbox pass then claims each due report in the store, posts it to the line
item's scores with a token from the platform, and records the outcome; a platform that does
not answer is retried with the mails' back-off, a refusal is given up and kept for operators.
Never a web request: the release only records the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from app.context import Context
from app.lti_keys import ToolKeys
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict, Recorded
from app.ports.lti_platform import LtiPlatformClient, PlatformRefused, PlatformUnreachable
from domain.candidate import Candidate
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.lti import (
    SCORE_SCOPE,
    GradeLink,
    LtiPlatform,
    ScoreReport,
    ScoreStatus,
    grade_link_id,
    score_report_id,
)
from domain.review import Review

LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def score_of(attempt: ExamAttempt, verdict: Verdict) -> tuple[float, float]:
    """The grade the platform shows, out of 100: the exam's score when the review validated
    it, 0 when it was invalidated (the exam does not count)."""
    results = attempt.results
    if verdict is not Verdict.VALIDATED or results is None or results.max_score <= 0:
        return 0.0, 100.0
    return round(100.0 * results.score / results.max_score, 2), 100.0


class ScoreDecisions:
    """Decides the score reports of released decisions and decided appeals."""

    name = "lti-score-decisions"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, Review.ResultsReleased | Review.AppealDecided)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        event = recorded.event
        assert isinstance(event, Review.ResultsReleased | Review.AppealDecided)
        review = ctx.store.get(event.originator_id, Review)
        attempt = ctx.store.get(review.attempt_id, ExamAttempt)
        if attempt.enrollment_id is None:
            return []
        try:
            link = ctx.store.get(grade_link_id(attempt.enrollment_id), GradeLink)
        except AggregateNotFound:
            return []  # not enrolled through an LMS: nothing goes back
        cause = f"{event.originator_id}/{event.originator_version}"
        try:
            ctx.store.get(score_report_id(cause), ScoreReport)
            return []  # already decided (a parked reaction retried)
        except AggregateNotFound:
            pass
        given, maximum = score_of(attempt, event.verdict)
        stage = "appeal" if isinstance(event, Review.AppealDecided) else "review"
        return [
            ScoreReport.decide(
                link=link,
                candidate_id=review.candidate_id,
                score_given=given,
                score_maximum=maximum,
                comment=f"{review.certification_code}: {event.verdict.value} ({stage})",
                cause=cause,
                at=event.timestamp,
            )
        ]


@dataclass
class PostReport:
    posted: int = 0
    retried: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ScorePoster:
    """Posts due score reports, each claimed in the store first (one worker posts it)."""

    ctx: Context
    client: LtiPlatformClient
    keys: ToolKeys
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=2)
    name: str = field(default_factory=lambda: f"poster-{uuid4().hex[:12]}")

    def retry_delay(self, attempt: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at one hour (the mails' back-off)."""
        return min(self.first_delay * (1 << max(0, attempt - 1)), self.longest_delay)

    def post_due(self, report_ids: Sequence[UUID]) -> PostReport:
        report = PostReport()
        for report_id in report_ids:
            try:
                self._post_one(report_id, report)
            except ConcurrencyConflict:
                continue  # another worker recorded this attempt first
        return report

    def _post_one(self, report_id: UUID, report: PostReport) -> None:
        score = self.ctx.store.get(report_id, ScoreReport)
        at = self.ctx.now()
        if not score.is_due(at):
            return
        score.claim(poster=self.name, at=at, lease_until=at + self.lease)
        try:
            self.ctx.store.save(score)
        except ConcurrencyConflict:
            return  # another worker claimed it
        try:
            self._post(score)
        except PlatformUnreachable as error:
            retry_at = at + self.retry_delay(score.attempts + 1)
            score.record_failure(
                at=self.ctx.now(),
                error=str(error),
                retry_at=retry_at,
                max_attempts=self.max_attempts,
            )
        except (PlatformRefused, AggregateNotFound, GoneCandidate) as error:
            score.record_failure(
                at=self.ctx.now(), error=str(error), retry_at=None, max_attempts=self.max_attempts
            )
        else:
            score.record_posted(at=self.ctx.now())
        self.ctx.store.save(score)
        if score.status is ScoreStatus.POSTED:
            report.posted += 1
        elif score.status is ScoreStatus.FAILED:
            report.given_up += 1
            report.errors.append(f"{score.id}: {score.last_error}")
        else:
            report.retried += 1

    def _post(self, score: ScoreReport) -> None:
        candidate = self.ctx.store.get(score.candidate_id, Candidate)
        if candidate.erased_at is not None:
            raise GoneCandidate("the candidate asked to be forgotten: nothing is sent")
        platform = self.ctx.store.get(score.platform_id, LtiPlatform)
        user_id = candidate.lti_user(platform.issuer)
        if user_id is None:
            raise GoneCandidate("the learner's id on this platform is not known")
        assertion = self.keys.client_assertion(platform.client_id, platform.token_url)
        token = self.client.access_token(platform.token_url, assertion, [SCORE_SCOPE])
        self.client.post_score(
            score.lineitem,
            token,
            {
                "userId": user_id,
                "scoreGiven": score.score_given,
                "scoreMaximum": score.score_maximum,
                "comment": score.comment,
                "timestamp": score.created_on.isoformat(),
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
            },
        )


class GoneCandidate(Exception):
    """The learner's data was erased (issue 8): the score is not sent."""
