"""Review (contrôle): one examiner checks the recording within 8 days (R19, R20).

The recommended verdict comes from the pure verdict function over the gathered evidence; the
examiner's decision cites evidence for every reason, so it can be replayed and explained.

A review has one examiner at a time; a lead (support or centre) may reassign it, saying why,
without moving its due date (R19). A candidate may contest an invalidation once (an appeal);
a second examiner, never the first, decides it. The first decision stays in the history:
the appeal adds events and rewrites none, and the verdict the candidate sees is the appeal's.

Rules named in refusals, besides the guide's R1–R26:

- ``APPEAL-CANDIDATE``: only the candidate who took the exam may contest its review.
- ``APPEAL-INVALIDATION``: only an invalidation whose results were sent can be contested.
- ``APPEAL-ONCE``: an invalidation is contested once.
- ``APPEAL-PERIOD``: within the rule set's `appeal_days` (14) after the results were sent,
  last day inclusive.
- ``APPEAL-REASON``: the candidate writes a reason (not empty, at most 2,000 characters).
- ``APPEAL-OPEN``: assigning or deciding an appeal needs one lodged and not decided yet.
- ``APPEAL-SECOND-EXAMINER``: the appeal is decided by a second examiner, never the first,
  and only by the one assigned to it.
- ``APPEAL-DECISION``: the second examiner answers the candidate in writing (5 words or
  more, at most 4,000 characters); overturning is refused while the evidence holds a
  ground (its own rule, R9 or R17).
- ``APPEAL-VIEWED``: an invalidation is overturned only by a second examiner who played
  the recording (issue 14 records every view): the first examiner's decision rests on it,
  and the recommendation advises only. Whether they had is recorded with every appeal's
  decision and shown beside it (a user's tour: an appeal granted by an examiner who never
  pressed play).
- ``FLAG-HINT`` (from rules-2026-12-flag-hint): invalidating against a « validée »
  recommendation on a reason that rests on detector flags alone takes a written
  justification of that reason (a flag is a hint, never a verdict: design/product.md).
  A reason rests on flags alone unless it cites a moment of the review other than a flag,
  so one citing nothing yet is told both problems at once (R20's citation, and the words).

The recommendation advises, the examiner decides (R19): validating against a ground of the
recommendation is allowed with a written justification of that ground (an `Override`, at
least 10 words each), recorded in `ReviewDecided.overrides` and replayed with the decision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.bounds import LIMITS, bounded
from domain.errors import InvalidArgument, RuleBroken, require, require_aware
from domain.evidence import Evidence, EvidenceKind, ReasonCode, Verdict
from domain.rules import RuleSet, count_words, utc
from domain.verdict import Finding, Recommendation, recommend

OTHER_JUSTIFICATION_MIN_WORDS = 5
OVERRIDE_JUSTIFICATION_MIN_WORDS = 10  # R19: a sentence, not a word, per ground overridden
APPEAL_REASON_MAX_CHARS = LIMITS["appeal_reason"]
APPEAL_ANSWER_MIN_WORDS = 5
APPEAL_ANSWER_MAX_CHARS = LIMITS["appeal_answer"]


@dataclass(frozen=True)
class CitedReason:
    """An invalidation reason from the closed list (R20), citing evidence ids."""

    reason: ReasonCode
    evidence_ids: tuple[str, ...]
    justification: str = ""


@dataclass(frozen=True)
class Override:
    """R19: a ground of the recommendation the examiner decided against, and why. It names
    the ground as the recommendation gave it (rule, reason and the evidence it cites)."""

    rule: str
    reason: ReasonCode
    evidence_ids: tuple[str, ...]
    justification: str

    def overrides(self, ground: Finding) -> bool:
        return (self.rule, self.reason, self.evidence_ids) == (
            ground.rule,
            ground.reason,
            ground.evidence_ids,
        )


def override_of(ground: Finding, justification: str) -> Override:
    """The override of one ground, with the examiner's words."""
    bounded("justification", justification)
    return Override(ground.rule, ground.reason, ground.evidence_ids, justification.strip())


