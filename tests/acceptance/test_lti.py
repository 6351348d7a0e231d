"""LTI 1.3 (issue 16): Vigie launched from a learning platform, over real HTTP on 127.0.0.1.

The platform is tests/lti_platform.py (real RS256 signatures, key sets, the OIDC form post,
the client-credentials grant, AGS scores, NRPS pages); Vigie is the real app served by
uvicorn, its background work done by `vigie worker`'s own passes (`work(once=True)`)."""

from __future__ import annotations

import contextlib
import html
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import StringIO
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from joserfc.jwk import KeySet, RSAKey

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app import lti
from app.mail_rendering import SupportContact
from app.use_cases import accounts, appeals, reviewing
from domain.candidate import Candidate
from domain.claims import Claim, enrolment_claim_id
from domain.enrollment import Enrollment
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.lti import GradeLink, LaunchFault, LaunchRefused, grade_link_id
from domain.review import AppealOutcome, CitedReason, ReasonCode, Review
from domain.staff import Role
from tests.acceptance.web import log_in
from tests.lti_platform import CLIENT_ID, COURSE, LmsPlatform, serve_platform
from ui import cli
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from ui.worker import work

SECRET = b"l" * 32
CENTRE = UUID("5f6b8a2e-0c4d-4e1f-9a3b-7c2d1e0f4a5b")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Tool:
    url: str
    platform: Platform
    settings: Settings

    @property
    def clock(self) -> ManualClock:
        clock = self.platform.ctx.clock
        assert isinstance(clock, ManualClock)
        return clock

    def worker_pass(self) -> None:
        """What `vigie worker` does in one pass of each kind (policies, outbox...)."""
        work(self.platform, threading.Event(), once=True)


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/vigie.sqlite",
        media_root=str(tmp_path / "media"),
        secret_key=SECRET.decode(),
        base_url=f"http://127.0.0.1:{port}",
        launcher="memory",
    )


def lti_clock() -> ManualClock:
    """A clock the test moves, set at 9:00 in Paris today (the learning platform's tokens
    are signed and checked with it): at today's real time, a run after 22:30 could not
    start an exam that must end the same day (R16)."""
    return ManualClock(datetime.now(PARIS).replace(hour=9, minute=0, second=0, microsecond=0))


@pytest.fixture
def tool(tmp_path: Path) -> Iterator[Tool]:
    port = _free_port()
    settings = _settings(tmp_path, port)
    platform = bootstrap(settings, clock=lti_clock(), ids=SeededIds(5))
    app = create_app(platform, secret=SECRET, support=SupportContact())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded CI machine starts uvicorn slowly
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield Tool(f"http://127.0.0.1:{port}", platform, settings)
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


def vigie(tool: Tool, *args: str) -> str:
    """The `vigie` command on the tool's store, at the tool's time; its output (exit code 0
    asserted)."""
    out = StringIO()
    with contextlib.redirect_stdout(out), at_tool_time(tool):
        code = cli.main(["--database-url", tool.settings.database_url, *args])
    assert code == 0, out.getvalue()
    return out.getvalue()


@contextlib.contextmanager
def at_tool_time(tool: Tool) -> Iterator[None]:
    """`VIGIE_CLOCK_OFFSET` set so a CLI command's clock reads the tool's (9:00 in Paris):
    the learning platform checks the command's signed assertions against the tool's clock,
    and at the real time they expired hours before or were not yet valid."""
    offset = tool.clock.now().timestamp() - time.time()
    saved = os.environ.get("VIGIE_CLOCK_OFFSET")
    os.environ["VIGIE_CLOCK_OFFSET"] = repr(offset)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["VIGIE_CLOCK_OFFSET"]
        else:
            os.environ["VIGIE_CLOCK_OFFSET"] = saved


