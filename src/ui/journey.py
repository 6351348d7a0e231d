"""A candidate's journey through the use cases, step by step: the acceptance and property
tests drive the platform with it, and so do the benchmarks (which never import a test module)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.context import Context
from app.ports.event_store import ConcurrencyConflict
from app.use_cases import accounts, enrolment, portal, proctoring, reviewing
from domain.candidate import Account, Candidate, PortalProfile
from domain.errors import RuleBroken
from domain.evidence import FlagKind, MediaSpan, Verdict
from domain.exam_attempt import ExamAttempt
from domain.guide import Step
from domain.internal_network import AllowedNetworks
from domain.proctored_session import EnvironmentPart
from domain.review import CitedReason, Review
from domain.rules import CURRENT_RULES, RuleSet
from domain.scoring import GivenAnswer
from domain.staff import Role
from vigie_contracts.samples import ebml_sample, jpeg_sample

PARIS = ZoneInfo("Europe/Paris")
# What the candidate's camera gives: photos that open as JPEG (app/media_content.py).
FACE_PHOTO = jpeg_sample(b"face-jpeg")
ID_PHOTO = jpeg_sample(b"id-jpeg")
TEN_WORDS = "suite à plantage, je dois reprendre mon examen en me reconnectant"
NINE_WORDS = "suite à un plantage je dois reprendre mon examen"
# Two right answers and a wrong one: a score of 2.
ANSWERS = {
    "tables-cle-primaire": GivenAnswer(choices=("b",)),
    "tables-taille": GivenAnswer(text="Taille du champ"),
    "requetes-parametre": GivenAnswer(text="("),
}
PROFILE = PortalProfile("Madame", "Martin", "Camille", date(1990, 5, 17), "Nantes")


def make_platform(
    database_url: str = "memory:",
    start: datetime | None = None,
    *,
    webhook_allowed_networks: str = "",
) -> Platform:
    """The real composition root with a clock the test moves and seeded ids; webhooks reach
    no internal network unless a test names one (VIGIE_WEBHOOK_ALLOWED_NETWORKS's syntax)."""
    clock = ManualClock(start or datetime(2025, 1, 27, 9, 0, tzinfo=PARIS))
    return bootstrap(
        Settings(
            database_url=database_url,
            media_root=None,
            time_zone="Europe/Paris",
            launcher="memory",
            webhook_allowed_networks=AllowedNetworks.parse(webhook_allowed_networks),
        ),
        clock=clock,
        ids=SeededIds(7),
    )


@dataclass
class Journey:
    """One candidate's way through the guide; each method is one of the guide's screens."""

    platform: Platform
    email: str = "camille.martin@example.org"
    centre_id: UUID = field(default_factory=uuid4)
    language: str = "fr"  # hers, chosen at her enrolment: her mails and pages
    candidate_id: UUID | None = None
    enrollment_id: UUID | None = None
    session_id: UUID | None = None
    attempt_id: UUID | None = None
    review_id: UUID | None = None

    @property
    def ctx(self) -> Context:
        return self.platform.ctx

    @property
    def clock(self) -> ManualClock:
        clock = self.platform.ctx.clock
        assert isinstance(clock, ManualClock)
        return clock

    def enrol(self, rules: RuleSet = CURRENT_RULES) -> enrolment.Enrolled:
        """Enrolled by her centre today, under `rules` (an older rule set: an enrolment
        made before the current one took effect)."""
        enrolled = enrolment.enrol_candidate(
            self.ctx,
            self.platform.projections,
            centre_id=self.centre_id,
            email=self.email,
            surname="Martin",
            first_name="Camille",
            certification_code="ENI-ACCESS",
            language=self.language,
            rules=rules,
        )
        self.platform.settle()
        self.candidate_id, self.enrollment_id = enrolled.candidate_id, enrolled.enrollment_id
        return enrolled

    def create_session(self, *, live_supervision: bool = False) -> enrolment.SessionCreation:
        assert self.enrollment_id is not None
        created = enrolment.create_exam_session(
            self.ctx, self.enrollment_id, live_supervision=live_supervision
        )
        self.session_id = created.session_id
        self.platform.settle()
        return created

    def enter(self, resume_reason: str | None = None) -> str:
        assert self.session_id is not None and self.candidate_id is not None
        if not self.ctx.store.get(self.candidate_id, Candidate).terms_accepted:
            proctoring.accept_terms(self.ctx, self.candidate_id)
        return proctoring.enter_session(self.ctx, self.session_id, resume_reason=resume_reason)

    def pass_attestations(self) -> None:
        sid = self.session_id
        assert sid is not None
        proctoring.read_instructions(self.ctx, sid)
        proctoring.attest_designer_rules(self.ctx, sid)
        proctoring.acknowledge_secure_mode(self.ctx, sid)
        proctoring.attest_general_conditions(self.ctx, sid)

    def pass_equipment(self) -> None:
        sid = self.session_id
        assert sid is not None
        proctoring.confirm_sound_heard(self.ctx, sid)
        proctoring.start_microphone_recording(self.ctx, sid)
        proctoring.stop_microphone_recording(self.ctx, sid)
        proctoring.check_camera(self.ctx, sid, working=True)
        proctoring.record_connection_test(
            self.ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True
        )

    def take_photos(self, *, waive_id_photo: bool = False) -> None:
        sid = self.session_id
        assert sid is not None
        proctoring.take_face_photo(self.ctx, sid, FACE_PHOTO)
        proctoring.confirm_face_photo(self.ctx, sid)
        if waive_id_photo:
            proctoring.waive_photo(
                self.ctx,
                sid,
                step=Step.ID_PHOTO,
                reason="the webcam cannot focus on the ID document",
                waived_by=uuid4(),
            )
        else:
            proctoring.take_id_photo(self.ctx, sid, ID_PHOTO)
            proctoring.confirm_id_photo(self.ctx, sid)

    def record_environment(self) -> UUID:
        sid = self.session_id
        assert sid is not None
        attempt_id = None
        for part in EnvironmentPart:
            proctoring.start_environment_recording(self.ctx, sid, part)
            self.clock.advance(seconds=20)
            attempt_id = proctoring.stop_environment_recording(
                self.ctx,
                sid,
                part,
                ebml_sample(tag=f"{part.value}-video".encode()),
                duration_s=30.0,
            )
        assert attempt_id is not None
        self.attempt_id = attempt_id
        self.platform.settle()
        return attempt_id

    def through_checks(self, *, waive_id_photo: bool = False) -> UUID:
        """From the first entry to the launched exam."""
        self.enter()
        self.pass_attestations()
        self.pass_equipment()
        self.take_photos(waive_id_photo=waive_id_photo)
        return self.record_environment()

    def to_tile(self) -> UUID:
        """Portal: the profile ('Créer', R11) and the tile 'À démarrer' (R13)."""
        assert self.attempt_id is not None and self.candidate_id is not None
        if not self.ctx.store.get(self.candidate_id, Candidate).profile_complete:
            portal.save_portal_profile(
                self.ctx,
                self.candidate_id,
                email=self.email,
                profile=PROFILE,
                password="s3cret-pass",
            )
        portal.select_tile(self.ctx, self.attempt_id, certification_code="ENI-ACCESS")
        return self.attempt_id

    def start_exam(self) -> datetime:
        """Portal: the tile, 'Je démarre maintenant' (a worker provisions), 'Commencer'."""
        attempt_id = self.to_tile()
        portal.start_now(self.ctx, attempt_id)
        self.platform.settle()  # a worker provisions the workspace
        return portal.begin_exam(self.ctx, attempt_id)

    def answer_and_send(self) -> None:
        """Answers, results, the code typed back, 'Oui, envoyer'."""
        assert self.attempt_id is not None
        aid = self.attempt_id
        for question, given in ANSWERS.items():
            portal.answer_question(
                self.ctx, aid, question_id=question, answer=given.text, choices=given.choices
            )
            self.clock.advance(minutes=10)
        portal.finish_exam(self.ctx, aid)
        code = self.ctx.store.get(aid, ExamAttempt).validation_code
        assert code is not None
        portal.validate_exam(self.ctx, aid, typed_code=code)
        self.platform.settle()
        self.review_id = reviewing.review_id_for(aid)

    def in_exam(self, *, waive_id_photo: bool = False) -> UUID:
        """From the enrolment to the exam begun (« Commencer »): the attempt's id."""
        self.enrol()
        self.create_session()
        self.through_checks(waive_id_photo=waive_id_photo)
        self.start_exam()
        assert self.attempt_id is not None
        return self.attempt_id

    def sent_for_review(self, *, waive_id_photo: bool = False) -> UUID:
        """The whole journey, from the enrolment to the exam sent for review."""
        self.in_exam(waive_id_photo=waive_id_photo)
        self.answer_and_send()
        assert self.review_id is not None
        return self.review_id

    def sent_with_a_phone_flag(self) -> UUID:
        """The journey sent for review with a detector's phone flag during the exam (a hint,
        R20): the review has something to show beyond the steps."""
        self.in_exam()
        assert self.session_id is not None
        proctoring.raise_flag(
            self.ctx,
            self.session_id,
            flag_id="phone-1",
            kind=FlagKind.PHONE,
            span=MediaSpan(400.0, 420.0),
            confidence=0.9,
        )
        self.answer_and_send()
        assert self.review_id is not None
        return self.review_id

    def decided(
        self,
        examiner_id: UUID,
        verdict: Verdict = Verdict.VALIDATED,
        reasons: tuple[CitedReason, ...] = (),
    ) -> Review:
        """The examiner takes the sent exam's review and decides it (R19, R20)."""
        assert self.review_id is not None
        reviewing.assign_examiner(self.ctx, self.review_id, examiner_id)
        reviewing.decide_review(
            self.ctx, self.review_id, examiner_id=examiner_id, verdict=verdict, reasons=reasons
        )
        return self.ctx.store.get(self.review_id, Review)

    def set_password(self, password: str, purpose: str = "test", *, tries: int = 5) -> None:
        """The proctoring password, set through a reset link as the welcome mail's (R24). A
        worker may issue the welcome link in between, which voids this one (issue 14): then
        ask again, as a candidate would. The worker writes that link to the candidate's stream:
        a request made from the version before it is refused by the store, and asked again."""
        assert self.candidate_id is not None
        ctx = self.ctx
        for attempt in range(tries):
            candidate = ctx.store.get(self.candidate_id, Candidate)
            token = f"t-{uuid4().hex}"
            candidate.request_password_reset(
                at=ctx.now(),
                account=Account.PROCTORING,
                token_id=token,
                expires_at=ctx.now() + timedelta(days=1),
                purpose=purpose,
            )
            try:
                ctx.store.save(candidate)
            except ConcurrencyConflict:
                if attempt == tries - 1:
                    raise
                continue
            try:
                accounts.reset_password(
                    ctx,
                    self.platform.links,
                    signed_token=self.platform.links.sign(
                        "password-reset", f"{candidate.id}:{token}"
                    ),
                    password=password,
                )
                return
            except RuleBroken as superseded:
                if superseded.rule != "R24" or attempt == tries - 1:
                    raise


def hotline_account(ctx: Context) -> UUID:
    """A support (hotline) account: it may act on every centre's enrolments and reviews
    (issue 14), as the use cases check from the store."""

    return accounts.register_staff(
        ctx, email="hotline@example.org", name="Hotline", role=Role.SUPPORT
    )


@dataclass(frozen=True)
class Plan:
    """What happens in one generated journey."""

    waive_id_photo: bool
    flags: list[tuple[FlagKind, float]]
    tab_closed: bool
    technical_problem: bool
    invalidate_on_hint: bool


# FLAG-HINT: what an examiner writes when a reason rests on detector flags alone.
FLAG_HINT_WORDS = "the recording shows her phone in her hand, she reads its screen for minutes"


def decided_journey(platform: Platform, plan: Plan, examiner: UUID) -> UUID:
    """One candidate from enrolment to a decided review, as the plan says."""
    journey = Journey(platform, email=f"c{uuid4().hex[:10]}@example.org")
    journey.enrol()
    journey.create_session()
    journey.through_checks(waive_id_photo=plan.waive_id_photo)
    journey.start_exam()
    sid = journey.session_id
    assert sid is not None
    for n, (kind, confidence) in enumerate(plan.flags):
        journey.clock.advance(seconds=30)
        proctoring.raise_flag(
            platform.ctx,
            sid,
            flag_id=f"f{n}",
            kind=kind,
            span=MediaSpan(100.0 + n, 104.5 + n),
            confidence=confidence,
        )
    if plan.technical_problem:
        proctoring.record_technical_problem(
            platform.ctx, sid, description="the webcam froze twice", recorded_by=uuid4()
        )
    if plan.tab_closed:
        proctoring.record_proctoring_tab_closed(platform.ctx, sid, span=MediaSpan(300.0, 310.0))
    journey.answer_and_send()
    review_id = journey.review_id
    assert review_id is not None
    reviewing.assign_examiner(platform.ctx, review_id, examiner)
    review = platform.ctx.store.get(review_id, Review)
    assert review.recommendation is not None
    findings = review.recommendation.grounds or (
        review.recommendation.hints[:1] if plan.invalidate_on_hint else ()
    )
    # FLAG-HINT: a reason on a hint alone is written out, as an examiner must.
    why = "" if review.recommendation.grounds else FLAG_HINT_WORDS
    reasons = tuple(CitedReason(f.reason, f.evidence_ids, why) for f in findings)
    reasons = tuple({r.reason: r for r in reasons}.values())  # each reason once
    reviewing.decide_review(
        platform.ctx,
        review_id,
        examiner_id=examiner,
        verdict=Verdict.INVALIDATED if reasons else Verdict.VALIDATED,
        reasons=reasons,
    )
    return review_id


@contextlib.contextmanager
def platform_with_examiner(url: str = "memory:") -> Iterator[tuple[Platform, UUID]]:
    platform = make_platform(url)
    examiner = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER
    )
    try:
        yield platform, examiner
    finally:
        platform.close()
