"""`vigie demo`: the guide's whole journey on the embedded defaults, as a readable timeline."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock, SystemClock
from adapters.ids import RandomIds
from adapters.mail.capture import SmtpCapture
from app.read_models import timeline
from app.replay import replay_review
from app.use_cases import enrolment, portal, proctoring, reviewing
from domain.candidate import PortalProfile
from domain.errors import DomainError
from domain.evidence import FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import EnvironmentPart
from domain.review import CitedReason, Review
from domain.scoring import GivenAnswer
from vigie_contracts.samples import ebml_sample, jpeg_sample


class Narrator:
    """Prints each step with the simulated local time; a refusal prints its rule."""

    def __init__(self, platform: Platform, out: TextIO) -> None:
        self.platform = platform
        self.out = out

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def step(self, label: str, action: Callable[[], object]) -> object:
        at = self.platform.ctx.now()
        result = action()
        shown = f" → {result}" if result not in (None, "") else ""
        self.say(f"  {at:%d/%m/%Y %H:%M}  ✓ {label}{shown}")
        return result

    def refused(self, label: str, action: Callable[[], object]) -> None:
        at = self.platform.ctx.now()
        try:
            action()
        except DomainError as error:
            self.say(f"  {at:%d/%m/%Y %H:%M}  ✗ {label}: refused, {error}")
            return
        raise AssertionError(f"the demo expected a refusal: {label}")


MAILBOX = Path("vigie-data/mailbox")

# What the demo candidate answers: right but for two questions.
DEMO_ANSWERS: dict[str, GivenAnswer] = {
    "tables-cle-primaire": GivenAnswer(choices=("b",)),
    "tables-types": GivenAnswer(choices=("a", "d")),
    "tables-taille": GivenAnswer(text="taille du champ"),
    "relations-integrite": GivenAnswer(choices=("a",)),
    "relations-cardinalite": GivenAnswer(text="1-N"),
    "requetes-selection": GivenAnswer(choices=("b",)),
    "requetes-regroupement": GivenAnswer(choices=("a", "b", "c")),
    "requetes-parametre": GivenAnswer(text="("),
    "formulaires-sous-formulaire": GivenAnswer(choices=("a",)),
    "etats-regroupement": GivenAnswer(text="Pied de groupe"),
}


def _subjects_to(capture: SmtpCapture, email: str) -> list[str]:
    return [str(m["Subject"]) for m in capture.messages() if m["To"] == email]


def run_demo(settings: Settings, out: TextIO) -> int:
    """Play one candidate's journey from enrolment to released results.

    Mails go over real SMTP: to the configured server, or to an embedded capture that
    keeps them in vigie-data/mailbox (read them with `vigie mailbox`).
    """
    paris = ZoneInfo(settings.time_zone)
    today = SystemClock().now().astimezone(paris).date()
    clock = ManualClock(datetime.combine(today, time(9, 0), tzinfo=paris))
    with SmtpCapture(mailbox_dir=MAILBOX) as capture:
        if not settings.smtp_url:
            settings = replace(settings, smtp_url=f"smtp://{capture.host}:{capture.port}")
        platform = bootstrap(settings, clock=clock, ids=RandomIds())
        try:
            return _journey(platform, clock, Narrator(platform, out), capture)
        finally:
            platform.close()


def _journey(platform: Platform, clock: ManualClock, n: Narrator, capture: SmtpCapture) -> int:
    ctx = platform.ctx
    email = f"camille.martin+{uuid4().hex[:6]}@example.org"
    n.say(f"Vigie demo — store: {platform.store.database_url} (simulated clock, {ctx.time_zone})")
    n.say("")
    n.say("1. The training centre enrols the candidate (R1: 90 days, last day inclusive)")
    enrolled = enrolment.enrol_candidate(
        ctx,
        platform.projections,
        centre_id=uuid4(),
        email=email,
        surname="Martin",
        first_name="Camille",
        certification_code="ENI-ACCESS",
    )
    n.say(f"  enrolment {enrolled.enrollment_id}: last day {enrolled.last_day:%d/%m/%Y} inclusive")
    platform.settle()

    clock.advance(days=12)
    n.say("2. The candidate creates the exam session when ready (R2, R3)")
    created = enrolment.create_exam_session(ctx, enrolled.enrollment_id)
    n.say(
        f"  {created.outcome.value}: session {created.session_id}, valid until "
        f"{created.valid_until:%d/%m/%Y}"
    )
    again = enrolment.create_exam_session(ctx, enrolled.enrollment_id)
    n.say(f"  clicked again → {again.outcome.value} (no second mail; check the spam folder)")
    platform.settle()
    for subject in _subjects_to(capture, email):
        n.say(f"  mail to {email}: «{subject}»")
    sid = created.session_id

    n.say("3. Proctoring checks (R5–R10)")
    n.step(
        "terms of use accepted (R5)", lambda: proctoring.accept_terms(ctx, enrolled.candidate_id)
    )
    n.step("entry", lambda: proctoring.enter_session(ctx, sid))
    n.step("instructions read (R7)", lambda: proctoring.read_instructions(ctx, sid))
    n.refused(
        "general conditions before the designer's rules",
        lambda: proctoring.attest_general_conditions(ctx, sid),
    )
    n.step("designer's rules attested", lambda: proctoring.attest_designer_rules(ctx, sid))
    proctoring.leave_session(ctx, sid, cause="screen blocked (R23)")
    clock.advance(minutes=5)
    n.refused(
        "resume with a 5-word reason",
        lambda: proctoring.enter_session(ctx, sid, resume_reason="mon écran était bloqué net"),
    )
    reason = "suite à plantage, je dois reprendre mon examen en me reconnectant"
    n.step(
        "resume with a 10-word reason (R6)",
        lambda: proctoring.enter_session(ctx, sid, resume_reason=reason),
    )
    n.step("secure mode acknowledged", lambda: proctoring.acknowledge_secure_mode(ctx, sid))
    n.step("general conditions attested", lambda: proctoring.attest_general_conditions(ctx, sid))
    n.step("sound heard (R8)", lambda: proctoring.confirm_sound_heard(ctx, sid))
    n.refused(
        "microphone stopped before it started",
        lambda: proctoring.stop_microphone_recording(ctx, sid),
    )
    n.step("microphone started", lambda: proctoring.start_microphone_recording(ctx, sid))
    n.step("microphone stopped", lambda: proctoring.stop_microphone_recording(ctx, sid))
    n.step("camera working", lambda: proctoring.check_camera(ctx, sid, working=True))
    n.step(
        "connection test passed",
        lambda: proctoring.record_connection_test(
            ctx, sid, round_trip_ms=42.0, upload_kbps=12_000.0, passed=True
        ),
    )
    n.refused("'Suivant' without a face photo", lambda: proctoring.confirm_face_photo(ctx, sid))
    n.step(
        "face photo taken (R9)", lambda: proctoring.take_face_photo(ctx, sid, jpeg_sample(b"face"))
    )
    n.step("face photo 'Suivant'", lambda: proctoring.confirm_face_photo(ctx, sid))
    n.step(
        "ID photo taken", lambda: proctoring.take_id_photo(ctx, sid, jpeg_sample(b"identity card"))
    )
    n.step("ID photo 'Suivant'", lambda: proctoring.confirm_id_photo(ctx, sid))
    n.refused(
        "desk recorded before the ears",
        lambda: proctoring.start_environment_recording(ctx, sid, EnvironmentPart.DESK),
    )
    launched: UUID | None = None
    for part in EnvironmentPart:
        n.step(
            f"{part.value} recording started (R10)",
            functools.partial(proctoring.start_environment_recording, ctx, sid, part),
        )
        clock.advance(seconds=30)
        recording = ebml_sample(tag=f"{part.value} video".encode())
        stopped = n.step(
            f"{part.value} recording stopped",
            functools.partial(
                proctoring.stop_environment_recording,
                ctx,
                sid,
                part,
                recording,
                duration_s=30.0,
            ),
        )
        launched = stopped if isinstance(stopped, UUID) else launched
    assert launched is not None
    n.say(f"  the exam launched right after the desk: attempt {launched}")
    aid: UUID = launched

    n.say("4. The exam in the portal (R11–R18)")
    profile = PortalProfile("Madame", "Martin", "Camille", datetime(1990, 5, 17).date(), "Nantes")
    n.step(
        "profile",
        lambda: portal.save_portal_profile(
            ctx, enrolled.candidate_id, email=email, profile=profile, password="correct horse"
        ),
    )
    practice = portal.take_practice_questionnaire(
        ctx, aid, answers={"entrainement-objet": GivenAnswer(choices=("a",))}
    )
    n.say(
        f"  {ctx.now():%d/%m/%Y %H:%M}  ✓ practice questionnaire (R12): "
        f"{practice.score}/{practice.max_score}, shown and never counted"
    )
    n.step(
        "tile 'À démarrer' (R13)",
        lambda: portal.select_tile(ctx, aid, certification_code="ENI-ACCESS"),
    )
    n.step(
        "'Je démarre maintenant' (the workspace is provisioned by a worker)",
        lambda: portal.start_now(ctx, aid),
    )
    platform.settle()
    workspace = ctx.store.get(aid, ExamAttempt)
    n.say(f"  workspace connected: {workspace.workspace_url} (instructions shown)")
    n.step("'Commencer': the exam ends at", lambda: portal.begin_exam(ctx, aid).strftime("%H:%M"))
    order = ctx.store.get(aid, ExamAttempt).question_order
    n.say(f"  questions in this attempt's own order: {', '.join(order[:4])}, …")
    for question_id in order:
        clock.advance(minutes=7)
        given = DEMO_ANSWERS[question_id]
        n.step(
            f"answer to {question_id} saved",
            functools.partial(
                portal.answer_question,
                ctx,
                aid,
                question_id=question_id,
                answer=given.text,
                choices=given.choices,
            ),
        )
    proctoring.raise_flag(
        ctx,
        sid,
        flag_id="voice-0001",
        kind=FlagKind.VOICE,
        span=MediaSpan(1830.0, 1842.5),
        confidence=0.64,
    )
    n.say("  (a detector flagged a voice at 30:30–30:42: a hint for the examiner, not a verdict)")
    clock.advance(minutes=5)
    results = portal.finish_exam(ctx, aid)
    code = ctx.store.get(aid, ExamAttempt).validation_code
    n.say(
        f"  results: {results.score}/{results.max_score} "
        f"({'passed' if results.passed else 'failed'}); "
        + ", ".join(f"{s.section} {s.score}/{s.max_score}" for s in results.sections)
    )
    n.refused(
        "'Valider l'examen' with a wrong code",
        lambda: portal.validate_exam(ctx, aid, typed_code="0000" if code != "0000" else "1"),
    )
    n.step(
        f"code {code} typed back, 'Oui, envoyer' (R18)",
        lambda: portal.validate_exam(ctx, aid, typed_code=code or ""),
    )
    platform.settle()

    n.say("5. The review (R19, R20)")
    review_id = reviewing.review_id_for(aid)
    review = ctx.store.get(review_id, Review)
    assert review.recommendation is not None
    n.say(
        f"  review {review_id} opened, due {review.due_on:%d/%m/%Y}; recommended: "
        f"{review.recommendation.verdict.value} ({review.recommendation.version}), "
        f"{len(review.evidence)} pieces of evidence"
    )
    for hint in review.recommendation.hints:
        n.say(f"  hint: {hint.reason.value} — {hint.explanation} [{', '.join(hint.evidence_ids)}]")
    clock.advance(days=3)
    examiner = ctx.ids.new_id()
    n.step("examiner assigned", lambda: reviewing.assign_examiner(ctx, review_id, examiner))
    flag = next(e for e in review.evidence if e.kind == "FlagRaised")
    n.refused(
        "'other_rule_breach' without a justification",
        lambda: reviewing.decide_review(
            ctx,
            review_id,
            examiner_id=examiner,
            verdict=Verdict.INVALIDATED,
            reasons=(CitedReason(ReasonCode.OTHER_RULE_BREACH, (flag.id,)),),
        ),
    )
    n.step(
        "validated after listening to the flagged span (a neighbour's TV)",
        lambda: reviewing.decide_review(
            ctx, review_id, examiner_id=examiner, verdict=Verdict.VALIDATED
        ),
    )
    n.step(
        "results released",
        lambda: reviewing.release_results(ctx, review_id, released_by=examiner),
    )
    platform.settle()
    for subject in _subjects_to(capture, email)[-2:]:
        n.say(f"  mail to {email}: «{subject}»")

    n.say("")
    n.say("6. The session's timeline, from the event log")
    for entry in timeline(ctx.store, sid):
        n.say(
            f"  {ctx.times.format(entry.at, style='exact')}  "
            f"{entry.stream:<7} {entry.what:<28} {entry.details[:70]}"
        )
    report = replay_review(ctx.store, review_id)
    n.say("")
    n.say(
        f"7. Replay of the decision: {'MATCHES' if report.matches else 'DIFFERS'} — "
        f"{report.verdict.value if report.verdict else 'undecided'} under "
        f"{report.rules_version} / {report.verdict_version}"
    )
    n.say("")
    n.say("8. Time-driven facts: another candidate never creates the session")
    late = enrolment.enrol_candidate(
        ctx,
        platform.projections,
        centre_id=uuid4(),
        email=f"dominique.durand+{uuid4().hex[:6]}@example.org",
        surname="Durand",
        first_name="Dominique",
        certification_code="ENI-ACCESS",
        language="en",
    )
    platform.settle()
    for days_before in (14, 3, -1):
        clock.set(
            datetime.combine(late.last_day, time(10, 0), tzinfo=clock.now().tzinfo)
            - timedelta(days=days_before)
        )
        deadline = platform.tick()
        mine = late.enrollment_id
        facts = [f"{d}-day reminder" for e, d in deadline.reminded if e == mine] + (
            ["enrolment expired (R1)"] if mine in deadline.expired else []
        )
        n.say(f"  {ctx.now():%d/%m/%Y %H:%M}  {', '.join(facts) or 'nothing due'}")
    platform.tick()
    n.say(
        f"  mails captured in {MAILBOX}/: {len(capture.messages())} "
        "(read them with: .venv/bin/vigie mailbox)"
    )
    n.say("")
    n.say(f"Try: .venv/bin/vigie history {sid}")
    n.say(f"     .venv/bin/vigie replay {review_id}")
    return 0 if report.matches else 1