@pytest.fixture
def lms(tool: Tool, monkeypatch: pytest.MonkeyPatch) -> Iterator[LmsPlatform]:
    for platform in serve_platform(tool.url, lambda: tool.clock.now().timestamp()):
        monkeypatch.setenv("VIGIE_SECRET_KEY", SECRET.decode())
        monkeypatch.setenv("VIGIE_BASE_URL", tool.url)
        said = vigie(
            tool,
            "lti",
            "register",
            "--issuer",
            platform.issuer,
            "--client-id",
            CLIENT_ID,
            "--auth-url",
            f"{platform.url}/auth",
            "--token-url",
            f"{platform.url}/token",
            "--jwks-url",
            f"{platform.url}/jwks",
            "--name",
            "Moodle de test",
            "--deployment",
            f"{platform.deployment}={CENTRE}",
        )
        assert f"deployment {platform.deployment} enrols for centre {CENTRE}" in said
        assert f"{tool.url}/lti/login" in said
        yield platform


@dataclass
class Launched:
    answer: httpx.Response
    browser: httpx.Client
    id_token: str
    state: str


def launch(
    tool: Tool,
    lms: LmsPlatform,
    user: str,
    link: str = "rl-1",
    browser: httpx.Client | None = None,
) -> Launched:
    """A browser's way: the course's link, the tool's login initiation, the platform's
    authorisation endpoint, its form posted to the tool's launch."""
    browser = browser or httpx.Client(timeout=20)
    start = browser.get(f"{lms.url}/course", params={"user": user, "link": link})
    assert start.status_code == 302
    initiation = browser.get(start.headers["location"])
    assert initiation.status_code in (302, 303), initiation.text
    assert initiation.headers["location"].startswith(f"{lms.url}/auth?")
    form = browser.get(initiation.headers["location"])
    assert form.status_code == 200, form.text
    id_token = re.search(r'name="id_token" value="([^"]+)"', form.text)
    state = re.search(r'name="state" value="([^"]+)"', form.text)
    assert id_token and state
    answer = browser.post(
        f"{tool.url}/lti/launch", data={"id_token": id_token[1], "state": state[1]}
    )
    return Launched(answer, browser, id_token[1], state[1])


def test_a_launched_learner_is_enrolled_by_the_deployments_centre_and_lands_in_their_language(
    tool: Tool, lms: LmsPlatform
) -> None:
    launched = launch(tool, lms, "alice")

    assert launched.answer.status_code in (302, 303), launched.answer.text
    assert launched.answer.headers["location"] == "/terms"
    page = launched.browser.get(f"{tool.url}/terms")
    assert page.status_code == 200 and '<html lang="en"' in page.text  # en-GB on the LMS
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    candidate = tool.platform.projections.find_by_email("alice.durand@example.org")
    assert candidate is not None
    claim = tool.platform.ctx.store.get(enrolment_claim_id(CENTRE, candidate, "ENI-ACCESS"), Claim)
    enrollment = tool.platform.ctx.store.get(claim.holder_id, Enrollment)
    assert enrollment.centre_id == CENTRE and enrollment.exam_session_id is not None
    link = tool.platform.ctx.store.get(grade_link_id(enrollment.id), GradeLink)
    assert link.lineitem == lms.lineitem("rl-1")
    # Her id on the platform is hers: sealed in her own stream, never in the link.
    person = tool.platform.ctx.store.get(candidate, Candidate)
    assert person.lti_user(lms.issuer) == "u-alice"
    assert all("u-alice" not in repr(e) for e in tool.platform.ctx.store.history(link.id))
    from app import privacy

    exported = privacy.export_candidate(tool.platform.ctx, tool.platform.projections, candidate)
    assert exported["personal_data"]["learning_platform_ids"] == [
        {"issuer": lms.issuer, "user_id": "u-alice"}
    ]
    sessions = launched.browser.get(f"{tool.url}/exams")
    assert sessions.status_code == 200


def test_a_launch_on_a_browser_where_staff_were_logged_in_leaves_only_the_learner_logged_in(
    tool: Tool, lms: LmsPlatform
) -> None:
    from app.use_cases import accounts

    accounts.register_staff(
        tool.platform.ctx,
        email="eve@example.org",
        name="Eve",
        role=Role.EXAMINER,
        password="eve-pass-123",
    )
    browser = httpx.Client(base_url=tool.url, timeout=20)
    log_in(browser, "/staff/login", "eve@example.org", "eve-pass-123")  # type: ignore[arg-type]
    assert browser.get("/examiner/reviews").status_code == 200
    launch(tool, lms, "alice", browser=browser)
    assert browser.get("/exams").status_code == 200
    assert browser.get("/examiner/reviews", follow_redirects=False).status_code != 200


