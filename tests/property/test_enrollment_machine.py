"""Enrollment against a small model while time moves forward.

R1: the exam session is created by the enrolment's last day (inclusive), and the enrolment
expires only after it. R2: creating the exam session has three outcomes; a repeat records
nothing. R3: a first validity of 15 days, renewals never past day 90. Accommodations: extra
time (0–100 %) and other arrangements, granted before the exam starts and refused after
(ACCOMMODATION-BEFORE-START); a new grant replaces the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.enrollment import Enrollment, SessionCreationOutcome
from domain.errors import RuleBroken
from domain.rules import CURRENT_RULES
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

# The guide's numbers, written again here so the model does not borrow them from the code.
ENROLMENT_DAYS = 90
FIRST_VALIDITY_DAYS = 15
RENEWAL_DAYS = 15

# Europe/Paris and overseas French zones: the local day decides every deadline.
TIME_ZONES = ("Europe/Paris", "UTC", "America/Cayenne", "Pacific/Noumea")
MAX_EXTRA_PERCENT = 100
MAX_ARRANGEMENTS = 1000


@dataclass
class EnrollmentModel:
    """What the guide says an enrolment is, in as few fields as it takes."""

    enrolled_on: date
    last_day: date
    session: bool = False
    valid_until: date | None = None
    live: bool = False
    slot: datetime | None = None
    renewals: int = 0
    expired: bool = False
    accommodation: tuple[int, str, UUID] | None = None  # percent, arrangements, granted by

    def accommodation_refusal(self, percent: int, arrangements: str, started: bool) -> str | None:
        """The rule refusing a grant ("invalid:<field>" for a malformed one), or None."""
        if self.expired:
            return "R1"
        if started:
            return "ACCOMMODATION-BEFORE-START"
        if not 0 <= percent <= MAX_EXTRA_PERCENT:
            return "ACCOMMODATION-EXTRA-TIME"
        if len(arrangements.strip()) > MAX_ARRANGEMENTS or (
            percent == 0 and not arrangements.strip()
        ):
            return "invalid:arrangements"
        return None

    def creation(self, today: date) -> str | None:
        """The rule refusing a first creation today, if any (R1)."""
        if self.expired or today > self.last_day:
            return "R1"
        return None

    def renewal(self, today: date) -> tuple[str | None, date | None]:
        """R3: the refusing rule, or the new end of validity."""
        if not self.session or self.expired or today > self.last_day:
            return "R3", None
        assert self.valid_until is not None
        if self.valid_until >= self.last_day:
            return "R3", None
        start = max(self.valid_until, today)
        return None, min(start + timedelta(days=RENEWAL_DAYS), self.last_day)

    def booking(
        self, slot: datetime, now: datetime, *, closed: bool = False, entered: bool = False
    ) -> str | None:
        """R2: office hours on weekdays, in the future; R3: within the validity. Only while
        a slot can matter: not on an expired enrolment (R1), a session over (R18) or already
        entered (R2), nor once the validity ended (R3: renew first). A slot booked again
        replaces the last one (a missed slot)."""
        if not (self.session and self.live):
            return "R2"
        if self.expired:
            return "R1"
        if closed:
            return "R18"
        if entered:
            return "R2"
        assert self.valid_until is not None
        if now.date() > self.valid_until:
            return "R3"
        if slot.weekday() >= 5 or not 9 <= slot.hour < 18:
            return "R2"
        if slot <= now:
            return "R2"
        assert self.valid_until is not None
        if slot.date() > self.valid_until:
            return "R3"
        return None


class EnrollmentMachine(RuleBasedStateMachine):
    """Drives one enrolment through creations, renewals, bookings and expiry."""

    def __init__(self) -> None:
        super().__init__()
        self.enrollment: Enrollment | None = None
        self.log: list[Any] = []

    # --- helpers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.astimezone(self.zone)

    # --- setup ---------------------------------------------------------------------------

    @initialize(
        zone=st.sampled_from(TIME_ZONES),
        day=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
        minute_of_day=st.integers(0, 24 * 60 - 1),
        duration=st.integers(60, 150),
        ids=st.lists(st.uuids(), min_size=3, max_size=3, unique=True),
        days_before_first_look=st.one_of(st.integers(0, 5), st.integers(80, 95)),
    )
    def enrol(
        self,
        zone: str,
        day: date,
        minute_of_day: int,
        duration: int,
        ids: list[UUID],
        days_before_first_look: int,
    ) -> None:
        self.zone = ZoneInfo(zone)
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        self.clock = (local + timedelta(minutes=minute_of_day)).astimezone(UTC)
        enrolled_on = self.now.date()
        self.model = EnrollmentModel(
            enrolled_on=enrolled_on, last_day=enrolled_on + timedelta(days=ENROLMENT_DAYS)
        )
        self.enrollment = Enrollment.enrol(
            enrollment_id=ids[0],
            centre_id=ids[1],
            candidate_id=ids[2],
            certification_code="ACCESS-2019",
            exam_duration_minutes=duration,
            rules=CURRENT_RULES,
            at=self.now,
        )
        self.log.extend(self.enrollment.collect_events())
        # Some candidates come back only near or after day 90: reach R1's edge without
        # spending the whole step budget on time passing.
        self.clock += timedelta(days=days_before_first_look)

    # --- time ----------------------------------------------------------------------------

    @rule(days=st.integers(0, 20), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.clock += timedelta(days=days, hours=hours)

    # --- commands ------------------------------------------------------------------------

    @rule(exam_session_id=st.uuids(), live=st.booleans())
    def create_the_exam_session_r1_r2(self, exam_session_id: UUID, live: bool) -> None:
        assert self.enrollment is not None
        today = self.now.date()

        def command() -> SessionCreationOutcome:
            assert self.enrollment is not None
            return self.enrollment.create_exam_session(
                exam_session_id=exam_session_id, at=self.now, live_supervision=live
            )

        if self.model.session:
            # R2: "already exists" sends no second mail, so nothing at all is recorded
            # (expect_success checks that recording nothing leaves the state unchanged).
            outcome = expect_success(self.enrollment, command, self.log, events=0)
            assert outcome is SessionCreationOutcome.ALREADY_EXISTS
            return
        refusal = self.model.creation(today)
        if refusal:
            expect_refusal(self.enrollment, command, refusal)
            return
        outcome = expect_success(self.enrollment, command, self.log)
        expected = (
            SessionCreationOutcome.CREATED_WITH_LIVE_SUPERVISION
            if live
            else SessionCreationOutcome.CREATED
        )
        assert outcome is expected
        self.model.session = True
        self.model.live = live
        self.model.valid_until = min(
            today + timedelta(days=FIRST_VALIDITY_DAYS), self.model.last_day
        )

    @rule()
    def renew_the_exam_session_r3(self) -> None:
        assert self.enrollment is not None
        refusal, valid_until = self.model.renewal(self.now.date())

        def command() -> date:
            assert self.enrollment is not None
            return self.enrollment.renew_exam_session(at=self.now)

        if refusal:
            expect_refusal(self.enrollment, command, refusal)
            return
        assert expect_success(self.enrollment, command, self.log) == valid_until
        self.model.valid_until = valid_until
        self.model.renewals += 1

    @rule(
        days_ahead=st.integers(-1, 20),
        hour=st.integers(6, 20),
        minute=st.sampled_from([0, 30]),
        booked_by=st.uuids(),
        session=st.sampled_from(["not entered", "not entered", "entered", "closed"]),
    )
    def book_a_live_supervision_slot_r2(
        self, days_ahead: int, hour: int, minute: int, booked_by: UUID, session: str
    ) -> None:
        assert self.enrollment is not None
        day = self.now.date() + timedelta(days=days_ahead)
        slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        now = self.now
        closed, entered = session == "closed", session != "not entered"
        refusal = self.model.booking(slot, now, closed=closed, entered=entered)

        def command() -> None:
            assert self.enrollment is not None
            self.enrollment.book_live_supervision_slot(
                slot=slot,
                booked_by=booked_by,
                at=now,
                session_closed=closed,
                session_entered=entered,
            )

        if refusal:
            expect_refusal(self.enrollment, command, refusal)
            return
        expect_success(self.enrollment, command, self.log)
        self.model.slot = slot

    @rule()
    def expire_the_enrolment_only_after_its_last_day_r1(self) -> None:
        assert self.enrollment is not None

        def command() -> None:
            assert self.enrollment is not None
            self.enrollment.expire(at=self.now)

        if self.model.expired or self.now.date() <= self.model.last_day:
            expect_refusal(self.enrollment, command, "R1")
            return
        expect_success(self.enrollment, command, self.log)
        self.model.expired = True

    @rule(
        percent=st.sampled_from([0, 25, 33, 50, 100, 101, -5]),
        arrangements=st.sampled_from(["", "   ", "salle calme, pauses", "x" * 1001]),
        started=st.sampled_from([False, False, True]),
        granted_by=st.uuids(),
    )
    def grant_an_accommodation_before_the_exam_starts(
        self, percent: int, arrangements: str, started: bool, granted_by: UUID
    ) -> None:
        assert self.enrollment is not None
        now = self.now
        started_at = now - timedelta(minutes=5) if started else None

        def command() -> object:
            assert self.enrollment is not None
            return self.enrollment.grant_accommodation(
                at=now,
                granted_by=granted_by,
                extra_time_percent=percent,
                arrangements=arrangements,
                exam_started_at=started_at,
            )

        refusal = self.model.accommodation_refusal(percent, arrangements, started)
        if refusal:
            expect_refusal(self.enrollment, command, refusal)
            return
        granted = expect_success(self.enrollment, command, self.log)
        self.model.accommodation = (percent, arrangements.strip(), granted_by)
        assert getattr(granted, "granted_at", None) == now

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def replaying_the_log_rebuilds_the_live_state(self) -> None:
        if self.enrollment is None:
            return
        assert state_of(replay(self.log)) == state_of(self.enrollment)

    @invariant()
    def the_enrolment_matches_its_model(self) -> None:
        enrollment = self.enrollment
        if enrollment is None:
            return
        assert enrollment.enrolled_on == self.model.enrolled_on
        assert enrollment.last_day == self.model.last_day
        assert (enrollment.exam_session_id is not None) is self.model.session
        assert enrollment.session_valid_until == self.model.valid_until
        assert enrollment.live_supervision is self.model.live
        assert enrollment.supervision_slot == self.model.slot
        assert enrollment.renewals == self.model.renewals
        assert enrollment.expired is self.model.expired
        granted = enrollment.accommodation
        assert (granted is None) is (self.model.accommodation is None)
        if granted is not None:
            assert (
                granted.extra_time_percent,
                granted.arrangements,
                granted.granted_by,
            ) == self.model.accommodation
        today = self.now.date()
        assert enrollment.session_is_valid_on(today) is (
            not self.model.expired
            and self.model.valid_until is not None
            and today <= self.model.valid_until
        )

    @invariant()
    def the_exam_session_is_never_valid_past_day_90_r3(self) -> None:
        enrollment = self.enrollment
        if enrollment is None:
            return
        assert (enrollment.session_valid_until is None) is (enrollment.exam_session_id is None)
        if enrollment.session_valid_until is not None:
            assert enrollment.session_valid_until <= enrollment.last_day
        if enrollment.renewals:
            assert enrollment.exam_session_id is not None
        if enrollment.supervision_slot is not None:
            assert enrollment.live_supervision
            assert enrollment.session_valid_until is not None
            assert enrollment.supervision_slot.date() <= enrollment.session_valid_until


EnrollmentMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestAnEnrolmentBehavesLikeTheGuidesModel = EnrollmentMachine.TestCase


@settings(max_examples=30, deadline=None)
@given(duration=st.one_of(st.integers(0, 59), st.integers(151, 600)), at_utc=st.datetimes())
def test_an_exam_lasting_less_than_1h_or_more_than_2h30_cannot_be_enrolled_r4(
    duration: int, at_utc: datetime
) -> None:
    with pytest.raises(RuleBroken) as refusal:
        Enrollment.enrol(
            enrollment_id=UUID(int=1),
            centre_id=UUID(int=2),
            candidate_id=UUID(int=3),
            certification_code="ACCESS-2019",
            exam_duration_minutes=duration,
            rules=CURRENT_RULES,
            at=at_utc.replace(tzinfo=UTC),
        )
    assert refusal.value.rule == "R4"
