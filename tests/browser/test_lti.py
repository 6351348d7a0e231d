"""LTI 1.3 in the browser (issue 16): a learner launched from the test LMS lands in their
session in their LMS's language; after the examiner's decision, taken and sent in her own
browser, the worker loop posts the grade and the LMS's grade book shows it (the exam between
is taken through the use cases, as other browser tests set it up); a
teacher's Deep Linking picks a certification; a launch from an unknown deployment is refused
with a page in the learner's language. The LMS is tests/lti_platform.py on 127.0.0.1, its
own pages (the course link, the auto-posted id_token form) in the same Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from app import lti
from app.use_cases import accounts
from domain.claims import Claim, enrolment_claim_id
from domain.enrollment import Enrollment
from domain.staff import Role
from tests.browser.conftest import ARTIFACTS, Server
from tests.lti_platform import CLIENT_ID, LmsPlatform, serve_platform
from ui.journey import Journey

CENTRE = UUID("9a1e4c2b-3d5f-4a6b-8c7d-0e1f2a3b4c5d")


@pytest.fixture
def lms(server: Server) -> Iterator[LmsPlatform]:
    for platform in serve_platform(server.url, lambda: server.clock.now().timestamp()):
        lti.register_platform(
            server.platform.ctx,
            lti.Registration(
                issuer=platform.issuer,
                client_id=CLIENT_ID,
                auth_url=f"{platform.url}/auth",
                token_url=f"{platform.url}/token",
                jwks_url=f"{platform.url}/jwks",
                name="Moodle de test",
                deployments={platform.deployment: CENTRE},
            ),
        )
        yield platform


def test_a_learner_launched_from_the_lms_lands_in_their_session_and_the_lms_gets_the_grade(
    server: Server, lms: LmsPlatform, page: Any, browser: Any
) -> None:
    page.goto(f"{lms.url}/course?user=alice")
    page.wait_for_url(f"{server.url}/terms")
    assert page.locator("html").get_attribute("lang") == "en"  # the LMS's en-GB
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lti-launched-learner.png"), full_page=True)

    platform = server.platform
    platform.projections.catch_up(platform.ctx.store)
    candidate = platform.projections.find_by_email("alice.durand@example.org")
    assert candidate is not None
    claim = platform.ctx.store.get(enrolment_claim_id(CENTRE, candidate, "ENI-ACCESS"), Claim)
    enrollment = platform.ctx.store.get(claim.holder_id, Enrollment)
    journey = Journey(platform, email="alice.durand@example.org", centre_id=CENTRE)
    journey.candidate_id, journey.enrollment_id = candidate, enrollment.id
    journey.session_id = enrollment.exam_session_id
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    accounts.register_staff(
        platform.ctx,
        email="eve@example.org",
        name="Eve",
        role=Role.EXAMINER,
        password="examinatrice-1",
    )
    # The examiner decides and sends the result in her own browser, as she would.
    staff = browser.new_context(locale="fr-FR")
    examiner = staff.new_page()
    examiner.goto(f"{server.url}/examiner/reviews/{journey.review_id}")
    examiner.get_by_label("Adresse e-mail").fill("eve@example.org")
    examiner.get_by_label("Mot de passe").fill("examinatrice-1")
    examiner.get_by_role("button", name="Se connecter").click()
    examiner.goto(f"{server.url}/examiner/reviews/{journey.review_id}")
    examiner.get_by_role("button", name="Prendre ce contrôle").click()
    examiner.get_by_label("Validée", exact=True).check()
    examiner.get_by_role("button", name="Enregistrer la décision").click()
    assert examiner.locator("#decision").get_attribute("data-verdict") == "validated"
    assert lms.scores == {}  # decided, not yet sent: nothing goes back
    examiner.get_by_role("button", name="Envoyer le résultat").click()
    staff.close()

    deadline = time.monotonic() + 20  # the worker loop beside the app posts it
    while not lms.scores and time.monotonic() < deadline:
        time.sleep(0.2)
    page.goto(f"{lms.url}/gradebook")
    row = page.locator("tr", has_text="u-alice")
    assert row.count() == 1 and "validated (review)" in row.inner_text()
    [posted] = lms.scores["rl-1"]
    assert posted["scoreGiven"] > 0 and posted["scoreMaximum"] == 100


def test_a_teachers_deep_link_picks_a_certification(
    server: Server, lms: LmsPlatform, page: Any
) -> None:
    page.goto(f"{lms.url}/course?user=teacher&link=deep-link")
    page.wait_for_url(f"{server.url}/lti/deep-link")
    page.screenshot(path=str(ARTIFACTS / "lti-deep-link.png"), full_page=True)
    page.get_by_label("Bureautique Access", exact=False).first.check()
    page.get_by_role("button", name="Add to my course").click()
    page.wait_for_url(f"{lms.url}/deep-link-return")
    assert "Activity added" in page.locator("h1").inner_text()
    [item] = lms.deep_links
    assert item["custom"] == {"certification": "ENI-ACCESS"}


def test_a_launch_from_an_unknown_deployment_is_refused_in_the_learners_language(
    server: Server, lms: LmsPlatform, page: Any
) -> None:
    lms.deployment = "deployment-unknown"
    page.goto(f"{lms.url}/course?user=bruno")
    page.wait_for_url(f"{server.url}/lti/launch")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "n'est rattaché à aucun centre" in page.locator("#lti-refusal").inner_text()
    page.screenshot(path=str(ARTIFACTS / "lti-refused-deployment.png"), full_page=True)
