"""The browser's back button after a decision (R19). A user's tour: the examiner recorded her
decision, pressed « Précédent », and Chromium showed the review from its cache as it stood,
« Pris par vous, à décider », with a live decision form. Pages are sent `no-store` now:
going back asks the server, which says the review is decided."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Platform
from app.use_cases import accounts
from domain.staff import Role
from tests.browser.test_playback import reviewed  # noqa: F401 (the fixture, shared)
from ui.journey import Journey


def test_going_back_after_the_decision_shows_the_review_decided_r19(
    reviewed: tuple[str, Platform, Journey],  # noqa: F811
    page: Any,
) -> None:
    url, platform, journey = reviewed
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="eve-pass-1"
    )
    page.goto(f"{url}/staff/login")
    page.get_by_label("Adresse e-mail").fill("eve@example.org")
    page.get_by_label("Mot de passe").fill("eve-pass-1")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/examiner/reviews")
    review = f"{url}/examiner/reviews/{journey.review_id}"
    page.goto(review)
    page.get_by_role("button", name="Prendre ce contrôle").click()
    page.wait_for_selector("#decision-form")
    state = page.locator("dl dd .badge").first
    assert state.inner_text() == "Pris par vous, à décider"
    page.get_by_label("Validée", exact=True).check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_url("**done=decided**")
    assert state.inner_text() == "Décidé, résultat pas encore envoyé"
    page.go_back()
    page.wait_for_load_state()
    assert page.url.split("#")[0] == review
    assert state.inner_text() == "Décidé, résultat pas encore envoyé"
    assert page.locator("#decision-form").count() == 0
