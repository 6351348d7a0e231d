"""The auditor's pages show the final decision (issue 12, item 4): after an appeal, the list
gives the appeal's verdict next to the first one, and the replay page shows the first
examiner's decision and reasons, the candidate's reason, the second examiner's answer and
outcome, and the final verdict."""

from __future__ import annotations

import html
import re
from typing import Any

from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from app.use_cases import accounts, reviewing
from domain.evidence import Verdict
from domain.review import AppealOutcome, Review, override_of
from domain.staff import Role
from tests.acceptance.test_audit_cli import JUSTIFICATION, OVERTURNED
from tests.acceptance.web import log_in
from tests.property.test_appeal_replay_properties import appealed_journey, two_examiners
from ui.journey import Journey
from ui.web.app import create_app

SECRET = b"a" * 32
PASSWORD = "auditor-pass-1"


def test_the_auditor_sees_an_overturned_invalidation_with_both_examiners_reasons() -> None:
    with two_examiners() as (platform, first, second):
        review_id = appealed_journey(platform, OVERTURNED, first, second)
        accounts.register_staff(
            platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
        )
        with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
            log_in(client, "/staff/login", "ada@example.org", PASSWORD)
            listing = html.unescape(client.get("/auditor").text)
            page: Any = client.get(f"/auditor/reviews/{review_id}")
            client.get("/lang/en")
            english = html.unescape(client.get(f"/auditor/reviews/{review_id}").text)

    # The verdicts read as words: the final one, then the first decision's.
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", listing.split("<tbody>", 1)[1]))
    assert "validée après contestation, d'abord : invalidée" in row
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "&lt;bdi" not in page.text  # isolated as markup, never shown as text
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    assert 'id="final-verdict" data-verdict="validated"' in text
    assert "Verdict final : validée (après contestation)" in shown
    assert "Première décision : invalidée" in shown and str(first) in text
    # The first examiner's reason in words, never its code (« headphones (Écouteurs… »).
    assert "Écouteurs ou casque" in shown and "headphones" not in shown
    # The candidate's reason, isolated from the page's words (F9).
    assert "«\u00a0<bdi>je portais des bouchons</bdi>\u00a0»" in text
    # Each examiner by name (the id alone was shown; a reviewer's check), the account's
    # reference in a title and in the page's references.
    assert f'Second examinateur <span class="staff" title="{second}">second</span>' in text
    assert f'Examinateur <span class="staff" title="{first}">first</span>' in text
    assert f"<code>{first}</code>" in text and f"<code>{second}</code>" in text
    assert f'data-outcome="{AppealOutcome.OVERTURNED.value}"' in text
    assert "Examen validé après contestation → validée" in shown
    assert "en désaccord avec le premier examinateur" in text
    assert "«\u00a0<bdi>on voit le candidat seul</bdi>\u00a0»" in text  # the second's answer
    assert "Identique — même recommandation" in shown and "MATCHES" not in shown
    assert "Identical</strong> — same recommendation" in english
    assert "(on appeal)" in english and "disagrees with the first examiner" in english
    assert "Answer to the candidate: “<bdi>on voit le candidat seul</bdi>”" in english


def test_the_auditor_sees_the_justification_of_a_validation_against_a_ground_r19() -> None:
    with two_examiners() as (platform, first, _):
        journey = Journey(platform, email="sans.photo@example.org")
        review_id = journey.sent_for_review(waive_id_photo=True)
        reviewing.assign_examiner(platform.ctx, review_id, first)
        review = platform.ctx.store.get(review_id, Review)
        assert review.recommendation is not None
        reviewing.decide_review(
            platform.ctx,
            review_id,
            examiner_id=first,
            verdict=Verdict.VALIDATED,
            overrides=tuple(override_of(g, JUSTIFICATION) for g in review.recommendation.grounds),
        )
        accounts.register_staff(
            platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
        )
        with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
            log_in(client, "/staff/login", "ada@example.org", PASSWORD)
            text = html.unescape(client.get(f"/auditor/reviews/{review_id}").text)

    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    # The ground in words, its rule a discreet reference (not « R9 identity_not_verifiable »).
    assert "Décidé contre le motif : Vérification de l'identité impossible règle R9" in shown
    assert "identity_not_verifiable" not in shown
    assert f"«\u00a0<bdi>{JUSTIFICATION}</bdi>\u00a0»" in text and "Identique" in shown
