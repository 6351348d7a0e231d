"""verdict-2026-12 (rules-2026-12): R17 inside the exam window, the guide's ways of leaving as
interruptions, flags before « Commencer » never grounds (R21).

The exam window runs from « Commencer » (ExamBegun) to the end (ExamValidated, ExamQuit, or
ExamFinished when the time ran out). Spanned facts are placed by their media span: seconds
from the first SessionEntered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from app.evidence_gathering import same_fact, to_evidence
from domain.evidence import Evidence, EvidenceKind, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.guide import Step
from domain.proctored_session import ProctoredSession
from domain.rules import (
    CURRENT_RULES,
    RULES_2025_03,
    RULES_2025_03_STRICT_FACES,
    RULES_2026_12,
    RULES_2026_12_STRICT_FACES,
)
from domain.verdict import (
    WORKSPACE_LOSS_NOTICE_S,
    InterruptionKind,
    Recommendation,
    exam_window,
    moment_of,
    recommend,
)

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # the first entry: media second 0
BEGIN_S = 30 * 60.0  # « Commencer » 30 minutes after the first entry
END_S = 100 * 60.0  # « Oui, envoyer » 100 minutes after it
REASON = "mon écran était bloqué, j'ai suivi la procédure du guide et je reprends"


@dataclass
class Facts:
    """A session's and an attempt's evidence, written as the journey happens."""

    items: list[Evidence] = field(default_factory=list)

    def add(self, kind: EvidenceKind, at_s: float, **values: object) -> str:
        stream = "attempt" if kind.value.startswith(("Exam", "Workspace")) else "session"
        if kind is EvidenceKind.EXAM_LAUNCHED:
            stream = "session"
        evidence_id = f"{stream}/{len(self.items) + 1}"
        at = T0 + timedelta(seconds=at_s)
        self.items.append(Evidence(evidence_id, kind, at, **values))  # type: ignore[arg-type]
        return evidence_id

    def closure(self, start_s: float, grace_s: float = 20.0) -> str:
        """The proctoring tab went quiet at start_s; noticed after the grace period."""
        return self.add(
            EvidenceKind.PROCTORING_TAB_CLOSED,
            start_s + grace_s,
            span=MediaSpan(start_s, start_s + grace_s),
            during_exam=True,  # what the session says once launched: not the new window
        )

    def flag(self, kind: FlagKind, start_s: float, confidence: float = 0.95) -> str:
        """A detector's flag, reported late (its span says when it was)."""
        return self.add(
            EvidenceKind.FLAG_RAISED,
            start_s + 300,
            span=MediaSpan(start_s, start_s + 5),
            flag=kind,
            confidence=confidence,
        )


def honest_journey(*, finished_by: str | None = None, ended: bool = True) -> Facts:
    """Entry, both photos, the desk recording launching the exam, « Commencer », the end."""
    facts = Facts()
    facts.add(EvidenceKind.SESSION_OPENED, -3600)
    facts.add(EvidenceKind.SESSION_ENTERED, 0)
    facts.add(EvidenceKind.FACE_PHOTO_CONFIRMED, 600)
    facts.add(EvidenceKind.ID_PHOTO_CONFIRMED, 700)
    facts.add(EvidenceKind.EXAM_LAUNCHED, 1200)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, 1500)
    facts.add(EvidenceKind.EXAM_BEGUN, BEGIN_S)
    if finished_by is not None:
        facts.add(EvidenceKind.EXAM_FINISHED, END_S - 300, note=finished_by)
    if ended:
        facts.add(EvidenceKind.EXAM_VALIDATED, END_S)
    return facts


def judge(facts: Facts, rules: object = RULES_2026_12) -> Recommendation:
    return recommend(facts.items, rules)  # type: ignore[arg-type]


def r17(recommendation: Recommendation) -> tuple[str, ...]:
    return tuple(e for g in recommendation.grounds if g.rule == "R17" for e in g.evidence_ids)


def kinds_of(recommendation: Recommendation) -> list[InterruptionKind]:
    return [i.kind for i in recommendation.interruptions]


# --- the current rule set -------------------------------------------------------------------


def test_the_current_rule_set_judges_with_verdict_2026_12() -> None:
    # rules-2026-12-live-slot (R2's entry window) kept rules-2026-12's verdict function.
    assert CURRENT_RULES.verdict_version == RULES_2026_12.verdict_version == "verdict-2026-12"
    assert judge(honest_journey()) == Recommendation(
        "verdict-2026-12", Verdict.VALIDATED, (), (), ()
    )


# --- R17: the window is the exam itself -----------------------------------------------------