def test_a_second_launch_of_the_same_learner_changes_nothing_and_a_french_learner_reads_french(
    tool: Tool, lms: LmsPlatform
) -> None:
    launch(tool, lms, "bruno")
    again = launch(tool, lms, "bruno")
    assert again.answer.status_code in (302, 303)
    page = again.browser.get(f"{tool.url}/terms")
    assert '<html lang="fr"' in page.text
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    bruno = tool.platform.projections.find_by_email("bruno.petit@example.org")
    enrolments = [
        e for e in tool.platform.projections.enrollments.values() if e.candidate_id == bruno
    ]
    assert len(enrolments) == 1


def test_a_replayed_launch_is_refused_here_and_from_another_process_sharing_the_store(
    tool: Tool, lms: LmsPlatform
) -> None:
    first = launch(tool, lms, "alice")
    assert first.answer.status_code in (302, 303)
    # The same form posted again with the same browser (its state cookie is gone: it is put
    # back, as an attacker holding both would).
    replay = httpx.post(
        f"{tool.url}/lti/launch",
        data={"id_token": first.id_token, "state": first.state},
        cookies={"vigie_lti_state": first.state},
    )
    assert replay.status_code == 409
    assert "This launch link was already used" in html.unescape(
        replay.text
    )  # alice's LMS speaks English
    other = bootstrap(tool.settings, clock=tool.clock)  # another process on the same store
    try:
        with pytest.raises(LaunchRefused) as refused:
            lti.verify_launch(
                other.ctx,
                other.links,
                other.lti_client,
                id_token=first.id_token,
                state=first.state,
                cookie_state=first.state,
            )
        assert refused.value.fault is LaunchFault.REPLAYED_NONCE
    finally:
        other.close()


def _login_state(tool: Tool, lms: LmsPlatform, user: str) -> tuple[httpx.Client, str, str]:
    """A browser that started a login: (it, the state, the nonce the platform was sent)."""
    browser = httpx.Client(timeout=20)
    initiation = browser.get(lms.login_url(user))
    query = dict(httpx.URL(initiation.headers["location"]).params)
    return browser, query["state"], query["nonce"]


@pytest.mark.parametrize(
    ("forge", "status", "words"),
    [
        ("another key", 401, "its signature does not match the platform's keys"),
        ("another audience", 401, "meant for another tool than Vigie"),
        ("unknown deployment", 403, "not linked to a training centre"),
        ("expired", 400, "This launch has expired"),
        ("another nonce", 400, "did not start in this browser"),
    ],
)
def test_a_forged_or_stale_launch_is_refused_with_a_clear_page_in_the_learners_language(
    tool: Tool, lms: LmsPlatform, forge: str, status: int, words: str
) -> None:
    browser, state, nonce = _login_state(tool, lms, "alice")
    now = int(tool.clock.now().timestamp())
    forged = {
        "another key": {"key": RSAKey.generate_key(2048)},
        "another audience": {"aud": "someone-else"},
        "unknown deployment": {
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-9"
        },
        "expired": {"exp": now - 600, "iat": now - 900},
        "another nonce": {},
    }[forge]
    token = lms.id_token("alice", uuid4().hex if forge == "another nonce" else nonce, **forged)
    answer = browser.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert answer.status_code == status
    text = html.unescape(answer.text)
    assert words in text and '<html lang="en"' in text
    # The person reads a sentence; the fault's code is only an attribute for the curious.
    assert "bad-signature" not in text.split("data-fault")[0]
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    assert tool.platform.projections.find_by_email("alice.durand@example.org") is None


