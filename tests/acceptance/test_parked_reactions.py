"""Issue 12, policies survive a bad event: a reaction that keeps failing is parked with the
policy's position, logged, listed for operators, and retried when one asks; the reactions to
the events after it (other candidates' mails) still happen."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

import pytest
from eventsourcing.domain import Aggregate
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.context import Context
from app.mail_rendering import SupportContact
from app.outbox import MailDecisions
from app.parked import RetryParkedReactions, request_retry
from app.policies import PARK_AFTER, PolicyRunner
from app.ports.event_store import Recorded
from app.use_cases import accounts, enrolment
from domain.enrollment import Enrollment
from domain.outbound_mail import MailKind, OutboundMail, RecipientKind
from domain.parked_reaction import ParkedStatus
from domain.staff import Role
from tests.acceptance.web import csrf, log_in
from ui.cli import main
from ui.journey import Journey, make_platform
from ui.web.app import create_app


def _enrol(platform: Platform, email: str) -> enrolment.Enrolled:
    return enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=platform.ctx.ids.new_id(),
        email=email,
        surname="Durand",
        first_name="Lou",
        certification_code="ENI-ACCESS",
    )


@dataclass
class BrokenOnSessions:
    """A policy whose reaction to an exam session's creation always fails (a bug)."""

    name: str = "welcome-broken"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, Enrollment.ExamSessionCreated)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        raise RuntimeError("the welcome template is missing")


def _runner(platform: Platform) -> PolicyRunner:
    """The worker's runner with the broken policy beside the mails' one."""
    policies = [BrokenOnSessions(), MailDecisions()]
    return PolicyRunner(platform.ctx, [*policies, RetryParkedReactions(policies)])


def _parked_session_reaction(platform: Platform, journey: Journey) -> None:
    journey.enrol()
    assert journey.enrollment_id is not None
    enrolment.create_exam_session(platform.ctx, journey.enrollment_id)
    platform.settle(_runner(platform))


def test_a_reaction_that_keeps_failing_is_parked_and_the_next_candidates_mails_go_out(
    journey: Journey, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """A reaction to one session's creation keeps failing: parked after PARK_AFTER tries,
    logged; the two enrolments after it still get their invitations (R1). (An erased
    candidate's mail is no such case: it is settled, unsent, without parking:
    test_erased_person_refused.py.)"""
    journey.enrol()
    assert journey.enrollment_id is not None and journey.candidate_id is not None
    enrolment.create_exam_session(platform.ctx, journey.enrollment_id)
    _enrol(platform, "lou.durand@example.org")
    _enrol(platform, "sam.petit@example.org")

    platform.settle(_runner(platform))

    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    for email in ("lou.durand@example.org", "sam.petit@example.org"):
        assert len(mailer.to(email)) == 1, email  # the invitation
    parked = platform.parked.catch_up(platform.ctx.store)
    assert [(p.policy, p.event_type, p.tries) for p in parked] == [
        ("welcome-broken", "Enrollment.ExamSessionCreated", PARK_AFTER)
    ]
    assert parked[0].cause.startswith(f"{journey.enrollment_id}/")
    assert "template is missing" in parked[0].error
    assert any("parked its reaction" in r.message for r in caplog.records)

    # The operator retries; the cause is still there: parked again, one more try recorded.
    request_retry(platform.ctx, parked[0].parked_id, by="test")
    platform.settle(_runner(platform))
    again = platform.parked.catch_up(platform.ctx.store)
    assert [(p.status, p.tries) for p in again] == [(ParkedStatus.PARKED, PARK_AFTER + 1)]


@dataclass
class BrokenUntilFixed:
    """A policy whose reaction fails until its cause is fixed (a missing setting, say)."""

    fixed: bool = False
    name: str = "broken-until-fixed"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, Enrollment.Enrolled)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        if not self.fixed:
            raise RuntimeError("the certification's catalogue entry is missing")
        event = recorded.event
        cause = f"{event.originator_id}/{event.originator_version}"
        return [
            OutboundMail.decide(
                mail_id=uuid5(NAMESPACE_URL, f"{self.name}:{cause}"),
                kind=MailKind.INVITATION,
                recipient_kind=RecipientKind.CANDIDATE,
                recipient_id=event.candidate_id,
                params={"certification": "Access", "last_day": "-", "enrollment_id": "-"},
                cause=f"{self.name}:{cause}",
                at=event.timestamp,
            )
        ]


def test_a_parked_reaction_retried_after_the_fix_is_carried_out_once(platform: Platform) -> None:
    """The retry's reaction and 'resolved' are saved together; retrying runners do it once,
    and the other policy (the invitation mail) was never held up."""
    broken = BrokenUntilFixed()
    mails = MailDecisions()
    policies = [broken, mails]
    runner = PolicyRunner(platform.ctx, [*policies, RetryParkedReactions(policies)])
    enrolled = _enrol(platform, "lou.durand@example.org")
    runner.run_until_quiet()
    parked = platform.parked.catch_up(platform.ctx.store)
    assert [p.policy for p in parked] == ["broken-until-fixed"]
    broken.fixed = True
    request_retry(platform.ctx, parked[0].parked_id, by="operator")
    runner.run_until_quiet()
    PolicyRunner(platform.ctx, [*policies, RetryParkedReactions(policies)]).run_until_quiet()
    assert platform.parked.catch_up(platform.ctx.store) == []
    store = platform.ctx.store
    decided = [
        r.event
        for r in store.read(0, store.head())
        if isinstance(r.event, OutboundMail.MailDecided)
        and r.event.cause.startswith(f"broken-until-fixed:{enrolled.enrollment_id}/")
    ]
    assert len(decided) == 1