class Problem(StrEnum):
    """What is wrong with one part of a decision: a page and an API say each in words,
    beside the field it names."""

    VALIDATION_CITES_REASONS = "validation_cites_reasons"  # R20
    NO_REASON = "no_reason"  # R20: an invalidation needs one
    NO_EVIDENCE = "no_evidence"  # R20: a reason cites no moment
    UNKNOWN_EVIDENCE = "unknown_evidence"  # R20: a reason cites what the review lacks
    OTHER_UNJUSTIFIED = "other_unjustified"  # R20: the other breach, in words
    FLAG_UNJUSTIFIED = "flag_unjustified"  # FLAG-HINT: it cites flags alone
    FLAG_UNJUSTIFIED_UNCITED = "flag_unjustified_uncited"  # FLAG-HINT: it cites nothing yet
    REASON_TWICE = "reason_twice"  # R20
    ONLY_PHONE_EXCUSED = "only_phone_excused"  # R20
    EXCUSE_UNPROVEN = "excuse_unproven"  # R20: cite the technical problem's record
    OVERRIDES_ON_INVALIDATION = "overrides_on_invalidation"  # R19
    NOT_A_GROUND = "not_a_ground"  # R19
    GROUND_OVERRIDDEN_TWICE = "ground_overridden_twice"  # R19
    GROUND_UNJUSTIFIED = "ground_unjustified"  # the ground's own rule (R9, R17…)
    GROUND_JUSTIFICATION_SHORT = "ground_justification_short"  # R19


class Field(StrEnum):
    """The part of a decision a problem is about."""

    REASONS = "reasons"  # the reasons as a whole
    EVIDENCE = "evidence"  # one reason's cited moments (`DecisionProblem.reason`)
    JUSTIFICATION = "justification"  # one reason's words (`DecisionProblem.reason`)
    EXCUSED = "excused"  # the phone exception
    OVERRIDES = "overrides"  # the justifications against grounds as a whole
    OVERRIDE = "override"  # one ground's justification (`DecisionProblem.ground`)


@dataclass(frozen=True)
class DecisionProblem:
    """One thing that stops a decision, named by its rule and the field it is about, with
    the numbers a sentence needs. `message` is the domain's English, for logs."""

    problem: Problem
    rule: str
    field: Field
    message: str
    reason: ReasonCode | None = None  # the reason, or the ground's reason, it is about
    ground: int | None = None  # the ground's place among the recommendation's
    needed: int = 0  # words needed
    given: int = 0  # words given


class DecisionRefused(RuleBroken, InvalidArgument):
    """Every problem of a refused decision at once, so the examiner corrects them all in
    one go (a user's tour: one problem per « Enregistrer »). A rule broken and a field
    refused, named by its first problem, as a single refusal was."""

    def __init__(self, problems: tuple[DecisionProblem, ...]) -> None:
        first = problems[0]
        Exception.__init__(self, "; ".join(f"{p.rule}: {p.message}" for p in problems))
        self.rule = first.rule
        self.field = first.field.value
        self.message = "; ".join(p.message for p in problems)
        self.problems = problems


def _citation_problems(cited: CitedReason, known: dict[str, Evidence]) -> list[DecisionProblem]:
    """R20: a reason cites moments the review holds; the other breach says what it was."""
    bounded("justification", cited.justification)
    code = cited.reason.value
    problems = []
    if not cited.evidence_ids:
        problems.append(
            DecisionProblem(
                Problem.NO_EVIDENCE,
                "R20",
                Field.EVIDENCE,
                f"the reason {code} must cite at least one piece of evidence",
                cited.reason,
            )
        )
    unknown = [e for e in cited.evidence_ids if e not in known]
    if unknown:
        problems.append(
            DecisionProblem(
                Problem.UNKNOWN_EVIDENCE,
                "R20",
                Field.EVIDENCE,
                f"the reason {code} cites unknown evidence {', '.join(unknown)}",
                cited.reason,
            )
        )
    words = count_words(cited.justification)
    if cited.reason is ReasonCode.OTHER_RULE_BREACH and words < OTHER_JUSTIFICATION_MIN_WORDS:
        problems.append(
            DecisionProblem(
                Problem.OTHER_UNJUSTIFIED,
                "R20",
                Field.JUSTIFICATION,
                f"other_rule_breach needs a written justification of at least "
                f"{OTHER_JUSTIFICATION_MIN_WORDS} words",
                cited.reason,
                needed=OTHER_JUSTIFICATION_MIN_WORDS,
                given=words,
            )
        )
    return problems


def _repeated_reasons(reasons: tuple[CitedReason, ...]) -> list[DecisionProblem]:
    codes = [c.reason for c in reasons]
    repeated = [code for code in dict.fromkeys(codes) if codes.count(code) > 1]
    return [
        DecisionProblem(
            Problem.REASON_TWICE, "R20", Field.REASONS, "each reason is given once", code
        )
        for code in repeated
    ]