def test_closing_the_proctoring_tab_before_commencer_is_no_ground_r17() -> None:
    """The desk recording launched the exam, but « Commencer » was not pressed yet."""
    facts = honest_journey()
    closed = facts.closure(BEGIN_S - 120)
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.VALIDATED
    assert recommendation.interruptions[0].kind is InterruptionKind.OUTSIDE_EXAM
    assert recommendation.interruptions[0].evidence_ids == (closed,)
    # The same facts under verdict-2025-03 (from the desk recording on) were a ground.
    assert recommend(facts.items, RULES_2025_03).verdict is Verdict.INVALIDATED


def test_closing_the_proctoring_tab_after_validation_is_no_ground_r17() -> None:
    facts = honest_journey()
    facts.closure(END_S + 5)
    assert judge(facts).verdict is Verdict.VALIDATED
    assert kinds_of(judge(facts)) == [InterruptionKind.OUTSIDE_EXAM]


def test_closing_the_proctoring_tab_during_the_exam_is_an_r17_ground() -> None:
    facts = honest_journey()
    closed = facts.closure(BEGIN_S + 600)
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.INVALIDATED
    assert r17(recommendation) == (closed,)
    (ground,) = recommendation.grounds
    assert ground.reason is ReasonCode.PROCTORING_TAB_CLOSED


def test_a_closure_noticed_after_the_end_but_gone_quiet_during_the_exam_is_a_ground_r17() -> None:
    """The closure is placed where the tab went quiet, not where the grace ran out."""
    facts = honest_journey()
    closed = facts.closure(END_S - 10, grace_s=60)
    assert r17(judge(facts)) == (closed,)


def test_between_finishing_and_validating_the_exam_is_still_on_r17() -> None:
    """The candidate ended the exam; results are shown full screen until « Oui, envoyer »."""
    facts = honest_journey(finished_by="candidate")
    closed = facts.closure(END_S - 120)
    assert r17(judge(facts)) == (closed,)


def test_when_the_time_ran_out_the_window_ends_with_the_exam_r17() -> None:
    facts = honest_journey(finished_by="time_limit")
    facts.closure(END_S - 120)
    assert judge(facts).verdict is Verdict.VALIDATED
    assert exam_window(facts.items).end == T0 + timedelta(seconds=END_S - 300)


def test_an_exam_never_begun_has_no_window_and_no_r17_ground() -> None:
    facts = honest_journey(ended=False)
    facts.items = [i for i in facts.items if i.kind is not EvidenceKind.EXAM_BEGUN]
    facts.add(EvidenceKind.EXAM_QUIT, BEGIN_S + 60)
    facts.closure(BEGIN_S + 30)
    assert exam_window(facts.items).start is None
    assert judge(facts).verdict is Verdict.VALIDATED


# --- R14: a deferral ------------------------------------------------------------------------


def test_a_deferral_before_commencer_is_an_interruption_not_a_ground_r14() -> None:
    """The guide: leave full screen, close both windows, come back later."""
    facts = honest_journey(ended=False)
    facts.items = [i for i in facts.items if i.kind is not EvidenceKind.EXAM_BEGUN]
    deferred = facts.add(EvidenceKind.EXAM_DEFERRED, 1600)
    tab = facts.closure(1610)
    facts.add(EvidenceKind.SESSION_ENTERED, 5000, note=REASON)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, 5200)
    facts.add(EvidenceKind.EXAM_BEGUN, 5400)
    facts.add(EvidenceKind.EXAM_VALIDATED, 9000)
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.VALIDATED
    assert not recommendation.grounds
    by_kind = {i.kind: i for i in recommendation.interruptions}
    assert by_kind[InterruptionKind.DEFERRAL].evidence_ids == (deferred,)
    assert by_kind[InterruptionKind.DEFERRAL].rule == "R14"
    assert by_kind[InterruptionKind.OUTSIDE_EXAM].evidence_ids == (tab,)


# --- R23: the blocked screen ----------------------------------------------------------------


def blocked_screen(
    facts: Facts, *, loss_s: float, closure_s: float, back_s: float
) -> tuple[str, str, str]:
    """The guide's procedure; the ids of the loss, the closure and the re-entry."""
    lost = facts.add(EvidenceKind.WORKSPACE_LOST, loss_s)
    closed = facts.closure(closure_s)
    back = facts.add(EvidenceKind.SESSION_ENTERED, back_s, note=REASON)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, back_s + 60)
    return lost, closed, back


