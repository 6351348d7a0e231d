"""The demo's exam sent for review, so that an examiner who logs in at `make run` has one to
open: Léa Petit, a candidate of the first centre, took her exam yesterday afternoon and sent
it, and a detector flagged a phone seven minutes into it (a hint, R20).

Her journey goes through the use cases a candidate's browser calls, on a clock the seed
moves: each action at its time of her day (enrolled in the morning, the checks before 14:00,
the exam for about an hour), so every event reads as a real journey and the rules check it
as they would (R16: begun and sent the same day; R19: the 8 days run from the review's
opening, yesterday, so the review is due, not overdue). The events come after today's in the
log; each carries her time. What a worker did for her (her workspace, the review) is decided
here by the platform's own policies, on her clock; her mails are left to the worker, which
decides them at her events' times and sends them.

Her photos, environment recordings and the proctoring camera's recording of her session are
real pictures and videos (ui.demo_media), which the examiner's page shows and plays: the
phone the detector flagged is in view at its moment.

Seeded once: what she did is read back from the store and skipped, so a start stopped
half-way (a Ctrl-C while it seeds) is completed by the next, on her same day, and a start
after the last action records nothing."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import AggregateEvent

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from adapters.media.duration import recording_seconds
from app import live_recording
from app.context import retrying, update
from app.policies import OpenReviewOnSubmission, Policy
from app.ports.event_store import AggregateNotFound, Recorded
from app.ports.live_media import Segment, SegmentId
from app.tenancy import centre_of_operator
from app.use_cases import enrolment, portal, proctoring, reviewing
from app.workspaces import ProvisionWorkspaces, TearDownWorkspaces
from domain.candidate import Candidate, PortalProfile
from domain.enrollment import Enrollment
from domain.evidence import FlagKind, MediaSpan
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.exam_paper import Question, QuestionKind
from domain.guide import Step
from domain.proctored_session import PART_STEP, EnvironmentPart, ProctoredSession
from domain.review import Review
from ui import demo_media

EMAIL = "lea.petit@example.org"
SURNAME, FIRST_NAME = "Petit", "Léa"
CERTIFICATION = "ENI-ACCESS"
PROFILE = PortalProfile("Madame", SURNAME, FIRST_NAME, date(1996, 3, 8), "Rennes")
CARD = demo_media.IdentityCard("PETIT", "LEA", "08.03.1996", "RENNES")
# Nobody logs in to her portal, but R11 asks a password to « Créer » the profile: the hash of
# a random one, thrown away, made once here (hashing one took a third of a second of the
# first start).
PORTAL_PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$ctzUNEokdQlH5kqd/yLmeQ"
    "$0Rifs/G24OpHSAZhJcMECkSqSMhXAhZhu30SFUECxxc"
)

ENTRY = time(13, 58, 10)  # « Examen »: second 0 of her recording
EXAM_BEGINS = time(14, 8)  # « Commencer »
PHONE_AFTER = timedelta(minutes=7)  # into the exam: a phone in view for a few seconds
PHONE_SECONDS = 16.0
PHONE_FLAG = "phone-1"
FIRST_ANSWER, LAST_ANSWER = time(14, 11, 50), time(15, 3, 30)
CAMERA_OFF = time(15, 7, 10)  # sent: her proctoring tab's connection closes
WRONG = frozenset({3, 7})  # the answers she gets wrong, by her order: she still passes


@dataclass(frozen=True)
class Progress:
    """How far her journey got, read from the store (None: not reached yet)."""

    candidate: Candidate | None = None
    enrollment: Enrollment | None = None
    session: ProctoredSession | None = None
    attempt: ExamAttempt | None = None
    review_opened: bool = False

    def completed(self, step: Step) -> bool:
        return self.session is not None and step in self.session.completed

    def beyond(self, status: AttemptStatus) -> bool:
        """Whether her attempt went past `status` (the statuses run in the journey's order)."""
        order = list(AttemptStatus)
        return self.attempt is not None and order.index(self.attempt.status) > order.index(status)

    def filming(self, part: EnvironmentPart) -> bool:
        """Whether she started filming that part (R10), or filmed it."""
        return self.session is not None and (
            self.session.recording_part is part or self.completed(PART_STEP[part])
        )

    def answered(self, n: int) -> bool:
        """Whether the n-th question of her order is answered (she answers in order)."""
        attempt = self.attempt
        return (
            attempt is not None
            and n < len(attempt.question_order)
            and attempt.question_order[n] in attempt.answers
        )


def progress_of(platform: Platform) -> Progress:
    """Her journey as the store holds it (the read models caught up first)."""
    store = platform.ctx.store
    candidate_id = platform.projections.find_by_email(EMAIL)
    if candidate_id is None:
        return Progress()
    candidate = store.get(candidate_id, Candidate)
    enrollment_id = next(
        (
            e.enrollment_id
            for e in platform.projections.enrollments.values()
            if e.candidate_id == candidate_id
        ),
        None,
    )
    if enrollment_id is None:
        return Progress(candidate)
    enrollment = store.get(enrollment_id, Enrollment)
    if enrollment.exam_session_id is None:
        return Progress(candidate, enrollment)
    session = store.get(enrollment.exam_session_id, ProctoredSession)
    if session.attempt_id is None:
        return Progress(candidate, enrollment, session)
    attempt = store.get(session.attempt_id, ExamAttempt)
    try:
        store.get(reviewing.review_id_for(attempt.id), Review, to_read=True)
    except AggregateNotFound:
        return Progress(candidate, enrollment, session, attempt)
    return Progress(candidate, enrollment, session, attempt, review_opened=True)


class Seeding:
    """Her journey being recorded: the platform's use cases and policies on a context whose
    clock the seed moves (the platform's own context keeps the system clock)."""

    def __init__(
        self, platform: Platform, clock: ManualClock, centre_operator: UUID, progress: Progress
    ) -> None:
        self.platform = platform
        self.ctx = replace(platform.ctx, clock=clock)
        self.centre_id = centre_of_operator(centre_operator)
        self.candidate_id = progress.candidate.id if progress.candidate else None
        self.enrollment_id = progress.enrollment.id if progress.enrollment else None
        self.session_id = progress.session.id if progress.session else None
        self.attempt_id = progress.attempt.id if progress.attempt else None

    @property
    def session(self) -> UUID:
        assert self.session_id is not None
        return self.session_id

    @property
    def attempt(self) -> UUID:
        assert self.attempt_id is not None
        return self.attempt_id

    def enrol(self) -> None:
        """The centre enrols her in the morning."""
        enrolled = enrolment.enrol_candidate(
            self.ctx,
            self.platform.projections,
            centre_id=self.centre_id,
            email=EMAIL,
            surname=SURNAME,
            first_name=FIRST_NAME,
            certification_code=CERTIFICATION,
        )
        self.candidate_id, self.enrollment_id = enrolled.candidate_id, enrolled.enrollment_id

    def create_session(self) -> None:
        assert self.enrollment_id is not None
        self.session_id = enrolment.create_exam_session(self.ctx, self.enrollment_id).session_id

    def accept_terms(self) -> None:
        assert self.candidate_id is not None
        proctoring.accept_terms(self.ctx, self.candidate_id)

    def take_face_photo(self) -> None:
        picture = demo_media.jpeg(demo_media.face_picture())
        proctoring.take_face_photo(self.ctx, self.session, picture)

    def take_id_photo(self) -> None:
        picture = demo_media.jpeg(demo_media.id_picture(CARD))
        proctoring.take_id_photo(self.ctx, self.session, picture)

    def stop_recording(self, part: EnvironmentPart) -> None:
        video = demo_media.environment_recording(part, CARD)
        # Its length read from the file, as the web edge reads an uploaded one.
        launched = proctoring.stop_environment_recording(
            self.ctx, self.session, part, video, duration_s=recording_seconds(video)
        )
        if launched is not None:  # the desk's: the exam attempt opens (R10)
            self.attempt_id = launched

    def record_surveillance(self) -> None:
        """Her proctoring tab's camera, from her entry to the sending of her exam, as the live
        recorder hands over a finished segment: kept in the media store's live space, then
        reported (its span, size and hash), so the examiner plays it and sees the phone."""
        zone = ZoneInfo(self.ctx.time_zone)
        day = self.ctx.now().date()
        entered = datetime.combine(day, ENTRY, tzinfo=zone)
        ended = datetime.combine(day, CAMERA_OFF, tzinfo=zone)
        phone = _seconds(ENTRY, EXAM_BEGINS) + PHONE_AFTER.total_seconds()
        seen = demo_media.Surveillance(
            seconds=(ended - entered).total_seconds(),
            filming={part: _seconds(ENTRY, starts) for part, starts in RECORDINGS.items()},
            phone=(phone, phone + PHONE_SECONDS),
        )
        video = demo_media.surveillance(seen, CARD)
        media_id = f"{self.session}/segment-1.mkv"
        with tempfile.TemporaryDirectory(prefix="vigie-demo-") as folder:
            path = Path(folder) / "segment-1.mkv"
            path.write_bytes(video)
            self.ctx.media.keep_live_segment(media_id, path)
        live_recording.record_live_event(
            self.ctx,
            segment := Segment(
                segment_id=SegmentId(media_id),
                session_id=self.session,
                started_at=entered,
                ended_at=ended,
                media_id=media_id,
                size=len(video),
                content_hash=f"sha256:{hashlib.sha256(video).hexdigest()}",
            ),
        )
        # A refused segment is only logged by the recorder's path: here it would be drawn
        # again at every start without a word.
        if segment.segment_id not in self.ctx.store.get(self.session, ProctoredSession).segment_ids:
            raise RuntimeError(f"the demo's recording {media_id} was not recorded: see the log")

    def save_profile(self) -> None:
        """« Créer » her portal profile (R11), as portal.save_portal_profile, its password
        already hashed."""
        assert self.candidate_id is not None
        at = self.ctx.now()
        update(
            self.ctx,
            self.candidate_id,
            Candidate,
            lambda c: c.save_portal_profile(
                at=at, email=EMAIL, profile=PROFILE, password_hash=PORTAL_PASSWORD_HASH
            ),
        )

    def a_worker_reacts(self, policy: Policy, to: type[AggregateEvent]) -> None:
        """What a worker does when she has done `to` (her workspace, its tear-down, her
        review): the platform's own policy decides it, on her clock, and it is saved
        without the policy's position, which only workers move (issue 15: a web process
        does no background work). The worker's pass over her events then finds each done
        (each of these reactions does nothing twice). The event's position in the log,
        given as 0, is not read by these reactions."""
        [event] = [e for e in self.ctx.store.history(self.attempt) if isinstance(e, to)][-1:]
        retrying(lambda: self.ctx.store.save(*policy.react(self.ctx, Recorded(0, event))))

    def raise_phone_flag(self) -> None:
        """A detector sees a phone seven minutes into the exam (seconds from her entry)."""
        start = _seconds(ENTRY, EXAM_BEGINS) + PHONE_AFTER.total_seconds()
        proctoring.raise_flag(
            self.ctx,
            self.session,
            flag_id=PHONE_FLAG,
            kind=FlagKind.PHONE,
            span=MediaSpan(start, start + PHONE_SECONDS),
            confidence=0.87,
        )

    def answer(self, n: int) -> None:
        attempt = self.ctx.store.get(self.attempt, ExamAttempt)
        paper = self.ctx.catalogue.paper(attempt.certification_code, attempt.bank_hash)
        text, choices = _answer(paper.question(attempt.question_order[n]), n not in WRONG)
        portal.answer_question(
            self.ctx,
            self.attempt,
            question_id=attempt.question_order[n],
            answer=text,
            choices=choices,
        )

    def send(self) -> None:
        """« Valider l'examen », the displayed code typed back, « Oui, envoyer » (R18)."""
        code = self.ctx.store.get(self.attempt, ExamAttempt).validation_code
        assert code is not None
        portal.validate_exam(self.ctx, self.attempt, typed_code=code)


def _seconds(earlier: time, later: time) -> float:
    day = date(2000, 1, 1)
    return (datetime.combine(day, later) - datetime.combine(day, earlier)).total_seconds()


def _answer(question: Question, right: bool) -> tuple[str, tuple[str, ...]]:
    """(text, choices) as her exam tab sends them: the expected answer, or a wrong one."""
    if question.kind is QuestionKind.SHORT:
        return (question.expected[0] if right else "je ne sais plus", ())
    if right:
        return ("", question.expected)
    wrong = [c.choice_id for c in question.choices if c.choice_id not in question.expected]
    return ("", (wrong[0],) if wrong else question.expected[:1])


@dataclass(frozen=True)
class Action:
    """One thing she (or a worker) does, at its time of her day; `done` reads it back."""

    at: time
    done: Callable[[Progress], bool]
    do: Callable[[Seeding], object]


Command = Callable[..., object]  # a use case on her session: (ctx, session_id, **arguments)


def _on_session(command: Command, **arguments: object) -> Callable[[Seeding], object]:
    return lambda s: command(s.ctx, s.session, **arguments)


def _on_attempt(command: Command, **arguments: object) -> Callable[[Seeding], object]:
    return lambda s: command(s.ctx, s.attempt, **arguments)


def _worker(policy: Policy, to: type[AggregateEvent]) -> Callable[[Seeding], object]:
    return lambda s: s.a_worker_reacts(policy, to)


def _step(step: Step) -> Callable[[Progress], bool]:
    return lambda p: p.completed(step)


def _beyond(status: AttemptStatus) -> Callable[[Progress], bool]:
    return lambda p: p.beyond(status)


# The guide's checks (R7–R9), each one click of hers on her session.
CHECKS: list[tuple[time, Step, Command, dict[str, object]]] = [
    (time(13, 58, 45), Step.INSTRUCTIONS_READ, proctoring.read_instructions, {}),
    (time(13, 59, 31), Step.DESIGNER_RULES_ATTESTED, proctoring.attest_designer_rules, {}),
    (time(13, 59, 44), Step.SECURE_MODE_ACKNOWLEDGED, proctoring.acknowledge_secure_mode, {}),
    (time(14, 0, 6), Step.GENERAL_CONDITIONS_ATTESTED, proctoring.attest_general_conditions, {}),
    (time(14, 0, 41), Step.SOUND_HEARD, proctoring.confirm_sound_heard, {}),
    (time(14, 1, 9), Step.MICROPHONE_TESTED, proctoring.stop_microphone_recording, {}),
    (time(14, 1, 24), Step.CAMERA_CHECKED, proctoring.check_camera, {"working": True}),
    (
        time(14, 1, 47),
        Step.CONNECTION_TESTED,
        proctoring.record_connection_test,
        {"round_trip_ms": 41.0, "upload_kbps": 6400.0, "passed": True},
    ),
    (time(14, 2, 38), Step.FACE_PHOTO, proctoring.confirm_face_photo, {}),
    (time(14, 3, 31), Step.ID_PHOTO, proctoring.confirm_id_photo, {}),
]
# R10: when she starts filming each part (each recording lasts demo_media.SECONDS).
RECORDINGS = {
    EnvironmentPart.EARS: time(14, 4, 2),
    EnvironmentPart.ROOM: time(14, 4, 21),
    EnvironmentPart.DESK: time(14, 4, 45),
}


def _journey(platform: Platform) -> list[Action]:
    """Every action of her day, in time order, each with how to tell it was done."""
    actions = [
        Action(time(9, 12), lambda p: p.candidate is not None, Seeding.enrol),
        Action(time(10, 5), lambda p: p.session is not None, Seeding.create_session),
        Action(
            time(13, 57, 52),
            lambda p: p.candidate is not None and p.candidate.terms_accepted,
            Seeding.accept_terms,
        ),
        Action(
            ENTRY,
            lambda p: p.session is not None and p.session.entries > 0,
            _on_session(proctoring.enter_session),
        ),
        Action(
            time(14, 0, 57),
            lambda p: (
                p.session is not None
                and (p.session.microphone_recording or p.completed(Step.MICROPHONE_TESTED))
            ),
            _on_session(proctoring.start_microphone_recording),
        ),
        Action(
            time(14, 2, 30),
            lambda p: p.session is not None and p.session.face_photo_taken,
            Seeding.take_face_photo,
        ),
        Action(
            time(14, 3, 20),
            lambda p: p.session is not None and p.session.id_photo_taken,
            Seeding.take_id_photo,
        ),
    ]
    actions += [Action(at, _step(step), _on_session(c, **a)) for at, step, c, a in CHECKS]
    for part, starts in RECORDINGS.items():
        stops = _later(starts, seconds=demo_media.SECONDS[part])
        actions += [
            Action(
                starts,
                partial(Progress.filming, part=part),
                _on_session(proctoring.start_environment_recording, part=part),
            ),
            Action(stops, _step(PART_STEP[part]), partial(Seeding.stop_recording, part=part)),
        ]
    actions += [
        Action(
            time(14, 6, 12),
            lambda p: p.candidate is not None and p.candidate.profile_complete,
            Seeding.save_profile,
        ),
        Action(
            time(14, 6, 33),
            _beyond(AttemptStatus.TO_START),
            _on_attempt(portal.select_tile, certification_code=CERTIFICATION),
        ),
        Action(
            time(14, 6, 46), _beyond(AttemptStatus.TILE_SELECTED), _on_attempt(portal.start_now)
        ),
        Action(
            time(14, 6, 58),
            _beyond(AttemptStatus.WORKSPACE_REQUESTED),
            _worker(ProvisionWorkspaces(), ExamAttempt.WorkspaceRequested),
        ),
        Action(EXAM_BEGINS, _beyond(AttemptStatus.WORKSPACE_READY), _on_attempt(portal.begin_exam)),
        Action(
            _later(EXAM_BEGINS, seconds=PHONE_AFTER.total_seconds() + PHONE_SECONDS + 6),
            lambda p: p.session is not None and PHONE_FLAG in p.session.flag_ids,
            Seeding.raise_phone_flag,
        ),
        Action(
            time(15, 5, 40), _beyond(AttemptStatus.IN_PROGRESS), _on_attempt(portal.finish_exam)
        ),
        Action(
            time(15, 5, 44),
            lambda p: (
                p.beyond(AttemptStatus.IN_PROGRESS)
                and p.attempt is not None
                and p.attempt.workspace_ref is None
            ),
            _worker(TearDownWorkspaces(), ExamAttempt.ExamFinished),
        ),
        Action(time(15, 7, 10), _beyond(AttemptStatus.RESULTS_SHOWN), Seeding.send),
        Action(
            _later(CAMERA_OFF, seconds=1),  # the recorder's report, once its file is kept
            # Done once reported, or once her review is open: a data folder seeded before
            # the demo had a recording keeps its review as it was decided upon, never a
            # recording added afterwards behind it.
            lambda p: p.review_opened or (p.session is not None and bool(p.session.segment_ids)),
            Seeding.record_surveillance,
        ),
        Action(
            time(15, 7, 13),
            lambda p: p.review_opened,
            _worker(OpenReviewOnSubmission(), ExamAttempt.ExamValidated),
        ),
    ]
    questions = len(platform.ctx.catalogue.get(CERTIFICATION).paper.question_ids)
    every = _seconds(FIRST_ANSWER, LAST_ANSWER) / max(1, questions - 1)
    for n in range(questions):
        # Some take her longer than others: up to 20 s either way of an even pace.
        at = _later(FIRST_ANSWER, seconds=n * every + (n * 53) % 41 - 20)
        actions.append(Action(at, partial(Progress.answered, n=n), partial(Seeding.answer, n=n)))
    return sorted(actions, key=lambda a: a.at)


def _later(moment: time, *, seconds: float) -> time:
    day = date(2000, 1, 1)
    return (datetime.combine(day, moment) + timedelta(seconds=seconds)).time()


def seed_sent_exam(platform: Platform, centre_operator: UUID) -> UUID:
    """Her exam sent for review yesterday (or taken on from where an earlier start left it);
    returns the review's id. Records nothing once the review is open."""
    platform.projections.catch_up(platform.ctx.store)
    progress = progress_of(platform)
    actions = _journey(platform)
    # Where she stopped: each action follows the one before, so all that come after the
    # first one not done are still to do.
    first = next((n for n, a in enumerate(actions) if not a.done(progress)), len(actions))
    if first < len(actions):
        zone = ZoneInfo(platform.ctx.time_zone)
        day = _her_day(platform, progress)
        clock = ManualClock(datetime.combine(day, actions[first].at, tzinfo=zone))
        seeding = Seeding(platform, clock, centre_operator, progress)
        for action in actions[first:]:
            clock.set(datetime.combine(day, action.at, tzinfo=zone))
            action.do(seeding)
        platform.projections.catch_up(platform.ctx.store)
        progress = progress_of(platform)
    assert progress.attempt is not None and progress.review_opened
    return reviewing.review_id_for(progress.attempt.id)


def _her_day(platform: Platform, progress: Progress) -> date:
    """The day of her journey: yesterday, or the day she was enrolled on if a start
    stopped half-way (her actions go on where they were)."""
    if progress.enrollment is not None:
        return progress.enrollment.enrolled_on
    return platform.ctx.now().date() - timedelta(days=1)


def review_waiting(platform: Platform) -> bool:
    """Whether her review is still to be decided (the start's announcement says so)."""
    attempt = progress_of(platform).attempt
    if attempt is None:
        return False
    try:
        review = platform.ctx.store.get(reviewing.review_id_for(attempt.id), Review, to_read=True)
    except AggregateNotFound:
        return False
    return review.verdict is None