def test_a_launch_with_an_address_no_mail_reaches_is_refused_and_records_nothing(
    tool: Tool, lms: LmsPlatform
) -> None:
    """F5 (a tester's tour): an address with a NUL was enrolled and poisoned the next mail of
    the platform. A platform's address meets the same rule as a centre's: the learner reads
    what to do, in their platform's language; nothing is enrolled."""
    browser, state, nonce = _login_state(tool, lms, "alice")
    token = lms.id_token("alice", nonce, email="alice\x00@example.org")
    answer = browser.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert answer.status_code == 400
    text = html.unescape(answer.text)
    assert 'data-fault="bad-email"' in text and '<html lang="en"' in text
    assert "shared an e-mail address that cannot receive mail" in text
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    assert not tool.platform.projections.enrollments
    assert not tool.platform.projections.candidate_names


def test_a_platform_user_who_takes_another_learners_email_does_not_get_their_account(
    tool: Tool, lms: LmsPlatform
) -> None:
    launch(tool, lms, "alice")
    launch(tool, lms, "bruno")
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    head = tool.platform.ctx.store.head()
    for user, sub in (("bruno", "u-bruno"), ("alice", "u-mallory")):
        browser, state, nonce = _login_state(tool, lms, user)
        # Bruno changed his e-mail on the platform to Alice's; then a new user of the
        # platform (another sub) gives Alice's address.
        token = lms.id_token(user, nonce, email="alice.durand@example.org", sub=sub)
        answer = browser.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
        assert answer.status_code == 403 and 'data-fault="other-account"' in answer.text
        words = "linked to two different" if user == "alice" else "deux comptes Vigie différents"
        assert words in html.unescape(answer.text)
        assert "vigie_session" not in answer.cookies
    # Nothing was recorded but the nonces used.
    kinds = {type(r.event).__qualname__ for r in tool.platform.ctx.store.read(head, 100)}
    assert kinds == {"Claim.Staked"}


def test_a_learner_forgotten_at_their_request_may_be_launched_afresh(
    tool: Tool, lms: LmsPlatform
) -> None:
    from app import privacy

    launch(tool, lms, "alice")
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    first = tool.platform.projections.find_by_email("alice.durand@example.org")
    assert first is not None
    platform = tool.platform
    privacy.erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        first,
        reason="asked by her",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    again = launch(tool, lms, "alice")
    assert again.answer.status_code in (302, 303), again.answer.text
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    assert tool.platform.projections.find_by_email("alice.durand@example.org") not in (None, first)
    assert platform.ctx.store.get(first, Candidate).lti_user(lms.issuer) is None  # forgotten


