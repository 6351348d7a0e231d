"""Mail decided by policies and sent by the outbox; the clock's facts, each once (issue 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from app.ports.mailer import Mail, MailRefused, MailUnavailable
from app.use_cases import accounts, enrolment, reviewing
from domain.candidate import Account, Candidate
from domain.errors import RuleBroken
from domain.outbound_mail import MailStatus, OutboundMail
from domain.staff import Role
from ui.journey import PARIS, Journey


class SwitchableMailer(MemoryMailer):
    """A real in-memory mailer whose server can be 'down' or refuse some addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused: set[str] = set()
        self.attempts = 0

    def send(self, mail: Mail) -> None:
        self.attempts += 1
        if self.down:
            raise MailUnavailable("connection refused")
        if mail.to in self.refused:
            raise MailRefused("550 mailbox unavailable")
        super().send(mail)


def make(database_url: str = "memory:", start: datetime | None = None) -> Platform:
    return bootstrap(
        Settings(database_url=database_url, media_root=None, secret_key="k" * 32),
        clock=ManualClock(start or datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(11),
        mailer=SwitchableMailer(),
    )


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make()
    yield platform
    platform.close()


def mailer_of(platform: Platform) -> SwitchableMailer:
    mailer = platform.mailer
    assert isinstance(mailer, SwitchableMailer)
    return mailer


def subjects(platform: Platform, email: str) -> list[str]:
    return [m.subject for m in mailer_of(platform).to(email)]


def clock_of(platform: Platform) -> ManualClock:
    clock = platform.ctx.clock
    assert isinstance(clock, ManualClock)
    return clock


def test_enrolment_sends_the_invitation_with_the_last_valid_day(platform: Platform) -> None:
    journey = Journey(platform)
    journey.enrol()
    [invitation] = mailer_of(platform).to(journey.email)
    assert invitation.subject == "Certification - Créer votre session d'examen"
    assert "au-delà du 27/04/2025 inclus" in invitation.text
    assert "hotline-certifications@vigie.example" in invitation.text  # R26
    assert "27/04/2025 inclus</strong>" in invitation.html
    assert "/sessions/new?t=" in invitation.text


def test_creating_the_session_twice_sends_one_welcome(platform: Platform) -> None:
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.create_session()
    journey.create_session()
    assert (
        subjects(platform, journey.email).count(
            "Bienvenue sur votre espace de passage de certification"
        )
        == 1
    )


def test_reminders_go_out_once_each_14_and_3_days_before_the_last_day(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()  # last day 27/04/2025
    clock = clock_of(platform)
    clock.set(datetime(2025, 4, 12, 9, 0, tzinfo=PARIS))
    assert platform.tick().count == 0
    clock.set(datetime(2025, 4, 13, 9, 0, tzinfo=PARIS))
    assert platform.tick().reminded == [(journey.enrollment_id, 14)]
    assert platform.tick().count == 0  # the same day again: nothing new
    clock.set(datetime(2025, 4, 24, 8, 0, tzinfo=PARIS))
    assert platform.tick().reminded == [(journey.enrollment_id, 3)]
    clock.advance(hours=12)
    assert platform.tick().count == 0
    reminders = [s for s in subjects(platform, journey.email) if s.startswith("Rappel")]
    assert reminders == [
        "Rappel : plus que 14 jours pour créer votre session d'examen",
        "Rappel : plus que 3 jours pour créer votre session d'examen",
    ]


def test_no_reminder_once_the_session_exists_and_a_missed_one_is_not_sent_late(
    platform: Platform,
) -> None:
    ready = Journey(platform, email="ready@example.org")
    ready.enrol()
    ready.create_session()
    late = Journey(platform, email="late@example.org")
    late.enrol()
    clock_of(platform).set(datetime(2025, 4, 25, 9, 0, tzinfo=PARIS))  # worker was down
    report = platform.tick()
    assert report.reminded == [(late.enrollment_id, 3)]  # the 14-day one is skipped
    assert not [s for s in subjects(platform, ready.email) if s.startswith("Rappel")]


def test_the_enrolment_expires_at_the_end_of_day_90_in_paris_across_the_clock_change(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()  # in winter (UTC+1); the last day 27/04/2025 is in summer time (UTC+2)
    clock = clock_of(platform)
    clock.set(datetime(2025, 4, 27, 21, 59, tzinfo=UTC))  # 23:59 in Paris
    assert platform.tick().expired == []
    clock.set(datetime(2025, 4, 27, 22, 0, tzinfo=UTC))  # midnight in Paris
    assert platform.tick().expired == [journey.enrollment_id]
    assert platform.tick().count == 0
    with pytest.raises(RuleBroken) as refused:
        journey.create_session()
    assert refused.value.rule == "R1"


def test_the_deadline_process_is_restart_safe_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/vigie.sqlite"
    first = make(url)
    journey = Journey(first)
    journey.enrol()
    clock_of(first).set(datetime(2025, 4, 13, 9, 0, tzinfo=PARIS))
    assert first.tick().count == 1
    first.close()
    again = make(url, start=datetime(2025, 4, 13, 18, 0, tzinfo=PARIS))
    try:
        head = again.ctx.store.head()
        assert again.tick().count == 0
        assert again.ctx.store.head() == head
    finally:
        again.close()


def test_a_lapsed_validity_is_recorded_once_per_validity_end(platform: Platform) -> None:
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()  # valid until 11/02/2025
    clock = clock_of(platform)
    clock.set(datetime(2025, 2, 12, 0, 30, tzinfo=PARIS))
    assert platform.tick().lapsed == [journey.enrollment_id]
    assert platform.tick().count == 0
    assert journey.enrollment_id is not None
    assert enrolment.renew_exam_session(platform.ctx, journey.enrollment_id) == date(2025, 2, 27)
    clock.set(datetime(2025, 2, 28, 9, 0, tzinfo=PARIS))
    assert platform.tick().lapsed == [journey.enrollment_id]


def test_the_examiner_is_told_48_hours_before_a_review_is_due_and_overdue_is_recorded(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.in_exam()
    journey.answer_and_send()  # sent on 27/01: due on 04/02 inclusive
    assert journey.review_id is not None
    examiner = accounts.register_staff(
        platform.ctx, email="examinateur@vigie.example", name="Eve Examinatrice", role=Role.EXAMINER
    )
    reviewing.assign_examiner(platform.ctx, journey.review_id, examiner)
    clock = clock_of(platform)
    clock.set(datetime(2025, 2, 2, 23, 59, tzinfo=PARIS))
    assert platform.tick().due_soon == []
    clock.set(datetime(2025, 2, 3, 0, 0, tzinfo=PARIS))  # 48 h before the end of 04/02
    assert platform.tick().due_soon == [journey.review_id]
    [notice] = mailer_of(platform).to("examinateur@vigie.example")
    assert notice.subject == "Contrôle à terminer avant le 04/02/2025"
    clock.set(datetime(2025, 2, 5, 0, 1, tzinfo=PARIS))
    assert platform.tick().overdue == [journey.review_id]
    assert platform.tick().count == 0


def test_a_password_reset_link_works_once_and_expires(platform: Platform) -> None:
    journey = Journey(platform)
    journey.enrol()
    accounts.request_password_reset(
        platform.ctx, platform.projections, email=journey.email, account=Account.PORTAL
    )
    platform.settle()
    [reset] = [m for m in mailer_of(platform).to(journey.email) if "Réinitialisation" in m.subject]
    token = reset.text.split("/password/reset?t=")[1].split()[0]
    signed = token.replace("%3A", ":")
    candidate_id = accounts.reset_password(
        platform.ctx,
        platform.links,
        signed_token=signed,
        account=Account.PORTAL,
        password="n3w-pass!",
    )
    assert candidate_id == journey.candidate_id
    with pytest.raises(RuleBroken, match="already used") as again:
        accounts.reset_password(
            platform.ctx,
            platform.links,
            signed_token=signed,
            account=Account.PORTAL,
            password="x" * 9,
        )
    assert again.value.rule == "R24"
    with pytest.raises(RuleBroken, match="not valid"):
        accounts.reset_password(
            platform.ctx,
            platform.links,
            signed_token=signed[:-1] + ("0" if signed[-1] != "0" else "1"),
            account=Account.PORTAL,
            password="x" * 9,
        )
    accounts.request_password_reset(
        platform.ctx, platform.projections, email=journey.email, account=Account.PROCTORING
    )
    platform.settle()
    late = mailer_of(platform).to(journey.email)[-1]
    late_token = late.text.split("/password/reset?t=")[1].split()[0].replace("%3A", ":")
    clock_of(platform).advance(minutes=61)
    with pytest.raises(RuleBroken, match="expired"):
        accounts.reset_password(
            platform.ctx,
            platform.links,
            signed_token=late_token,
            account=Account.PROCTORING,
            password="x" * 9,
        )


def test_a_reset_for_an_unknown_address_sends_nothing(platform: Platform) -> None:
    head = platform.ctx.store.head()
    accounts.request_password_reset(
        platform.ctx, platform.projections, email="nobody@example.org", account=Account.PORTAL
    )
    platform.settle()
    assert platform.ctx.store.head() == head
    assert mailer_of(platform).sent == []


def test_an_outage_delays_mails_with_back_off_and_delivers_each_once(platform: Platform) -> None:
    mailer = mailer_of(platform)
    mailer.down = True
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    assert mailer.sent == []
    clock = clock_of(platform)
    for _ in range(3):  # still down: attempts at +30 s, +1 min…
        clock.advance(minutes=5)
        platform.settle()
    pending = [m for m in platform.projections.mails.values() if m.status is MailStatus.PENDING]
    assert len(pending) == 2 and all(m.attempts >= 2 for m in pending)
    mailer.down = False
    clock.advance(minutes=10)
    platform.settle()
    platform.settle()
    assert sorted(subjects(platform, journey.email)) == sorted(
        [
            "Certification - Créer votre session d'examen",
            "Bienvenue sur votre espace de passage de certification",
        ]
    )
    assert all(m.status is MailStatus.SENT for m in platform.projections.mails.values())


def test_an_invalid_address_is_reported_and_not_retried_forever(platform: Platform) -> None:
    mailer = mailer_of(platform)
    journey = Journey(platform, email="typo@example.org")
    mailer.refused.add("typo@example.org")
    journey.enrol()
    attempts = mailer.attempts
    for _ in range(5):
        clock_of(platform).advance(hours=1)
        platform.settle()
    assert mailer.attempts == attempts  # refused once, never tried again
    [failed] = platform.projections.failed_mails()
    assert failed.kind == "invitation" and "550" in failed.last_error
    outbound = platform.ctx.store.get(failed.mail_id, OutboundMail)
    assert outbound.status is MailStatus.FAILED and outbound.attempts == 1


def test_a_mail_decided_before_a_crash_goes_out_once_after_the_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/vigie.sqlite"
    before = make(url)
    journey = Journey(before)
    enrolled = enrolment.enrol_candidate(
        before.ctx,
        before.projections,
        centre_id=journey.centre_id,
        email=journey.email,
        surname="Martin",
        first_name="Camille",
        certification_code="ENI-ACCESS",
    )
    before.runner.run_until_quiet()  # decided…
    assert mailer_of(before).sent == []  # …and the process dies before sending
    before.close()
    after = make(url)
    try:
        after.settle()
        after.settle()
        [invitation] = mailer_of(after).to(journey.email)
        assert "27/04/2025" in invitation.text
        assert isinstance(after.ctx.store.get(enrolled.candidate_id, Candidate), Candidate)
    finally:
        after.close()


def test_mail_ids_are_derived_from_their_cause_so_a_decision_is_never_doubled(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()
    decided = [m.cause for m in platform.projections.mails.values()]
    assert len(decided) == len(set(decided)) == 1
    assert isinstance(next(iter(platform.projections.mails)), UUID)
    assert platform.runner.run_until_quiet() == 0