def test_the_blocked_screen_procedure_is_an_interruption_not_a_ground_r23() -> None:
    """Exam tab closed (the server records the workspace lost), then the proctoring window,
    then a re-entry from the welcome mail with a resume reason (R6)."""
    facts = honest_journey()
    procedure = blocked_screen(
        facts, loss_s=BEGIN_S + 900, closure_s=BEGIN_S + 910, back_s=BEGIN_S + 1200
    )
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.VALIDATED
    (interruption,) = recommendation.interruptions
    assert interruption.kind is InterruptionKind.BLOCKED_SCREEN
    assert interruption.rule == "R23"
    assert interruption.evidence_ids == procedure


def test_the_loss_may_be_noticed_shortly_after_the_proctoring_tab_went_quiet_r23() -> None:
    """The server notices the exam tab's loss after its heartbeat grace."""
    facts = honest_journey()
    blocked_screen(
        facts,
        loss_s=BEGIN_S + 900 + WORKSPACE_LOSS_NOTICE_S,
        closure_s=BEGIN_S + 900,
        back_s=BEGIN_S + 1200,
    )
    assert judge(facts).verdict is Verdict.VALIDATED


def test_closing_the_proctoring_tab_while_the_exam_tab_stays_open_is_still_a_ground_r17() -> None:
    """No loss of the workspace: the candidate kept the exam, unwatched."""
    facts = honest_journey()
    closed = facts.closure(BEGIN_S + 900)
    facts.add(EvidenceKind.SESSION_ENTERED, BEGIN_S + 1200, note=REASON)
    assert r17(judge(facts)) == (closed,)


def test_a_loss_long_after_the_proctoring_tab_went_quiet_does_not_excuse_it_r17() -> None:
    """The proctoring tab first, the exam tab minutes later: not the guide's order."""
    facts = honest_journey()
    blocked_screen(
        facts,
        loss_s=BEGIN_S + 900 + WORKSPACE_LOSS_NOTICE_S + 1,
        closure_s=BEGIN_S + 900,
        back_s=BEGIN_S + 1200,
    )
    assert judge(facts).verdict is Verdict.INVALIDATED


def test_a_workspace_reconnected_before_the_closure_does_not_excuse_it_r17() -> None:
    facts = honest_journey()
    facts.add(EvidenceKind.WORKSPACE_LOST, BEGIN_S + 300)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, BEGIN_S + 400)
    closed = facts.closure(BEGIN_S + 900)
    facts.add(EvidenceKind.SESSION_ENTERED, BEGIN_S + 1200, note=REASON)
    assert r17(judge(facts)) == (closed,)


def test_without_a_re_entry_the_closure_is_a_ground_r17() -> None:
    facts = honest_journey(ended=False)
    facts.add(EvidenceKind.WORKSPACE_LOST, BEGIN_S + 900)
    closed = facts.closure(BEGIN_S + 910)
    facts.add(EvidenceKind.EXAM_FINISHED, END_S, note="time_limit")
    assert r17(judge(facts)) == (closed,)


# --- R21: flags before « Commencer » ---------------------------------------------------------


def test_several_faces_before_commencer_are_a_hint_even_in_the_strict_variant_r21() -> None:
    """Someone may help at connection time; from the exam start the candidate is alone."""
    facts = honest_journey()
    helper = facts.flag(FlagKind.SEVERAL_FACES, BEGIN_S - 300)
    for rules in (RULES_2026_12, RULES_2026_12_STRICT_FACES):
        recommendation = judge(facts, rules)
        assert recommendation.verdict is Verdict.VALIDATED
        (hint,) = recommendation.hints
        assert hint.evidence_ids == (helper,)
        assert "« Commencer »" in hint.explanation
    # The old strict variant stays as it was: the same flag is a ground there.
    assert recommend(facts.items, RULES_2025_03_STRICT_FACES).verdict is Verdict.INVALIDATED


def test_several_faces_during_the_exam_are_a_ground_only_in_the_strict_variant_r21() -> None:
    facts = honest_journey()
    second = facts.flag(FlagKind.SEVERAL_FACES, BEGIN_S + 300)
    assert judge(facts).verdict is Verdict.VALIDATED
    strict = judge(facts, RULES_2026_12_STRICT_FACES)
    assert strict.verdict is Verdict.INVALIDATED
    assert [(g.rule, g.evidence_ids) for g in strict.grounds] == [("R21", (second,))]


# --- R9: the waived photo, typed ------------------------------------------------------------