def rests_on_flags_alone(cited: CitedReason, known: dict[str, Evidence]) -> bool:
    """FLAG-HINT: nothing but detector flags (hints, never verdicts: design/product.md)
    stands behind the reason. What frees a reason from its written justification is a cited
    moment of the review other than a flag, so this holds unless one is cited:

    - it cites moments of the review, flags only: it rests on them alone;
    - it cites none of the review's moments yet (nothing, or only what the review lacks:
      R20 refuses that too) while the review holds a flag: citing that flag would leave it
      on flags alone, so its words are asked for now, with the citation (a reviewer's
      finding: the words were asked for only once the flag was cited, a second refusal).
      A review without a flag has nothing but other moments to cite: no words then.

    A decision that may be recorded cites only moments the review holds, at least one:
    there this is « every cited moment is a flag », as it always was, so no decision
    changes outcome; only a refused one may be told more of its problems."""
    if any(e in known and known[e].kind != EvidenceKind.FLAG_RAISED for e in cited.evidence_ids):
        return False
    if any(e in known for e in cited.evidence_ids):
        return True
    return any(item.kind == EvidenceKind.FLAG_RAISED for item in known.values())


def _override_problems(
    grounds: tuple[Finding, ...], overrides: tuple[Override, ...]
) -> list[DecisionProblem]:
    """R19: every ground is overridden once, in writing; nothing else is."""
    problems = []
    for override in overrides:
        if not any(override.overrides(g) for g in grounds):
            problems.append(
                DecisionProblem(
                    Problem.NOT_A_GROUND,
                    "R19",
                    Field.OVERRIDES,
                    f"{override.rule} ({override.reason.value}) is not a ground of the "
                    "recommendation: there is nothing to override",
                    override.reason,
                )
            )
    # Two grounds may be the same finding (two missing photos anchored to one fact): one
    # justification covers both, and one per ground is accepted too; more is ambiguous.
    keys = Counter((o.rule, o.reason, o.evidence_ids) for o in overrides)
    grounds_of = Counter((g.rule, g.reason, g.evidence_ids) for g in grounds)
    if any(count > grounds_of[key] for key, count in keys.items() if key in grounds_of):
        problems.append(
            DecisionProblem(
                Problem.GROUND_OVERRIDDEN_TWICE,
                "R19",
                Field.OVERRIDES,
                "each ground is overridden once",
            )
        )
    for index, ground in enumerate(grounds):
        given = next((o for o in overrides if o.overrides(ground)), None)
        if given is None:
            problems.append(
                DecisionProblem(
                    Problem.GROUND_UNJUSTIFIED,
                    ground.rule,
                    Field.OVERRIDE,
                    f"cannot validate against this ground without a written justification: "
                    f"{ground.explanation}",
                    ground.reason,
                    ground=index,
                    needed=OVERRIDE_JUSTIFICATION_MIN_WORDS,
                )
            )
            continue
        bounded("justification", given.justification)
        words = count_words(given.justification)
        if words < OVERRIDE_JUSTIFICATION_MIN_WORDS:
            problems.append(
                DecisionProblem(
                    Problem.GROUND_JUSTIFICATION_SHORT,
                    "R19",
                    Field.OVERRIDE,
                    f"deciding against the {ground.rule} ground needs a justification of at "
                    f"least {OVERRIDE_JUSTIFICATION_MIN_WORDS} words ({words} given)",
                    ground.reason,
                    ground=index,
                    needed=OVERRIDE_JUSTIFICATION_MIN_WORDS,
                    given=words,
                )
            )
    return problems


class AppealOutcome(StrEnum):
    """The second examiner's answer to an appeal."""

    UPHELD = "upheld"  # the invalidation stands
    OVERTURNED = "overturned"  # the exam is validated


@dataclass(frozen=True)
class Appeal:
    """A candidate's contest of an invalidation, and the second examiner's decision."""

    candidate_id: UUID
    reason: str
    lodged_at: datetime
    due_on: date
    examiner_id: UUID | None = None
    outcome: AppealOutcome | None = None
    verdict: Verdict | None = None
    reasons: tuple[CitedReason, ...] = ()
    answer: str = ""
    decided_at: datetime | None = None
    # APPEAL-VIEWED: whether the second examiner had played the recording (None: decided
    # before it was recorded).
    recording_viewed: bool | None = None

    @property
    def open(self) -> bool:
        """Lodged and not decided yet."""
        return self.outcome is None