def test_a_refused_launch_gives_a_reference_and_the_log_says_what_was_wrong_under_it(
    tool: Tool, lms: LmsPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """The learner's sentence names no deployment: the hotline finds it in the log, by the
    reference the page gives."""
    browser, state, nonce = _login_state(tool, lms, "alice")
    deployment = {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-9"}
    token = lms.id_token("alice", nonce, **deployment)
    with caplog.at_level("WARNING", logger="vigie.web.lti"):
        answer = browser.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert answer.status_code == 403
    reference = answer.headers["x-request-id"]
    text = html.unescape(answer.text)
    assert f"Quote this reference to support: <code>{reference}</code>" in text
    said = [r for r in caplog.records if r.name == "vigie.web.lti"]
    assert [r.getMessage() for r in said] == [
        "lti: launch refused (unknown-deployment): deployment 'deployment-9' is not registered"
    ]


def test_a_launch_without_this_browsers_state_cookie_is_refused_in_french_for_a_french_lms(
    tool: Tool, lms: LmsPlatform
) -> None:
    _, state, nonce = _login_state(tool, lms, "bruno")
    token = lms.id_token("bruno", nonce)
    answer = httpx.post(f"{tool.url}/lti/launch", data={"id_token": token, "state": state})
    assert answer.status_code == 400
    assert "Ce lancement n'a pas commencé dans ce navigateur" in html.unescape(answer.text)


def test_a_platform_that_rotated_its_key_is_still_believed(tool: Tool, lms: LmsPlatform) -> None:
    assert launch(tool, lms, "alice").answer.status_code in (302, 303)
    lms.rotate()  # the tool's cached key set no longer holds the signing key
    assert launch(tool, lms, "bruno").answer.status_code in (302, 303)


def _examiner(tool: Tool, name: str) -> UUID:
    from app.use_cases import accounts

    return accounts.register_staff(
        tool.platform.ctx, email=f"{name}@example.org", name=name, role=Role.EXAMINER
    )


def _journey_of(tool: Tool, email: str) -> Journey:
    """The launched learner's journey from their exam session on (the use cases)."""
    tool.platform.projections.catch_up(tool.platform.ctx.store)
    candidate = tool.platform.projections.find_by_email(email)
    assert candidate is not None
    claim = tool.platform.ctx.store.get(enrolment_claim_id(CENTRE, candidate, "ENI-ACCESS"), Claim)
    enrollment = tool.platform.ctx.store.get(claim.holder_id, Enrollment)
    journey = Journey(tool.platform, email=email, centre_id=CENTRE)
    journey.candidate_id, journey.enrollment_id = candidate, enrollment.id
    journey.session_id = enrollment.exam_session_id
    return journey


def percent_of(tool: Tool, journey: Journey) -> float:
    """The exam's score out of 100, as the attempt's results say."""
    assert journey.attempt_id is not None
    results = tool.platform.ctx.store.get(journey.attempt_id, ExamAttempt).results
    assert results is not None
    return round(100 * results.score / results.max_score, 2)


def test_the_grade_goes_back_once_after_the_release_and_again_after_an_appeal(
    tool: Tool, lms: LmsPlatform
) -> None:
    launch(tool, lms, "alice")
    journey = _journey_of(tool, "alice.durand@example.org")
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    first, second = _examiner(tool, "first"), _examiner(tool, "second")
    review = tool.platform.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    reviewing.assign_examiner(tool.platform.ctx, review.id, first)
    reviewing.decide_review(
        tool.platform.ctx,
        review.id,
        examiner_id=first,
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.HEADPHONES, (launched.id,)),),
    )
    tool.worker_pass()
    assert lms.scores == {}  # decided, not yet released: nothing goes back
    reviewing.release_results(tool.platform.ctx, review.id, released_by=first)
    tool.worker_pass()
    tool.worker_pass()  # a second pass posts nothing more
    [posted] = lms.scores["rl-1"]
    assert posted["userId"] == "u-alice"
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (0.0, 100.0)
    assert posted["gradingProgress"] == "FullyGraded" and "invalidated" in posted["comment"]

    appeals.lodge_appeal(
        tool.platform.ctx,
        review.id,
        candidate_id=journey.candidate_id,  # type: ignore[arg-type]
        reason="je portais des bouchons d'oreille prescrits par mon médecin",
    )
    appeals.take_appeal(tool.platform.ctx, review.id, second)
    appeals.decide_appeal(
        tool.platform.ctx,
        review.id,
        examiner_id=second,
        outcome=AppealOutcome.OVERTURNED,
        answer="Les bouchons étaient prescrits : l'examen est validé.",
    )
    tool.worker_pass()
    tool.worker_pass()
    first_post, after_appeal = lms.scores["rl-1"]
    assert after_appeal["scoreGiven"] == percent_of(tool, journey)
    assert "validated (appeal)" in after_appeal["comment"]
    assert first_post == posted


def test_a_platform_that_fails_is_retried_with_back_off_and_gets_the_grade_once(
    tool: Tool, lms: LmsPlatform
) -> None:
    launch(tool, lms, "alice")
    journey = _journey_of(tool, "alice.durand@example.org")
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    examiner = _examiner(tool, "eve")
    journey.decided(examiner, Verdict.VALIDATED)
    lms.score_failures_left = 2
    reviewing.release_results(tool.platform.ctx, journey.review_id, released_by=examiner)  # type: ignore[arg-type]
    tool.worker_pass()  # refused (503): retried in 30 s
    tool.worker_pass()  # not due yet: nothing sent
    assert lms.refused_posts == 1 and lms.scores == {}
    tool.clock.advance(seconds=31)
    tool.worker_pass()  # refused again: retried a minute later
    tool.clock.advance(seconds=61)
    tool.worker_pass()
    tool.worker_pass()
    assert lms.refused_posts == 2
    [posted] = lms.scores["rl-1"]
    assert posted["scoreGiven"] == percent_of(tool, journey) > 0
    said = vigie(tool, "lti", "scores", "posted")
    assert "1 posted score report(s)" in said and "3 attempt(s)" in said