def test_a_waived_photo_is_cited_by_its_typed_step_not_by_its_note_r9() -> None:
    facts = honest_journey()
    facts.items = [i for i in facts.items if i.kind is not EvidenceKind.ID_PHOTO_CONFIRMED]
    waiver = facts.add(
        EvidenceKind.PHOTO_WAIVED, 650, waived_step=Step.ID_PHOTO, note="caméra en panne"
    )
    (ground,) = judge(facts).grounds
    assert (ground.rule, ground.evidence_ids) == ("R9", (waiver,))


def test_evidence_gathered_before_the_typed_step_still_names_its_stored_event() -> None:
    """An auditor's replay compares stored evidence with the event: the fields filled since
    (the waived step) may hold their old default, nothing else may differ."""
    session = ProctoredSession.open(
        session_id=uuid4(),
        enrollment_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE",
        exam_duration_minutes=60,
        rules=RULES_2026_12,
        live_supervision=False,
        at=T0,
    )
    session.enter(at=T0, terms_accepted=True)
    for step in (
        session.read_instructions,
        session.attest_designer_rules,
        session.acknowledge_secure_mode,
        session.attest_general_conditions,
        session.confirm_sound_heard,
        session.start_microphone_recording,
        session.stop_microphone_recording,
    ):
        step(at=T0)
    session.check_camera(at=T0, working=True)
    session.record_connection_test(at=T0, round_trip_ms=20, upload_kbps=900, passed=True)
    session.waive_photo(at=T0, step=Step.FACE_PHOTO, reason="webcam HS", waived_by=uuid4())
    waived = session.collect_events()[-1]
    fresh = to_evidence(waived)
    assert fresh.waived_step is Step.FACE_PHOTO
    assert same_fact(fresh, waived)
    assert same_fact(replace(fresh, waived_step=None), waived)  # gathered before
    assert not same_fact(replace(fresh, note="id_photo: webcam HS"), waived)
    assert not same_fact(replace(fresh, waived_step=Step.ID_PHOTO), waived)


# --- properties -----------------------------------------------------------------------------

BUDGET_S = 3 * 3600.0
seconds = st.floats(0, BUDGET_S, allow_nan=False)
window_facts = st.lists(
    st.tuples(
        st.sampled_from(["closure", "flag", "loss", "reentry", "reconnected"]),
        seconds,
        st.sampled_from(FlagKind),
    ),
    max_size=10,
)
PROPERTIES = settings(max_examples=80, deadline=None)


@st.composite
def journeys(draw: st.DrawFn) -> Facts:
    """A journey with « Commencer » and an end anywhere, and facts anywhere around them."""
    begin = draw(st.floats(60, BUDGET_S / 2))
    end = draw(st.floats(begin, BUDGET_S))
    facts = Facts()
    facts.add(EvidenceKind.SESSION_ENTERED, 0)
    facts.add(EvidenceKind.FACE_PHOTO_CONFIRMED, 10)
    facts.add(EvidenceKind.ID_PHOTO_CONFIRMED, 20)
    facts.add(EvidenceKind.EXAM_BEGUN, begin)
    ending = draw(st.sampled_from(["validated", "quit", "time_limit", "open"]))
    if ending == "validated":
        facts.add(EvidenceKind.EXAM_VALIDATED, end)
    elif ending == "quit":
        facts.add(EvidenceKind.EXAM_QUIT, end)
    elif ending == "time_limit":
        facts.add(EvidenceKind.EXAM_FINISHED, end, note="time_limit")
    for what, at_s, flag in draw(window_facts):
        if what == "closure":
            facts.closure(at_s)
        elif what == "flag":
            facts.flag(flag, at_s, confidence=0.99)
        elif what == "loss":
            facts.add(EvidenceKind.WORKSPACE_LOST, at_s)
        elif what == "reentry":
            facts.add(EvidenceKind.SESSION_ENTERED, at_s, note=REASON)
        else:
            facts.add(EvidenceKind.WORKSPACE_CONNECTED, at_s)
    return facts


def _outside(facts: Facts) -> list[Evidence]:
    window = exam_window(facts.items)
    origin = T0
    return [
        i
        for i in facts.items
        if i.kind in (EvidenceKind.PROCTORING_TAB_CLOSED, EvidenceKind.FLAG_RAISED)
        and not window.holds(moment_of(i, origin))
    ]