class Review(Aggregate):
    """One examiner's check of a submitted exam's recording."""

    session_id: UUID
    attempt_id: UUID
    candidate_id: UUID
    certification_code: str
    due_on: date
    rules: RuleSet
    examiner_id: UUID | None
    evidence: tuple[Evidence, ...]
    recommendation: Recommendation | None
    verdict: Verdict | None
    reasons: tuple[CitedReason, ...]
    excused: tuple[CitedReason, ...]
    decided_at: datetime | None
    released: bool
    warned: bool
    overdue: bool
    # Added with reassignment and appeals: class defaults keep older snapshots readable.
    released_at: datetime | None = None
    appeal: Appeal | None = None
    # Added with issue 12: the grounds the examiner decided against, with why (R19).
    overrides: tuple[Override, ...] = ()

    class ReviewOpened(Aggregate.Created):
        session_id: UUID
        attempt_id: UUID
        candidate_id: UUID
        certification_code: str
        due_on: date
        rules: RuleSet

    class ExaminerAssigned(Aggregate.Event):
        examiner_id: UUID

    class EvidenceGathered(Aggregate.Event):
        items: tuple[Evidence, ...]

    class VerdictRecommended(Aggregate.Event):
        recommendation: Recommendation

    class ReviewDecided(Aggregate.Event):
        examiner_id: UUID
        verdict: Verdict
        reasons: tuple[CitedReason, ...]
        excused: tuple[CitedReason, ...]
        recommendation_version: str
        overdue: bool
        # Issue 12 (a default keeps older decisions readable): grounds decided against.
        overrides: tuple[Override, ...] = ()

    class ResultsReleased(Aggregate.Event):
        verdict: Verdict
        # Issue 14 (a default keeps older releases readable): the examiner who released them.
        released_by: UUID | None = None

    class ReviewDueSoon(Aggregate.Event):
        due_on: date
        examiner_id: UUID | None

    class ReviewOverdue(Aggregate.Event):
        due_on: date

    class ExaminerReassigned(Aggregate.Event):
        previous_examiner_id: UUID | None
        examiner_id: UUID
        reassigned_by: UUID
        reason: str

    class AppealLodged(Aggregate.Event):
        candidate_id: UUID
        reason: str
        due_on: date

    class AppealExaminerAssigned(Aggregate.Event):
        previous_examiner_id: UUID | None
        examiner_id: UUID
        assigned_by: UUID
        reason: str

    class AppealDecided(Aggregate.Event):
        examiner_id: UUID
        first_examiner_id: UUID
        outcome: AppealOutcome
        verdict: Verdict
        reasons: tuple[CitedReason, ...]
        answer: str
        agrees: bool
        # APPEAL-VIEWED (a default keeps older decisions readable): the second examiner had
        # played the recording; None where it was not known.
        recording_viewed: bool | None = None

    @classmethod
    def open(
        cls,
        *,
        review_id: UUID,
        session_id: UUID,
        attempt_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        rules: RuleSet,
        at: datetime,
    ) -> Review:
        """R19: opened when the exam is sent, due 8 days later."""
        require_aware("at", at)
        return cls._create(
            cls.ReviewOpened,
            id=review_id,
            timestamp=at,
            session_id=session_id,
            attempt_id=attempt_id,
            candidate_id=candidate_id,
            certification_code=certification_code,
            due_on=at.date() + timedelta(days=rules.review_days),
            rules=rules,
        )

    @event(ReviewOpened)
    def __init__(
        self,
        session_id: UUID,
        attempt_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        due_on: date,
        rules: RuleSet,
    ) -> None:
        self.session_id = session_id
        self.attempt_id = attempt_id
        self.candidate_id = candidate_id
        self.certification_code = certification_code
        self.due_on = due_on
        self.rules = rules
        self.examiner_id = None
        self.evidence = ()
        self.recommendation = None
        self.verdict = None
        self.reasons = ()
        self.excused = ()
        self.decided_at = None
        self.released = False
        self.warned = False
        self.overdue = False

    # --- commands ------------------------------------------------------------------------

    def _check_undecided(self, at: datetime) -> None:
        require_aware("at", at)
        require(self.verdict is None, "R19", "the review is already decided")

    def assign(self, *, at: datetime, examiner_id: UUID) -> None:
        """R19: one examiner reviews each recording."""
        self._check_undecided(at)
        if self.examiner_id == examiner_id:
            return
        require(self.examiner_id is None, "R19", "one examiner per review: already assigned")
        self._assigned(examiner_id=examiner_id, timestamp=at)

    def reassign(
        self, *, at: datetime, examiner_id: UUID, reassigned_by: UUID, reason: str
    ) -> bool:
        """R19: a lead hands the review (or its open appeal) to another examiner, saying why;
        the due date does not move. False when that examiner already has it."""
        require_aware("at", at)
        why = reason.strip()
        if not why:
            raise InvalidArgument("reason", "say why the review is reassigned")
        appeal = self.appeal
        if appeal is not None and appeal.open:
            self._check_second_examiner(examiner_id)
            if appeal.examiner_id == examiner_id:
                return False
            self._appeal_examiner_assigned(
                previous_examiner_id=appeal.examiner_id,
                examiner_id=examiner_id,
                assigned_by=reassigned_by,
                reason=why,
                timestamp=at,
            )
            return True
        require(self.verdict is None, "R19", "the review is decided: nothing to reassign")
        if self.examiner_id == examiner_id:
            return False
        self._reassigned(
            previous_examiner_id=self.examiner_id,
            examiner_id=examiner_id,
            reassigned_by=reassigned_by,
            reason=why,
            timestamp=at,
        )
        return True

    def gather_evidence(self, *, at: datetime, items: tuple[Evidence, ...]) -> int:
        """Add the facts not gathered yet; returns how many were new."""
        self._check_undecided(at)
        known = {item.id for item in self.evidence}
        new = tuple(item for item in items if item.id not in known)
        if len({item.id for item in new}) != len(new):
            raise InvalidArgument("items", "evidence ids must be unique")
        if new:
            self._evidence_gathered(items=new, timestamp=at)
        return len(new)

    def recommend(self, *, at: datetime) -> Recommendation:
        """Run the frozen rule set's verdict function over the evidence gathered so far."""
        self._check_undecided(at)
        require(bool(self.evidence), "R19", "no verdict without evidence: gather it first")
        recommendation = recommend(self.evidence, self.rules)
        if recommendation != self.recommendation:
            self._recommended(recommendation=recommendation, timestamp=at)
        return recommendation

    def decide(
        self,
        *,
        at: datetime,
        examiner_id: UUID,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...] = (),
        excused: tuple[CitedReason, ...] = (),
        overrides: tuple[Override, ...] = (),
    ) -> None:
        """R19/R20: validate, or invalidate with reasons from the closed list citing evidence.
        Validating against a ground of the recommendation needs an override of that ground
        with a written justification (R19: the recommendation advises, the examiner
        decides)."""
        self._check_undecided(at)
        require(self.examiner_id is not None, "R19", "assign an examiner first")
        require(
            examiner_id == self.examiner_id,
            "R19",
            "only the examiner assigned to this review may decide",
        )
        require(bool(self.evidence), "R19", "no verdict without evidence")
        require(
            self.recommendation is not None,
            "R19",
            "compute the recommended verdict over the evidence first",
        )
        assert self.recommendation is not None
        problems = self.decision_problems(
            verdict=verdict, reasons=reasons, excused=excused, overrides=overrides
        )
        if problems:
            raise DecisionRefused(problems)
        self._decided(
            examiner_id=examiner_id,
            verdict=verdict,
            reasons=reasons,
            excused=excused,
            recommendation_version=self.recommendation.version,
            overdue=at.date() > self.due_on,
            overrides=overrides,
            timestamp=at,
        )

    def decision_problems(
        self,
        *,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...] = (),
        excused: tuple[CitedReason, ...] = (),
        overrides: tuple[Override, ...] = (),
    ) -> tuple[DecisionProblem, ...]:
        """Everything that stops this decision, each problem once, in the form's order (the
        reasons, the phone exception, the justifications against grounds); () when it may
        be recorded. `decide` refuses with all of them (`DecisionRefused`); a page shows
        each beside its field."""
        grounds = self.recommendation.grounds if self.recommendation is not None else ()
        known = {item.id: item for item in self.evidence}
        problems: list[DecisionProblem] = []
        # R20: the reasons are an invalidation's. Said as such, not for a moment a
        # validation's reason fails to cite (which would send the examiner to cite one).
        if verdict is Verdict.VALIDATED and reasons:
            problems.append(
                DecisionProblem(
                    Problem.VALIDATION_CITES_REASONS,
                    "R20",
                    Field.REASONS,
                    "a validation cites no invalidation reason: the reasons are an invalidation's",
                )
            )
        elif verdict is Verdict.INVALIDATED and not reasons:
            problems.append(
                DecisionProblem(
                    Problem.NO_REASON,
                    "R20",
                    Field.REASONS,
                    "an invalidation needs at least one reason",
                )
            )
        if verdict is Verdict.INVALIDATED:
            for cited in reasons:
                problems += _citation_problems(cited, known)
                problems += self._flag_hint_problems(cited, known)
        problems += _repeated_reasons((*reasons, *excused))
        for item in excused:
            problems += self._excuse_problems(item, known)
        if verdict is Verdict.VALIDATED:
            problems += _override_problems(grounds, overrides)
        elif overrides:
            problems.append(
                DecisionProblem(
                    Problem.OVERRIDES_ON_INVALIDATION,
                    "R19",
                    Field.OVERRIDES,
                    "only a validation decides against a ground: none to justify",
                )
            )
        return tuple(problems)

    def _flag_hint_problems(
        self, cited: CitedReason, known: dict[str, Evidence]
    ) -> list[DecisionProblem]:
        """FLAG-HINT (from rules-2026-12-flag-hint): invalidating against a « validée »
        recommendation on detector flags alone takes the examiner's words, per reason; the
        replay shows them with the decision."""
        needed = self.rules.flag_hint_justification_min_words
        recommendation = self.recommendation
        if (
            needed is None
            or recommendation is None
            or recommendation.verdict is not Verdict.VALIDATED
            or not rests_on_flags_alone(cited, known)
        ):
            return []
        words = count_words(cited.justification)
        if cited.reason is ReasonCode.OTHER_RULE_BREACH or words >= needed:
            return []  # the other breach's own words (R20) are said once
        if any(e in known for e in cited.evidence_ids):
            return [
                DecisionProblem(
                    Problem.FLAG_UNJUSTIFIED,
                    "FLAG-HINT",
                    Field.JUSTIFICATION,
                    f"the reason {cited.reason.value} rests on detector flags alone against a "
                    f"validated recommendation: justify it in at least {needed} words",
                    cited.reason,
                    needed=needed,
                    given=words,
                )
            ]
        # Nothing of the review cited yet (R20 says so too), and a flag to cite: the words
        # are needed unless a moment other than a flag is cited, said now, not after.
        return [
            DecisionProblem(
                Problem.FLAG_UNJUSTIFIED_UNCITED,
                "FLAG-HINT",
                Field.JUSTIFICATION,
                f"the reason {cited.reason.value} cites no moment other than detector flags "
                f"against a validated recommendation: justify it in at least {needed} words, "
                "unless it cites a moment other than a flag",
                cited.reason,
                needed=needed,
                given=words,
            )
        ]

    @staticmethod
    def _excuse_problems(item: CitedReason, known: dict[str, Evidence]) -> list[DecisionProblem]:
        """R20: only phone use is excused, for a proven technical problem (its record cited)."""
        if item.reason is not ReasonCode.PHONE_USED:
            return [
                DecisionProblem(
                    Problem.ONLY_PHONE_EXCUSED,
                    "R20",
                    Field.EXCUSED,
                    "only phone use can be excused (for a proven technical problem)",
                    item.reason,
                )
            ]
        if not any(
            e in known and known[e].kind == EvidenceKind.TECHNICAL_PROBLEM_RECORDED
            for e in item.evidence_ids
        ):
            return [
                DecisionProblem(
                    Problem.EXCUSE_UNPROVEN,
                    "R20",
                    Field.EXCUSED,
                    "a phone is allowed only for a proven technical problem: cite its record",
                    item.reason,
                )
            ]
        return []

    def release_results(self, *, at: datetime, released_by: UUID) -> None:
        """R19: results are sent after the review, by the examiner who decided it (issue 14:
        not another examiner, a centre or an auditor). An appeal's verdict needs no release:
        the candidate is told it when the second examiner decides."""
        require_aware("at", at)
        require(self.verdict is not None, "R19", "results are released after the decision")
        require(
            released_by == self.examiner_id,
            "R19",
            "only the examiner who decided the review may release its results",
        )
        require(not self.released, "R19", "the results were already released")
        assert self.verdict is not None
        self._released(verdict=self.verdict, released_by=released_by, timestamp=at)

    # --- appeals -------------------------------------------------------------------------

    @property
    def final_verdict(self) -> Verdict | None:
        """What the candidate is told: the appeal's verdict once decided, else the review's."""
        if self.appeal is not None and self.appeal.verdict is not None:
            return self.appeal.verdict
        return self.verdict

    @property
    def grounds_no_appeal_lifts(self) -> tuple[Finding, ...]:
        """The recommendation's grounds: the evidence alone establishes them (a missing photo
        R9, the proctoring tab closed during the exam R17), so an invalidation cannot be
        overturned on appeal while one stands (APPEAL-DECISION, the ground's own rule). The
        appeal's page offers « Valider l'examen » only when there is none."""
        return self.recommendation.grounds if self.recommendation is not None else ()

    def appeal_last_day(self) -> date | None:
        """The last day (inclusive) to contest, once the results were sent."""
        if not self.released:
            return None
        sent = self.released_at or self.decided_at
        assert sent is not None
        return sent.date() + timedelta(days=self.rules.appeal_days)

    def may_be_appealed(self, today: date) -> bool:
        """Whether the 'Contester' form is offered on that local day."""
        last_day = self.appeal_last_day()
        return (
            self.verdict is Verdict.INVALIDATED
            and self.appeal is None
            and last_day is not None
            and today <= last_day
        )

    def lodge_appeal(self, *, at: datetime, candidate_id: UUID, reason: str) -> None:
        """The candidate contests an invalidation, once, within the period, in writing."""
        require_aware("at", at)
        require(
            candidate_id == self.candidate_id,
            "APPEAL-CANDIDATE",
            "only the candidate who took the exam may contest its review",
        )
        require(
            self.verdict is Verdict.INVALIDATED and self.released,
            "APPEAL-INVALIDATION",
            "only an invalidation whose results were sent can be contested",
        )
        require(self.appeal is None, "APPEAL-ONCE", "an invalidation is contested once")
        last_day = self.appeal_last_day()
        assert last_day is not None
        require(
            at.date() <= last_day,
            "APPEAL-PERIOD",
            f"an invalidation is contested within {self.rules.appeal_days} days of the "
            f"results: until {last_day.isoformat()} inclusive",
        )
        text = reason.strip()
        require(bool(text), "APPEAL-REASON", "write why you contest the decision")
        require(
            len(text) <= APPEAL_REASON_MAX_CHARS,
            "APPEAL-REASON",
            f"a reason has at most {APPEAL_REASON_MAX_CHARS} characters ({len(text)} given)",
        )
        self._appeal_lodged(
            candidate_id=candidate_id,
            reason=text,
            due_on=at.date() + timedelta(days=self.rules.review_days),
            timestamp=at,
        )

    def _open_appeal(self) -> Appeal:
        appeal = self.appeal
        require(
            appeal is not None and appeal.open,
            "APPEAL-OPEN",
            "there is no appeal waiting for a decision",
        )
        assert appeal is not None
        return appeal

    def _check_second_examiner(self, examiner_id: UUID) -> None:
        require(
            examiner_id != self.examiner_id,
            "APPEAL-SECOND-EXAMINER",
            "an appeal is decided by a second examiner, never the first",
        )

    def take_appeal(self, *, at: datetime, examiner_id: UUID) -> bool:
        """A second examiner takes the open appeal (one at a time). False if already theirs."""
        require_aware("at", at)
        appeal = self._open_appeal()
        self._check_second_examiner(examiner_id)
        if appeal.examiner_id == examiner_id:
            return False
        require(
            appeal.examiner_id is None,
            "APPEAL-SECOND-EXAMINER",
            "one second examiner per appeal: it is already assigned",
        )
        self._appeal_examiner_assigned(
            previous_examiner_id=None,
            examiner_id=examiner_id,
            assigned_by=examiner_id,
            reason="",
            timestamp=at,
        )
        return True

    def decide_appeal(
        self,
        *,
        at: datetime,
        examiner_id: UUID,
        outcome: AppealOutcome,
        answer: str,
        reasons: tuple[CitedReason, ...] = (),
        recording_viewed: bool | None = None,
    ) -> None:
        """The second examiner upholds the invalidation (its reasons, or new ones citing
        evidence, R20) or overturns it (validated), answering the candidate in writing.
        `recording_viewed`: whether they played the recording (the media views, issue 14);
        overturning needs it (APPEAL-VIEWED). None: not known (a caller that does not
        record views), recorded as such."""
        require_aware("at", at)
        appeal = self._open_appeal()
        self._check_second_examiner(examiner_id)
        require(
            appeal.examiner_id == examiner_id,
            "APPEAL-SECOND-EXAMINER",
            "only the second examiner assigned to the appeal may decide it",
        )
        text = answer.strip()
        require(
            len(text) <= APPEAL_ANSWER_MAX_CHARS,
            "APPEAL-DECISION",
            f"an answer has at most {APPEAL_ANSWER_MAX_CHARS} characters ({len(text)} given)",
        )
        require(
            count_words(text) >= APPEAL_ANSWER_MIN_WORDS,
            "APPEAL-DECISION",
            f"answer the candidate in writing (at least {APPEAL_ANSWER_MIN_WORDS} words)",
        )
        assert self.examiner_id is not None and self.recommendation is not None
        kept: tuple[CitedReason, ...] = ()
        if outcome is AppealOutcome.OVERTURNED:
            if reasons:
                raise InvalidArgument("reasons", "an overturned invalidation has no reason")
            for ground in self.grounds_no_appeal_lifts:
                raise RuleBroken(ground.rule, f"cannot overturn: {ground.explanation}")
            require(
                recording_viewed is not False,
                "APPEAL-VIEWED",
                "an invalidation is overturned only after playing the recording",
            )
            verdict = Verdict.VALIDATED
        else:
            known = {item.id: item for item in self.evidence}
            problems = [p for cited in reasons for p in _citation_problems(cited, known)]
            problems += _repeated_reasons(reasons)
            if problems:
                raise DecisionRefused(tuple(problems))
            verdict, kept = Verdict.INVALIDATED, reasons or self.reasons
        self._appeal_decided(
            examiner_id=examiner_id,
            first_examiner_id=self.examiner_id,
            outcome=outcome,
            verdict=verdict,
            reasons=kept,
            answer=text,
            agrees=verdict is self.verdict,
            recording_viewed=recording_viewed,
            timestamp=at,
        )

    # --- time-driven facts ---------------------------------------------------------------

    def due_deadline(self, tz_of: datetime) -> datetime:
        """The end of the due day, in the time zone of `tz_of`."""
        return datetime.combine(self.due_on + timedelta(days=1), time(0), tzinfo=tz_of.tzinfo)

    def warn_due_soon(self, *, at: datetime) -> bool:
        """R19: tell the examiner when the review is due within 48 hours (once)."""
        require_aware("at", at)
        if self.verdict is not None or self.warned:
            return False
        warning_from = utc(self.due_deadline(at)) - timedelta(hours=self.rules.review_warning_hours)
        if utc(at) < warning_from:
            return False
        self._due_soon(due_on=self.due_on, examiner_id=self.examiner_id, timestamp=at)
        return True

    def mark_overdue(self, *, at: datetime) -> bool:
        """R19: the 8 days passed without a decision (recorded once)."""
        require_aware("at", at)
        if self.verdict is not None or self.overdue or at.date() <= self.due_on:
            return False
        self._overdue(due_on=self.due_on, timestamp=at)
        return True

    # --- event appliers ------------------------------------------------------------------

    @event(ExaminerAssigned)
    def _assigned(self, examiner_id: UUID, timestamp: datetime) -> None:
        self.examiner_id = examiner_id

    @event(EvidenceGathered)
    def _evidence_gathered(self, items: tuple[Evidence, ...], timestamp: datetime) -> None:
        self.evidence = (*self.evidence, *items)
        self.recommendation = None

    @event(VerdictRecommended)
    def _recommended(self, recommendation: Recommendation, timestamp: datetime) -> None:
        self.recommendation = recommendation

    @event(ReviewDecided)
    def _decided(
        self,
        examiner_id: UUID,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...],
        excused: tuple[CitedReason, ...],
        recommendation_version: str,
        overdue: bool,
        timestamp: datetime,
        overrides: tuple[Override, ...] = (),
    ) -> None:
        self.verdict = verdict
        self.reasons = reasons
        self.excused = excused
        self.decided_at = timestamp
        self.overrides = overrides

    @event(ResultsReleased)
    def _released(
        self, verdict: Verdict, timestamp: datetime, released_by: UUID | None = None
    ) -> None:
        self.released = True
        self.released_at = timestamp

    @event(ReviewDueSoon)
    def _due_soon(self, due_on: date, examiner_id: UUID | None, timestamp: datetime) -> None:
        self.warned = True

    @event(ReviewOverdue)
    def _overdue(self, due_on: date, timestamp: datetime) -> None:
        self.overdue = True

    @event(ExaminerReassigned)
    def _reassigned(
        self,
        previous_examiner_id: UUID | None,
        examiner_id: UUID,
        reassigned_by: UUID,
        reason: str,
        timestamp: datetime,
    ) -> None:
        self.examiner_id = examiner_id

    @event(AppealLodged)
    def _appeal_lodged(
        self, candidate_id: UUID, reason: str, due_on: date, timestamp: datetime
    ) -> None:
        self.appeal = Appeal(candidate_id, reason, timestamp, due_on)

    @event(AppealExaminerAssigned)
    def _appeal_examiner_assigned(
        self,
        previous_examiner_id: UUID | None,
        examiner_id: UUID,
        assigned_by: UUID,
        reason: str,
        timestamp: datetime,
    ) -> None:
        if self.appeal is not None:
            self.appeal = replace(self.appeal, examiner_id=examiner_id)

    @event(AppealDecided)
    def _appeal_decided(
        self,
        examiner_id: UUID,
        first_examiner_id: UUID,
        outcome: AppealOutcome,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...],
        answer: str,
        agrees: bool,
        timestamp: datetime,
        recording_viewed: bool | None = None,
    ) -> None:
        if self.appeal is not None:
            self.appeal = replace(
                self.appeal,
                outcome=outcome,
                verdict=verdict,
                reasons=reasons,
                answer=answer,
                decided_at=timestamp,
                recording_viewed=recording_viewed,
            )
