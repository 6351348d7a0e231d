"""Issue 14 in Chromium: a member of staff turns on the second factor from their security
page (the QR code is an image, the key is shown), types a first code, and the next log-in
asks for a code after the password; both pages pass axe and fit a 360 px phone."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from app.use_cases import accounts
from domain.staff import Role
from tests.browser.conftest import Server, serious_violations
from tests.browser.test_tour import overflow

EMAIL, PASSWORD = "eve@example.org", "eve-pass-1"


def _log_in(page: Any, url: str) -> None:
    page.goto(f"{url}/staff/login")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def _checked(page: Any) -> None:
    for width in (1440, 360):
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow(page, width) == []
        assert serious_violations(page) == []


def test_a_member_of_staff_turns_on_the_second_factor_and_logs_in_with_a_code(
    page: Any, server: Server
) -> None:
    url, clock = server.url, server.clock
    accounts.register_staff(
        server.platform.ctx, email=EMAIL, name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    _log_in(page, url)
    page.wait_for_url("**/examiner/reviews")
    page.get_by_role("link", name="Sécurité").click()
    page.wait_for_url("**/staff/security")  # reading the list at once read the old page's
    page.get_by_label("Votre mot de passe actuel, pour le configurer").fill(PASSWORD)  # F8
    page.get_by_role("button", name="Configurer un second facteur").click()
    page.wait_for_url("**/staff/security/second-factor")  # is_visible() does not wait
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.is_visible() and qr.get_attribute("src").startswith("data:image/svg+xml")
    secret = page.locator("#totp-secret").inner_text()
    _checked(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Activer le second facteur").click()
    assert page.get_by_role("status").inner_text().startswith("Le second facteur est activé")
    page.get_by_role("button", name="Se déconnecter").click()

    clock.advance(seconds=30)  # the next code
    _log_in(page, url)
    page.wait_for_url("**/staff/login/code")
    _checked(page)
    page.get_by_label("Code").fill(
        "000000" if pyotp.TOTP(secret).at(clock.now()) != "000000" else "111111"
    )
    page.get_by_role("button", name="Se connecter").click()
    assert "pas le bon" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/examiner/reviews")


def test_her_security_page_lists_an_administrators_reset_apart_from_her_own_change(
    page: Any, server: Server
) -> None:
    """A reviewer's: a reset read as her own change. The page lists both, told apart, in
    French and English, and passes axe and fits a 360 px phone."""
    ctx, clock = server.platform.ctx, server.clock
    staff_id = accounts.register_staff(
        ctx, email=EMAIL, name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    clock.advance(hours=1)
    assert accounts.change_staff_password(ctx, staff_id, current=PASSWORD, new="eve-pass-2")
    clock.advance(days=2)
    accounts.reset_staff_password(
        ctx, staff_id, new=PASSWORD, by="Alice Martin", system_account="root@vigie-1"
    )
    _log_in(page, server.url)
    page.wait_for_url("**/examiner/reviews")
    page.get_by_role("link", name="Sécurité").click()
    page.wait_for_url("**/staff/security")  # reading the list at once read the old page's
    history = page.locator("#security-history li")
    assert history.all_inner_texts() == [
        "06/03/2025 10:00 Mot de passe réinitialisé par l'administration (Alice Martin)",
        "04/03/2025 10:00 Vous avez changé votre mot de passe",
        "04/03/2025 09:00 Mot de passe donné à la création de votre compte",
    ]
    _checked(page)
    page.get_by_role("link", name="English").click()
    page.locator("html[lang=en]").wait_for()
    assert history.all_inner_texts() == [
        "06/03/2025 10:00 Password reset by the administration (Alice Martin)",
        "04/03/2025 10:00 You changed your password",
        "04/03/2025 09:00 Password given with your account",
    ]
    _checked(page)