@PROPERTIES
@given(facts=journeys(), strict=st.booleans())
def test_the_new_verdict_never_grounds_on_facts_outside_the_exam_window(
    facts: Facts, strict: bool
) -> None:
    """R17 and R21 (strict) grounds cite closures and flags inside the window only; taking
    away every closure and flag outside it changes neither the verdict nor its grounds."""
    rules = RULES_2026_12_STRICT_FACES if strict else RULES_2026_12
    recommendation = judge(facts, rules)
    window = exam_window(facts.items)
    by_id = {i.id: i for i in facts.items}
    for ground in recommendation.grounds:
        if ground.rule in ("R17", "R21"):
            for cited in ground.evidence_ids:
                assert window.holds(moment_of(by_id[cited], T0)), (ground, by_id[cited])
    outside = {i.id for i in _outside(facts)}
    inside_only = Facts([i for i in facts.items if i.id not in outside])
    again = judge(inside_only, rules)
    assert again.verdict is recommendation.verdict
    assert again.grounds == recommendation.grounds


@PROPERTIES
@given(facts=journeys())
def test_every_closure_is_either_a_ground_or_a_shown_interruption_r17_r23(facts: Facts) -> None:
    """Nothing is hidden from the examiner: each closure is cited once, as an R17 ground or
    in an interruption; flags stay hints whatever their moment (R21)."""
    recommendation = judge(facts)
    closures = {i.id for i in facts.items if i.kind is EvidenceKind.PROCTORING_TAB_CLOSED}
    grounded = set(r17(recommendation))
    interrupted = {e for i in recommendation.interruptions for e in i.evidence_ids if e in closures}
    assert grounded | interrupted == closures
    assert not grounded & interrupted
    assert (recommendation.verdict is Verdict.INVALIDATED) is bool(recommendation.grounds)
    flags = {i.id for i in facts.items if i.kind is EvidenceKind.FLAG_RAISED}
    assert {e for h in recommendation.hints for e in h.evidence_ids} == flags


@PROPERTIES
@given(facts=journeys(), data=st.data())
def test_the_new_verdict_is_deterministic_and_order_free(facts: Facts, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(facts.items))
    one, other = judge(facts), recommend(shuffled, RULES_2026_12)
    assert one.verdict is other.verdict
    assert [(g.rule, set(g.evidence_ids)) for g in one.grounds] == [
        (g.rule, set(g.evidence_ids)) for g in other.grounds
    ]
    assert sorted((i.kind, i.evidence_ids) for i in one.interruptions) == sorted(
        (i.kind, i.evidence_ids) for i in other.interruptions
    )


# --- R23's « Quitter » in the exam tab: the candidate's own act (WorkspaceLeft) --------------


def test_leaving_the_exam_tab_with_quitter_is_an_interruption_not_a_ground_r23() -> None:
    """« Quitter » in the exam tab, then reopened: shown as her choice, never as a loss."""
    facts = honest_journey()
    left = facts.add(EvidenceKind.WORKSPACE_LEFT, BEGIN_S + 600)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, BEGIN_S + 660)
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.VALIDATED and not recommendation.grounds
    (interruption,) = recommendation.interruptions
    assert interruption.kind is InterruptionKind.EXAM_TAB_LEFT
    assert interruption.rule == "R23" and interruption.evidence_ids == (left,)


def test_the_blocked_screen_procedure_begun_with_quitter_is_recognised_r23() -> None:
    """R23 done with the exam tab's « Quitter » (WorkspaceLeft, not a loss), then the
    proctoring window closed, then back with a reason: the blocked screen, no ground."""
    facts = honest_journey()
    left = facts.add(EvidenceKind.WORKSPACE_LEFT, BEGIN_S + 900)
    closed = facts.closure(BEGIN_S + 910)
    back = facts.add(EvidenceKind.SESSION_ENTERED, BEGIN_S + 1200, note=REASON)
    facts.add(EvidenceKind.WORKSPACE_CONNECTED, BEGIN_S + 1260)
    recommendation = judge(facts)
    assert recommendation.verdict is Verdict.VALIDATED
    (interruption,) = recommendation.interruptions  # the leaving is cited there, once
    assert interruption.kind is InterruptionKind.BLOCKED_SCREEN
    assert interruption.evidence_ids == (left, closed, back)


def test_evidence_without_a_leaving_is_judged_as_before_by_verdict_2026_12() -> None:
    """No log before WorkspaceLeft holds one: with the loss in its place (as « Quitter » was
    recorded before), the same procedure gives the same recommendation it always gave."""
    facts = honest_journey()
    procedure = blocked_screen(
        facts, loss_s=BEGIN_S + 900, closure_s=BEGIN_S + 910, back_s=BEGIN_S + 1200
    )
    recommendation = judge(facts)
    assert [i.kind for i in recommendation.interruptions] == [InterruptionKind.BLOCKED_SCREEN]
    assert recommendation.interruptions[0].evidence_ids == procedure
