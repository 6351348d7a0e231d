"""Review against a small model: one examiner, evidence first, reasons that cite it.

R19: one examiner (a second one is refused), no verdict without evidence and a recommendation
computed over it, only the assigned examiner decides, once, and results are released after
the decision. R20: an invalidation gives reasons from the closed list, each citing known
evidence, and a validation gives none; other_rule_breach needs a written justification of at
least 5 words; phone use is excused only by citing a recorded technical problem. The
recommendation advises and the examiner decides (R19, issue 12): a validation against grounds
(R9 missing photo, R17 proctoring tab closed during the exam) is refused with the ground's
rule unless every ground is overridden in writing, at least 10 words each (shorter: refused
on the justification).

Reassignment (R19): a lead hands an undecided review to another examiner, saying why; the due
date stays. Appeals: the candidate contests a sent invalidation once (APPEAL-ONCE), within 14
days (APPEAL-PERIOD), in writing (APPEAL-REASON); a second examiner, never the first
(APPEAL-SECOND-EXAMINER), upholds or overturns it with a written answer (APPEAL-DECISION);
the first decision stays as it was and the candidate is told the appeal's verdict.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.evidence import Evidence, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.review import (
    AppealOutcome,
    CitedReason,
    DecisionRefused,
    Override,
    Review,
    override_of,
)
from domain.rules import RULES_2025_03
from domain.verdict import Finding, recommend
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

REVIEW_DAYS = 8  # R19
OTHER_MIN_WORDS = 5  # R20: other_rule_breach's written justification
OVERRIDE_MIN_WORDS = 10  # R19: deciding against a ground, in writing
APPEAL_DAYS = 14
APPEAL_REASON_MAX = 2000
APPEAL_ANSWER_MIN_WORDS = 5
TIME_ZONES = ("Europe/Paris", "UTC", "Pacific/Noumea")

# (kind, flag, during_exam): the facts a proctored session records and a review cites.
evidence_specs = st.one_of(
    st.just(("FacePhotoConfirmed", None, False)),
    st.just(("IdPhotoConfirmed", None, False)),
    st.tuples(st.just("ProctoringTabClosed"), st.none(), st.booleans()),
    st.tuples(st.just("FlagRaised"), st.sampled_from(FlagKind), st.just(False)),
    st.just(("TechnicalProblemRecorded", None, False)),
    st.just(("ExamLaunched", None, False)),
)
# (reason, how it cites, words of justification); mostly well-formed so decisions happen.
reason_specs = st.lists(
    st.tuples(
        st.sampled_from(ReasonCode),
        st.sampled_from(["known", "known", "known", "nothing", "unknown"]),
        st.integers(0, 8),
        st.integers(0, 100),
    ),
    max_size=3,
)
excused_specs = st.sampled_from(
    ["nothing", "phone, citing the technical problem", "phone, citing no proof", "headphones"]
)


@dataclass
class ReviewModel:
    """A review as the guide and the product page tell it."""

    due_on: date
    examiner: UUID | None = None
    evidence: list[Evidence] = field(default_factory=list)
    recommended: bool = False  # a recommendation exists for the evidence gathered so far
    verdict: Verdict | None = None
    released: bool = False
    released_on: date | None = None
    appealed: bool = False
    appeal_examiner: UUID | None = None
    appeal_verdict: Verdict | None = None

    @property
    def appeal_open(self) -> bool:
        return self.appealed and self.appeal_verdict is None

    def appeal_decision(
        self,
        examiner: UUID,
        outcome: AppealOutcome,
        words: int,
        reasons: tuple[CitedReason, ...],
    ) -> str | None:
        """The rule refusing the second examiner's decision, or None."""
        if not self.appeal_open:
            return "APPEAL-OPEN"
        if examiner == self.examiner or examiner != self.appeal_examiner:
            return "APPEAL-SECOND-EXAMINER"
        if words < APPEAL_ANSWER_MIN_WORDS:
            return "APPEAL-DECISION"
        if outcome is AppealOutcome.OVERTURNED:
            if reasons:
                return "invalid:reasons"
            return self.ground()
        known = {item.id for item in self.evidence}
        for cited in reasons:
            if not cited.evidence_ids or any(e not in known for e in cited.evidence_ids):
                return "R20"
            words_given = len(cited.justification.split())
            if cited.reason is ReasonCode.OTHER_RULE_BREACH and words_given < OTHER_MIN_WORDS:
                return "R20"
        if len({c.reason for c in reasons}) != len(reasons):
            return "invalid:reasons"
        return None

    def grounds(self) -> list[str]:
        """The rules of the recommendation's grounds, in its order: R9 per missing photo
        (face, then ID), R17 for the proctoring tab closed during the exam."""
        kinds = {item.kind for item in self.evidence}
        rules = ["R9" for photo in ("FacePhotoConfirmed", "IdPhotoConfirmed") if photo not in kinds]
        if any(i.kind == "ProctoringTabClosed" and i.during_exam for i in self.evidence):
            rules.append("R17")
        return rules

    def ground(self) -> str | None:
        """The first ground against a validation: R9 a missing photo, R17 a closed tab."""
        kinds = {item.kind for item in self.evidence}
        if not {"FacePhotoConfirmed", "IdPhotoConfirmed"} <= kinds:
            return "R9"
        if any(i.kind == "ProctoringTabClosed" and i.during_exam for i in self.evidence):
            return "R17"
        return None

    def decision(
        self,
        examiner: UUID,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...],
        excused: tuple[CitedReason, ...],
        justify: str = "none",
        grounds: tuple[Finding, ...] = (),
    ) -> str | list[tuple[str, str]] | None:
        """The rule refusing the command as a whole (whose review it is, whether it can be
        decided), or every problem of the decision as (rule, field), each once, or None.
        `justify` says which grounds the examiner overrode in writing (see `_overrides`);
        `grounds` the recommendation's, in order: two missing photos anchored to the same
        fact are one ground to justify."""
        if self.verdict is not None or self.examiner is None or examiner != self.examiner:
            return "R19"
        if not self.evidence or not self.recommended:
            return "R19"
        problems: list[tuple[str, str]] = []
        if verdict is Verdict.VALIDATED and reasons:
            problems.append(("R20", "reasons"))  # the reasons are an invalidation's
        elif verdict is Verdict.INVALIDATED and not reasons:
            problems.append(("R20", "reasons"))
        known = {item.id: item for item in self.evidence}
        if verdict is Verdict.INVALIDATED:
            for cited in reasons:
                if not cited.evidence_ids:
                    problems.append(("R20", "evidence"))
                if any(e not in known for e in cited.evidence_ids):
                    problems.append(("R20", "evidence"))
                words = len(cited.justification.split())
                if cited.reason is ReasonCode.OTHER_RULE_BREACH and words < OTHER_MIN_WORDS:
                    problems.append(("R20", "justification"))
        codes = [c.reason for c in (*reasons, *excused)]
        problems += [("R20", "reasons") for code in set(codes) if codes.count(code) > 1]
        for item in excused:
            if item.reason is not ReasonCode.PHONE_USED or not any(
                e in known and known[e].kind == "TechnicalProblemRecorded"
                for e in item.evidence_ids
            ):
                problems.append(("R20", "excused"))
        assert [g.rule for g in grounds] == self.grounds()
        if verdict is Verdict.VALIDATED:
            if justify == "every ground, too short":
                problems += [("R19", "override") for _ in grounds]
            elif justify == "the first ground only" and grounds:
                # Every ground but the first one (and its identical twins).
                first = _key(grounds[0])
                problems += [(g.rule, "override") for g in grounds if _key(g) != first]
            elif justify == "none":
                problems += [(g.rule, "override") for g in grounds]
        elif grounds and justify != "none":
            problems.append(("R19", "overrides"))
        return sorted(problems) or None