def test_vigie_policies_lists_parked_reactions_and_asks_for_a_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's CLI: `vigie policies parked`, then `vigie policies retry ID`."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path}/vigie.sqlite"
    platform = make_platform(url)
    try:
        _parked_session_reaction(platform, Journey(platform))
        parked_id = platform.parked.catch_up(platform.ctx.store)[0].parked_id
    finally:
        platform.close()
    capsys.readouterr()
    assert main(["--database-url", url, "policies", "parked"]) == 0
    listing = capsys.readouterr().out
    assert "1 parked reaction(s)" in listing and str(parked_id) in listing
    assert "welcome-broken on Enrollment.ExamSessionCreated" in listing
    assert main(["--database-url", url, "policies", "retry", str(parked_id)]) == 0
    assert "requested" in capsys.readouterr().out
    assert main(["--database-url", url, "policies", "parked"]) == 0
    assert "retry_requested" in capsys.readouterr().out


def test_the_operator_page_lists_a_parked_reaction_and_its_retry_button_asks_a_worker(
    platform: Platform,
) -> None:
    """The hotline sees the parked reaction (policy, event, error) and « Relancer » records the
    retry; the worker's pass carries it out (here: parked again, the cause is still there).
    A reaction may concern any centre's candidate: a centre does not see them (issue 14)."""
    secret = b"s" * 32
    accounts.register_staff(
        platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.SUPPORT,
        password="centre-pass-1",
    )
    _parked_session_reaction(platform, Journey(platform))
    with TestClient(create_app(platform, secret=secret, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", "centre-pass-1")
        page = client.get("/operator").text
        assert "Réactions en attente" in page
        # In words (a tester's tour: the raw « policy — Event (…) — Error: … »).
        assert "welcome-broken —" not in page and "RuntimeError" not in page
        found = re.search(r'action="(/operator/parked/[0-9a-f-]+/retry)"', page)
        assert found is not None
        reply = client.post(found.group(1), headers=csrf(client), follow_redirects=False)
        assert reply.status_code in (302, 303), reply.text
        asked = client.get("/operator").text
        assert "relance demandée" in asked
        assert "Relance demandée : un processus de fond l'exécute dans la minute." in asked
        platform.settle()  # the worker's pass
        again = client.get("/operator").text
        assert f"{PARK_AFTER + 1} essais" in again and "Relancer" in again


def test_a_parked_reaction_s_retry_button_asks_a_worker_who_carries_it_out(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cause the hotline can fix (the mail relay down, say): the sentence says to fix it
    and retry; « Relancer » records the retry and the worker's pass carries it out."""
    secret = b"s" * 32
    accounts.register_staff(
        platform.ctx, email="hl@example.org", name="Hl", role=Role.SUPPORT, password="hl-pass-123"
    )
    fixed = MailDecisions.react

    def relay_down(self: MailDecisions, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        raise OSError("the mail relay is down")

    monkeypatch.setattr(MailDecisions, "react", relay_down)
    journey = Journey(platform)
    journey.enrol()
    platform.settle()
    with TestClient(create_app(platform, secret=secret, support=SupportContact())) as client:
        log_in(client, "/staff/login", "hl@example.org", "hl-pass-123")
        page = client.get("/operator").text
        assert (
            "Un mail à un candidat ou à un examinateur n'est pas parti (3 essais) : le journal "
            "du serveur dit pourquoi. Corrigez la cause, puis relancez."
        ) in html.unescape(page)
        found = re.search(r'action="(/operator/parked/[0-9a-f-]+/retry)"', page)
        assert found is not None
        monkeypatch.setattr(MailDecisions, "react", fixed)  # the relay is back
        reply = client.post(found.group(1), headers=csrf(client), follow_redirects=False)
        assert reply.status_code in (302, 303), reply.text
        asked = client.get("/operator").text
        assert "relance demandée" in asked
        assert "Relance demandée : un processus de fond l'exécute dans la minute." in asked
        platform.settle()  # the worker's pass
        again = client.get("/operator").text
        assert 'data-parked="' not in again and "Aucune." in again


@pytest.mark.parametrize(
    ("error", "rule"),
    [
        ("RuleBroken: ERASED: the person's data was erased", "ERASED"),
        ("PersonErased: ERASED: this person's data was erased: nothing new is recorded", "ERASED"),
        ("RuleBroken: R23: the candidate has not entered", "R23"),
        ("OSError: the mail relay is down", ""),
        ("RuntimeError: the welcome template is missing", ""),
    ],
)
def test_a_parked_reaction_s_rule_is_read_whatever_the_refusal_s_type(
    error: str, rule: str
) -> None:
    """A reviewer's check: an erased person's refusal became its own type (PersonErased),
    and its parked reaction read as an unknown failure with « Relancer » again."""
    from ui.web.operator import parked_rule

    assert parked_rule(error) == rule