def test_a_score_the_platform_refuses_is_given_up_and_shown_to_operators(
    tool: Tool, lms: LmsPlatform
) -> None:
    launch(tool, lms, "alice")
    journey = _journey_of(tool, "alice.durand@example.org")
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    examiner = _examiner(tool, "eve")
    journey.decided(examiner, Verdict.VALIDATED)
    lms.tool_key_set = lambda: KeySet([])  # the platform no longer knows Vigie's keys
    reviewing.release_results(tool.platform.ctx, journey.review_id, released_by=examiner)  # type: ignore[arg-type]
    tool.worker_pass()
    tool.worker_pass()
    assert lms.scores == {}
    said = vigie(tool, "lti", "scores")
    assert "1 failed score report(s)" in said and "invalid_client" in said


def test_a_teacher_picks_a_certification_and_the_lms_receives_a_signed_deep_link(
    tool: Tool, lms: LmsPlatform
) -> None:
    launched = launch(tool, lms, "teacher", link="deep-link")
    assert launched.answer.headers["location"] == "/lti/deep-link"
    browser = launched.browser
    page = browser.get(f"{tool.url}/lti/deep-link")
    assert page.status_code == 200 and "Choose a certification" in page.text
    csrf = browser.cookies["vigie_csrf"]
    chosen = browser.post(
        f"{tool.url}/lti/deep-link",
        data={"certification": "ENI-ACCESS"},
        headers={"x-csrftoken": csrf},
    )
    assert chosen.status_code == 200, chosen.text
    action = re.search(r'action="([^"]+)"', chosen.text.split('id="lti-return"')[0][-400:])
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', chosen.text)
    assert jwt_value and f'action="{lms.url}/deep-link-return"' in chosen.text, action
    back = httpx.post(f"{lms.url}/deep-link-return", data={"JWT": jwt_value[1]})
    assert back.status_code == 200, back.text
    [item] = lms.deep_links
    assert item["type"] == "ltiResourceLink"
    assert item["custom"] == {"certification": "ENI-ACCESS"}
    assert item["lineItem"]["scoreMaximum"] == 100


def test_a_learner_cannot_add_an_activity(tool: Tool, lms: LmsPlatform) -> None:
    launched = launch(tool, lms, "alice", link="deep-link")
    assert launched.answer.status_code == 403
    assert "Only teachers add a Vigie certification" in html.unescape(launched.answer.text)


def test_a_platform_whose_keys_cannot_be_fetched_gets_a_try_again_page(
    tool: Tool, lms: LmsPlatform
) -> None:
    lti.register_platform(
        tool.platform.ctx,
        lti.Registration(
            issuer=lms.issuer,
            client_id=CLIENT_ID,
            auth_url=f"{lms.url}/auth",
            token_url=f"{lms.url}/token",
            jwks_url="http://127.0.0.1:9/jwks",  # nothing listens there
            name="Moodle de test",
            deployments={},
        ),
    )
    launched = launch(tool, lms, "bruno")
    assert launched.answer.status_code == 503
    assert "n'a pas pu être jointe" in html.unescape(launched.answer.text)


def test_the_tools_keys_rotate_and_the_previous_key_stays_published(
    tool: Tool, lms: LmsPlatform
) -> None:
    [first] = httpx.get(f"{tool.url}/lti/jwks").json()["keys"]
    said = vigie(tool, "lti", "rotate-key")
    keys = httpx.get(f"{tool.url}/lti/jwks").json()["keys"]
    assert keys[0]["kid"] == first["kid"] and len(keys) == 2
    assert "published: 2" in said
    assert all("d" not in k for k in keys)  # never a private half
    vigie(tool, "lti", "rotate-key")
    third = httpx.get(f"{tool.url}/lti/jwks").json()["keys"]
    assert first["kid"] not in [k["kid"] for k in third] and len(third) == 2
    # The platform verifies what the newest key signs (a client assertion for a token).
    assert tool.platform.lti_client.access_token(
        f"{lms.url}/token",
        tool.platform.lti_keys.client_assertion(CLIENT_ID, f"{lms.url}/token"),
        ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
    )