def _key(ground: Finding) -> tuple[object, ...]:
    return (ground.rule, ground.reason, ground.evidence_ids)


def _distinct(grounds: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The grounds an examiner justifies: identical ones (same rule, reason and evidence, as two
    missing photos anchored to the same fact) are one."""
    seen: dict[tuple[object, ...], Finding] = {}
    for ground in grounds:
        seen.setdefault((ground.rule, ground.reason, ground.evidence_ids), ground)
    return tuple(seen.values())


class ReviewMachine(RuleBasedStateMachine):
    """Examiners and the evidence gatherer acting on one review in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.review: Review | None = None
        self.log: list[Any] = []
        self.next_id = 1

    # --- helpers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.astimezone(self.zone)

    def _evidence(self, kind: str, flag: FlagKind | None, during_exam: bool) -> Evidence:
        evidence_id = f"{self.session_id}/{self.next_id}"
        self.next_id += 1
        spans = kind in {"FlagRaised", "ProctoringTabClosed"}
        return Evidence(
            id=evidence_id,
            kind=kind,
            at=self.now,
            span=MediaSpan(10.0 * self.next_id, 10.0 * self.next_id + 4) if spans else None,
            flag=flag,
            confidence=0.8 if flag else None,
            during_exam=during_exam,
        )

    def _cite(self, how: str, pick: int) -> tuple[str, ...]:
        ids = [item.id for item in self.model.evidence]
        if how == "nothing" or not ids:
            return ()
        if how == "unknown":
            return (f"{self.session_id}/0",)  # ids start at 1: never gathered
        return (ids[pick % len(ids)],)

    def _excused(self, spec: str, pick: int) -> tuple[CitedReason, ...]:
        problems = [i.id for i in self.model.evidence if i.kind == "TechnicalProblemRecorded"]
        others = [i.id for i in self.model.evidence if i.kind != "TechnicalProblemRecorded"]
        if spec == "phone, citing the technical problem" and problems:
            return (CitedReason(ReasonCode.PHONE_USED, (problems[pick % len(problems)],)),)
        if spec == "phone, citing no proof" and others:
            return (CitedReason(ReasonCode.PHONE_USED, (others[pick % len(others)],)),)
        if spec == "headphones":
            return (CitedReason(ReasonCode.HEADPHONES, self._cite("known", pick)),)
        return ()

    # --- setup ---------------------------------------------------------------------------

    @initialize(
        zone=st.sampled_from(TIME_ZONES),
        opened=st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31)),
        ids=st.lists(st.uuids(), min_size=8, max_size=8, unique=True),
        recorded=st.lists(evidence_specs, max_size=8),
    )
    def open_the_review(
        self,
        zone: str,
        opened: datetime,
        ids: list[UUID],
        recorded: list[tuple[str, FlagKind | None, bool]],
    ) -> None:
        self.zone = ZoneInfo(zone)
        self.clock = opened.replace(tzinfo=UTC)
        self.session_id = ids[1]
        self.examiners = (ids[4], ids[5], ids[6])
        self.candidate, self.lead = ids[3], ids[7]
        self.model = ReviewModel(due_on=self.now.date() + timedelta(days=REVIEW_DAYS))
        self.review = Review.open(
            review_id=ids[0],
            session_id=ids[1],
            attempt_id=ids[2],
            candidate_id=ids[3],
            certification_code="ACCESS-2019",
            rules=RULES_2025_03,  # the model's grounds are verdict-2025-03's
            at=self.now,
        )
        self.log.extend(self.review.collect_events())
        # The session's facts are usually there when the examiner opens the review.
        self.gather_evidence(recorded, resend_known=False, duplicate_a_new_id=False)

    # --- time ----------------------------------------------------------------------------

    @rule(days=st.integers(0, 5), hours=st.integers(0, 23))
    def time_passes_towards_the_8_day_deadline_r19(self, days: int, hours: int) -> None:
        self.clock += timedelta(days=days, hours=hours)

    # --- commands ------------------------------------------------------------------------

    @rule(which=st.sampled_from([0, 1]))
    def assign_one_examiner_r19(self, which: int) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None
        examiner = self.examiners[which]

        def command() -> None:
            review.assign(at=at, examiner_id=examiner)

        if model.verdict is not None:
            expect_refusal(review, command, "R19")
        elif model.examiner == examiner:
            expect_success(review, command, self.log, events=0)  # asking twice changes nothing
        elif model.examiner is not None:
            expect_refusal(review, command, "R19")
        else:
            expect_success(review, command, self.log)
            model.examiner = examiner

    @rule(
        specs=st.lists(evidence_specs, max_size=4),
        resend_known=st.booleans(),
        duplicate_a_new_id=st.sampled_from([False, False, False, True]),
    )
    def gather_evidence(
        self,
        specs: list[tuple[str, FlagKind | None, bool]],
        resend_known: bool,
        duplicate_a_new_id: bool,
    ) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None
        new = [self._evidence(*spec) for spec in specs]
        items = [*new, *(model.evidence[:2] if resend_known else [])]
        if duplicate_a_new_id and new:
            items.append(new[0])

        def command() -> int:
            return review.gather_evidence(at=at, items=tuple(items))

        if model.verdict is not None:
            expect_refusal(review, command, "R19")
        elif duplicate_a_new_id and new:
            expect_refusal(review, command, "invalid:items")
        else:
            # Facts already gathered are ignored: re-sending them records nothing.
            assert expect_success(review, command, self.log, events=1 if new else 0) == len(new)
            if new:
                model.evidence.extend(new)
                model.recommended = False

    @rule()
    def recommend_a_verdict_only_from_evidence(self) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None

        def command() -> object:
            return review.recommend(at=at)

        if model.verdict is not None or not model.evidence:
            expect_refusal(review, command, "R19")
            return
        recommendation = expect_success(
            review, command, self.log, events=0 if model.recommended else 1
        )
        model.recommended = True
        ground = model.ground()
        expected = Verdict.INVALIDATED if ground else Verdict.VALIDATED
        assert getattr(recommendation, "verdict", None) is expected
        if ground:
            rules = {g.rule for g in getattr(recommendation, "grounds", ())}
            assert ground in rules

    @rule(
        assigned=st.sampled_from([True, True, True, False]),
        verdict=st.sampled_from(Verdict),
        reasons=reason_specs,
        excused=excused_specs,
        pick=st.integers(0, 100),
        prepared=st.booleans(),
        justify=st.sampled_from(
            ["none", "every ground", "every ground, too short", "the first ground only"]
        ),
    )
    def decide(
        self,
        assigned: bool,
        verdict: Verdict,
        reasons: list[tuple[ReasonCode, str, int, int]],
        excused: str,
        pick: int,
        prepared: bool,
        justify: str,
    ) -> None:
        model = self.model
        if prepared and model.verdict is None:
            # Reach R20's checks more often than R19's "assign / recommend first".
            if model.examiner is None:
                self.assign_one_examiner_r19(0)
            if model.evidence and not model.recommended:
                self.recommend_a_verdict_only_from_evidence()
        if assigned and model.examiner is not None:
            examiner = model.examiner
        else:
            examiner = next(e for e in self.examiners if e != model.examiner)
        cited = tuple(
            CitedReason(code, self._cite(how, index), " ".join(["motif"] * words))
            for code, how, words, index in reasons
        )
        self._decide(examiner, verdict, cited, self._excused(excused, pick), justify)

    def _overrides(self, justify: str) -> tuple[Override, ...]:
        """The examiner's written overrides of the recommendation's grounds (R19)."""
        review = self.review
        assert review is not None
        if review.recommendation is None or justify == "none":
            return ()
        grounds = _distinct(review.recommendation.grounds)
        if justify == "the first ground only":
            grounds = grounds[:1]
        words = OVERRIDE_MIN_WORDS - 1 if justify.endswith("too short") else OVERRIDE_MIN_WORDS
        text = " ".join(["vu"] * (words - 1) + ["l'enregistrement"])
        return tuple(override_of(g, text) for g in grounds)

    @rule(excuse_the_phone=st.booleans())
    def decide_as_the_evidence_says(self, excuse_the_phone: bool) -> None:
        """An examiner following the recommendation: makes accepted decisions likely."""
        review, model = self.review, self.model
        assert review is not None
        if model.verdict is not None or model.examiner is None or not model.evidence:
            return
        if not model.recommended:
            self.recommend_a_verdict_only_from_evidence()
        assert review.recommendation is not None
        grounds = review.recommendation.grounds
        reasons = tuple(CitedReason(g.reason, g.evidence_ids) for g in grounds[:1])
        excused = self._excused("phone, citing the technical problem", 0)
        verdict = Verdict.INVALIDATED if grounds else Verdict.VALIDATED
        self._decide(model.examiner, verdict, reasons, excused if excuse_the_phone else ())

    def _decide(
        self,
        examiner: UUID,
        verdict: Verdict,
        reasons: tuple[CitedReason, ...],
        excused: tuple[CitedReason, ...],
        justify: str = "none",
    ) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None
        overrides = self._overrides(justify)

        def command() -> None:
            review.decide(
                at=at,
                examiner_id=examiner,
                verdict=verdict,
                reasons=reasons,
                excused=excused,
                overrides=overrides,
            )

        recommended = review.recommendation.grounds if review.recommendation else ()
        distinct = [g.rule for g in _distinct(recommended)]
        expected = model.decision(examiner, verdict, reasons, excused, justify, recommended)
        if isinstance(expected, str):
            expect_refusal(review, command, expected)
            return
        if expected:
            # Every problem at once, each beside its field (a user's tour: one per click).
            before = copy.deepcopy(state_of(review))
            with pytest.raises(DecisionRefused) as refusal:
                command()
            assert review.collect_events() == [] and state_of(review) == before
            refused = refusal.value
            assert (refused.rule, refused.field) == (
                refused.problems[0].rule,
                refused.problems[0].field.value,
            )
            given = sorted((p.rule, p.field.value) for p in refused.problems)
            assert given == expected, (given, expected)
            assert refused.problems == review.decision_problems(
                verdict=verdict, reasons=reasons, excused=excused, overrides=overrides
            )
            return
        expect_success(review, command, self.log)
        model.verdict = verdict
        assert self.log[-1].overdue is (at.date() > model.due_on)
        assert review.reasons == reasons
        assert review.excused == excused
        # R19: what the examiner decided against, in writing, is in the recorded decision.
        assert review.overrides == self.log[-1].overrides == overrides
        assert len(overrides) == (len(distinct) if verdict is Verdict.VALIDATED else 0)

    @rule()
    def release_the_results_after_the_decision_r19(self) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None

        def command() -> None:
            review.release_results(at=at, released_by=review.examiner_id or uuid4())

        if model.verdict is None or model.released:
            expect_refusal(review, command, "R19")
            return
        expect_success(review, command, self.log)
        model.released = True
        model.released_on = at.date()

    # --- reassignment (R19) -------------------------------------------------------------

    @rule(which=st.sampled_from([0, 1, 2]), why=st.sampled_from(["absent", "   "]))
    def a_lead_reassigns_the_review_or_its_appeal_r19(self, which: int, why: str) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None
        examiner = self.examiners[which]

        def command() -> object:
            return review.reassign(at=at, examiner_id=examiner, reassigned_by=self.lead, reason=why)

        if not why.strip():
            expect_refusal(review, command, "invalid:reason")
        elif model.appeal_open:
            if examiner == model.examiner:
                expect_refusal(review, command, "APPEAL-SECOND-EXAMINER")
            elif examiner == model.appeal_examiner:
                assert expect_success(review, command, self.log, events=0) is False
            else:
                assert expect_success(review, command, self.log) is True
                model.appeal_examiner = examiner
        elif model.verdict is not None:
            expect_refusal(review, command, "R19")
        elif examiner == model.examiner:
            assert expect_success(review, command, self.log, events=0) is False
        else:
            assert expect_success(review, command, self.log) is True
            model.examiner = examiner

    # --- appeals -------------------------------------------------------------------------

    @rule(
        own=st.sampled_from([True, True, True, False]),
        reason=st.sampled_from(
            ["la webcam était mal réglée"] * 3 + ["", "  ", "x" * 2001, "y" * 2000]
        ),
        prepared=st.booleans(),
    )
    def the_candidate_contests_an_invalidation_once(
        self, own: bool, reason: str, prepared: bool
    ) -> None:
        review, model = self.review, self.model
        assert review is not None
        if prepared:
            # Reach the appeal's own rules more often than "decide and send first".
            if model.verdict is None and model.examiner is None:
                self.assign_one_examiner_r19(0)
            if model.verdict is None and model.ground() is None and model.examiner:
                # An invalidation the evidence does not force: one an appeal may overturn.
                self.recommend_a_verdict_only_from_evidence()
                first = (model.evidence[0].id,) if model.evidence else ()
                cited = (CitedReason(ReasonCode.HEADPHONES, first),)
                self._decide(model.examiner, Verdict.INVALIDATED, cited, ())
            if model.verdict is None:
                self.decide_as_the_evidence_says(excuse_the_phone=False)
            if model.verdict is not None and not model.released:
                self.release_the_results_after_the_decision_r19()
        at = self.now
        candidate = self.candidate if own else self.lead

        def command() -> None:
            review.lodge_appeal(at=at, candidate_id=candidate, reason=reason)

        if not own:
            expected: str | None = "APPEAL-CANDIDATE"
        elif model.verdict is not Verdict.INVALIDATED or not model.released:
            expected = "APPEAL-INVALIDATION"
        elif model.appealed:
            expected = "APPEAL-ONCE"
        elif model.released_on is not None and at.date() > model.released_on + timedelta(
            days=APPEAL_DAYS
        ):
            expected = "APPEAL-PERIOD"
        elif not reason.strip() or len(reason.strip()) > APPEAL_REASON_MAX:
            expected = "APPEAL-REASON"
        else:
            expected = None
        if expected:
            expect_refusal(review, command, expected)
            return
        expect_success(review, command, self.log)
        model.appealed = True

    @rule(which=st.sampled_from([0, 1, 2]))
    def a_second_examiner_takes_the_appeal(self, which: int) -> None:
        review, at, model = self.review, self.now, self.model
        assert review is not None
        examiner = self.examiners[which]

        def command() -> object:
            return review.take_appeal(at=at, examiner_id=examiner)

        if not model.appeal_open:
            expect_refusal(review, command, "APPEAL-OPEN")
        elif examiner == model.examiner:
            expect_refusal(review, command, "APPEAL-SECOND-EXAMINER")
        elif examiner == model.appeal_examiner:
            assert expect_success(review, command, self.log, events=0) is False
        elif model.appeal_examiner is not None:
            expect_refusal(review, command, "APPEAL-SECOND-EXAMINER")
        else:
            assert expect_success(review, command, self.log) is True
            model.appeal_examiner = examiner

    @rule(
        which=st.sampled_from(["second", "second", "first", "any"]),
        outcome=st.sampled_from(AppealOutcome),
        words=st.sampled_from([8, 8, 2]),
        reasons=reason_specs,
        pick=st.integers(0, 100),
    )
    def the_second_examiner_decides_the_appeal(
        self,
        which: str,
        outcome: AppealOutcome,
        words: int,
        reasons: list[tuple[ReasonCode, str, int, int]],
        pick: int,
    ) -> None:
        review, model = self.review, self.model
        assert review is not None
        if which == "second" and not model.appealed:
            self.the_candidate_contests_an_invalidation_once(True, "je conteste", prepared=True)
        at = self.now
        if which == "second" and model.appeal_open and model.appeal_examiner is None:
            self.a_second_examiner_takes_the_appeal((self.examiners.index(model.examiner) + 1) % 3)  # type: ignore[arg-type]
        if which == "second" and model.appeal_examiner is not None:
            examiner = model.appeal_examiner
        elif which == "first" and model.examiner is not None:
            examiner = model.examiner
        else:
            examiner = self.examiners[pick % 3]
        cited = tuple(
            CitedReason(code, self._cite(how, index), " ".join(["motif"] * count))
            for code, how, count, index in reasons
        )
        answer = " ".join(["réponse"] * words)

        def command() -> None:
            review.decide_appeal(
                at=at, examiner_id=examiner, outcome=outcome, answer=answer, reasons=cited
            )

        expected = model.appeal_decision(examiner, outcome, words, cited)
        if expected:
            expect_refusal(review, command, expected)
            return
        expect_success(review, command, self.log)
        model.appeal_verdict = (
            Verdict.VALIDATED if outcome is AppealOutcome.OVERTURNED else Verdict.INVALIDATED
        )
        decided = self.log[-1]
        assert decided.agrees is (model.appeal_verdict is model.verdict)
        assert decided.first_examiner_id == model.examiner != decided.examiner_id
        assert review.reasons  # the first decision is kept as it was
        assert review.appeal is not None
        assert review.appeal.reasons == (
            cited or review.reasons if outcome is AppealOutcome.UPHELD else ()
        )

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def replaying_the_log_rebuilds_the_live_state(self) -> None:
        if self.review is None:
            return
        assert state_of(replay(self.log)) == state_of(self.review)

    @invariant()
    def no_verdict_without_evidence_and_a_recommendation_r19(self) -> None:
        review = self.review
        if review is None:
            return
        if review.verdict is not None:
            assert review.evidence
            assert review.recommendation is not None
            assert review.examiner_id is not None
            assert review.decided_at is not None
        if review.verdict is Verdict.INVALIDATED:
            assert review.reasons
        if review.verdict is Verdict.VALIDATED:
            assert not review.reasons
            assert review.recommendation is not None
            # R19: a ground stands against a validation only if it was overridden in writing.
            for ground in review.recommendation.grounds:
                assert any(o.overrides(ground) for o in review.overrides), ground
        if review.released:
            assert review.verdict is not None

    @invariant()
    def every_citation_points_to_gathered_evidence_r20(self) -> None:
        review = self.review
        if review is None:
            return
        ids = [item.id for item in review.evidence]
        assert len(ids) == len(set(ids))
        for cited in (*review.reasons, *review.excused):
            assert cited.evidence_ids
            assert set(cited.evidence_ids) <= set(ids)
        if review.recommendation is not None:
            # The stored recommendation is always the one for the evidence gathered so far.
            assert review.recommendation == recommend(review.evidence, review.rules)

    @invariant()
    def the_review_matches_its_model(self) -> None:
        review = self.review
        if review is None:
            return
        model = self.model
        assert review.due_on == model.due_on
        assert review.examiner_id == model.examiner
        assert list(review.evidence) == model.evidence
        assert (review.recommendation is not None) is model.recommended
        assert review.verdict is model.verdict
        assert review.released is model.released
        assert (review.appeal is not None) is model.appealed
        if review.appeal is not None:
            assert review.appeal.examiner_id == model.appeal_examiner
            assert review.appeal.examiner_id != review.examiner_id
            assert review.appeal.verdict is model.appeal_verdict
        assert review.final_verdict is (model.appeal_verdict or model.verdict)


ReviewMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestAReviewBehavesLikeTheGuidesModel = ReviewMachine.TestCase