def test_the_roster_of_a_course_is_read_from_the_lms(tool: Tool, lms: LmsPlatform) -> None:
    launch(tool, lms, "alice")
    said = vigie(tool, "lti", "roster", "--issuer", lms.issuer, "--client-id", CLIENT_ID)
    assert f"course {COURSE}: 4 member(s)" in said  # both pages of the roster
    assert "Paul Prof\tprof@example.org\tInstructor" in said
    assert "Alice Durand\talice.durand@example.org\tLearner" in said


def test_a_roster_of_a_course_that_never_launched_vigie_names_the_courses_that_did(
    tool: Tool, lms: LmsPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    launch(tool, lms, "alice")
    capsys.readouterr()
    args = ["lti", "roster", "--issuer", lms.issuer, "--client-id", CLIENT_ID, "--context", "x"]
    with at_tool_time(tool):
        assert cli.main(["--database-url", tool.settings.database_url, *args]) == 2
    said = capsys.readouterr().err
    assert (
        f"context: no course 'x' has launched Vigie from this platform (courses: {COURSE})" in said
    )


def test_registering_a_platform_again_changes_its_name_and_keeps_it_when_none_is_given(
    tool: Tool, lms: LmsPlatform
) -> None:
    urls = ["--auth-url", f"{lms.url}/auth", "--token-url", f"{lms.url}/token"]
    again = ["lti", "register", "--issuer", lms.issuer, "--client-id", CLIENT_ID, *urls]
    again += ["--jwks-url", f"{lms.url}/jwks"]
    assert vigie(tool, *again, "--name", "Moodle du campus").startswith("updated: Moodle du campus")
    assert vigie(tool, *again).startswith("updated: Moodle du campus")
    found = lti.find_platform(tool.platform.ctx, lms.issuer, CLIENT_ID)
    assert found.name == "Moodle du campus"


def test_the_registered_platforms_are_listed_with_their_deployments(
    tool: Tool, lms: LmsPlatform
) -> None:
    said = vigie(tool, "lti", "platforms")
    assert said.startswith("1 platform(s) registered\n")
    assert f"- Moodle de test: issuer {lms.issuer}, client id {CLIENT_ID}\n" in said
    assert f"  deployment {lms.deployment} enrols for centre {CENTRE}\n" in said
    assert f"tool's public key set URL: {tool.url}/lti/jwks" in said


def test_a_deployment_for_a_centre_id_no_operator_works_for_is_warned_of(
    tool: Tool, lms: LmsPlatform
) -> None:
    """A mistyped centre id would enrol learners that no centre's page ever shows."""
    accounts.register_staff(
        tool.platform.ctx,
        email="centre-b@example.org",
        name="Centre B",
        role=Role.CENTRE,
        password="centre-b-pass-12",
    )
    urls = ["--auth-url", f"{lms.url}/auth", "--token-url", f"{lms.url}/token"]
    again = ["lti", "register", "--issuer", lms.issuer, "--client-id", CLIENT_ID, *urls]
    again += ["--jwks-url", f"{lms.url}/jwks", "--deployment", "deployment-2=centre-b@example.org"]
    said = vigie(tool, *again)
    assert said.count("warning: no centre operator's account works for centre") == 1
    assert f"works for centre {CENTRE}:" in said  # the fixture's made-up centre id, not B's


def test_a_registration_with_a_malformed_address_names_the_field(tool: Tool) -> None:
    with pytest.raises(ValueError, match="jwks_url"):
        lti.register_platform(
            tool.platform.ctx,
            lti.Registration(
                issuer="https://lms.example.org",
                client_id="x",
                auth_url="https://lms.example.org/auth",
                token_url="https://lms.example.org/token",
                jwks_url="ftp://nowhere",
                name="LMS",
                deployments={},
            ),
        )
