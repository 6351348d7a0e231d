"""The hotline's desk in Chromium (issue 13, point 7): a support agent finds a candidate,
renews the session, is refused past day 90 with a sentence in place, and books live
supervision; in French and English, at 1440 and 360 px, with no horizontal overflow, no
console error and no failed asset. Screenshots go to test-artifacts/browser/hotline-*."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.use_cases import accounts, enrolment
from domain.staff import Role
from tests.browser.conftest import ARTIFACTS, Server, headings_out_of_order, serious_violations
from ui.journey import Journey

AGENT = ("agent@hotline.example.org", "staff-pass-1")
SIZES = {"desktop": (1440, 900), "phone": (360, 780)}


def _enrol(server: Server, email: str, first: str, surname: str, *, live: bool) -> Any:
    ctx = server.platform.ctx
    done = enrolment.enrol_candidate(
        ctx,
        server.platform.projections,
        centre_id=server.platform.ctx.ids.new_id(),
        email=email,
        surname=surname,
        first_name=first,
        certification_code="ENI-ACCESS",
        language="en" if live else "fr",
    )
    enrolment.create_exam_session(ctx, done.enrollment_id, live_supervision=live)
    return done


# A refusal is the case file again with status 409 (nothing recorded, as app.py's refusals):
# Chromium logs that document's status as a console error, which is no fault of the page.
REFUSED_PAGE = "the server responded with a status of 409"


def _watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and REFUSED_PAGE not in m.text else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    return problems


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hotline-{name}.png"), full_page=True)
    extra = Path("/tmp/shots-hotline")
    if extra.is_dir():
        page.screenshot(path=str(extra / f"{name}.png"), full_page=True)


def test_a_support_agent_renews_refuses_and_books_in_both_languages_and_sizes(
    server: Server, page: Any
) -> None:
    accounts.register_staff(
        server.platform.ctx,
        email=AGENT[0],
        name="Sacha Hotline",
        role=Role.SUPPORT,
        password=AGENT[1],
    )
    camille = _enrol(server, "camille.martin@example.org", "Camille", "Martin", live=False)
    helene = _enrol(server, "helene.leclerc@example.org", "Hélène", "Leclerc", live=True)
    server.platform.settle()
    problems = _watch(page)
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", AGENT[0])
    page.fill("#password", AGENT[1])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/hotline**")

    for lang in ("fr", "en"):
        page.goto(f"{server.url}/lang/{lang}")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server.url}/hotline/")
            page.fill("#q", "leclerc" if lang == "fr" else "martin")
            page.locator(".hotline-search button").click()
            page.locator(".hotline-found a").first.click()
            page.wait_for_url("**/hotline/candidates/**")  # the search page has an h1 too
            page.wait_for_selector("h1")
            assert _overflow(page) <= 0, f"{lang} {size}: the case file overflows"
            _shot(page, f"{lang}-{size}-case-file")
            page.goto(f"{server.url}/hotline/?q=example")
            assert _overflow(page) <= 0
            _shot(page, f"{lang}-{size}-search")
            assert not serious_violations(page), serious_violations(page)

    # English, desktop: renew Camille's session up to day 90; then the page offers no
    # renewal and says why, in its place, without opening anything.
    page.set_viewport_size({"width": 1440, "height": 900})
    case = f"{server.url}/hotline/candidates/{camille.candidate_id}"
    for n in range(5):
        page.goto(case)
        page.locator("summary", has_text="Renew the session").click()
        page.fill("textarea[name=reason]", f"ticket {n}: the candidate was ill")
        page.locator("button", has_text="Renew").last.click()
        assert "Session renewed" in page.inner_text("#notice")
        if n == 0:
            _shot(page, "en-desktop-renewed")
            # Each enrolment's title (h3) under « Enrolments » (h2), not larger than it.
            assert headings_out_of_order(page) == []
    assert page.locator("summary", has_text="Renew the session").count() == 0
    assert page.locator("[id^=no-renewal]").is_visible()
    assert "cannot be renewed" in page.inner_text("[id^=no-renewal]")
    assert page.locator("button", has_text="Renew").count() == 0
    _shot(page, "en-desktop-no-renewal-past-day-90")

    # French, phone: a slot out of office hours is refused in place, the slot typed kept.
    page.goto(f"{server.url}/lang/fr")
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{server.url}/hotline/candidates/{helene.candidate_id}")
    page.fill("input[name=slot]", "2025-03-05T20:00")
    page.locator("button", has_text="Réserver le créneau").click()
    assert "heures de bureau" in page.inner_text("#refusal")
    assert page.input_value("input[name=slot]") == "2025-03-05T20:00"
    assert _overflow(page) <= 0
    assert not serious_violations(page), serious_violations(page)
    _shot(page, "fr-phone-refused-slot")
    page.fill("input[name=slot]", "2025-03-05T14:00")
    page.locator("button", has_text="Réserver le créneau").click()
    assert "05/03/2025 14:00" in page.inner_text("#notice")
    page.fill("input[name=link]", "https://share.example.org/r/42")
    page.locator("button", has_text="Envoyer le lien").click()
    page.wait_for_url("**done=link_sent**")  # the booking's #notice until then
    assert "partage d'écran" in page.inner_text("#notice")
    _shot(page, "fr-phone-link-sent")
    page.set_viewport_size({"width": 1440, "height": 900})
    _shot(page, "fr-desktop-link-sent")

    # English, phone: a candidate whose camera cannot take the face photo; the page opens the
    # waiver at the photo they are stuck on, and the history shows who waived it and why.
    stuck = Journey(server.platform, email="noor.haddad@example.org")
    stuck.enrol()
    stuck.create_session()
    stuck.enter()
    stuck.pass_attestations()
    stuck.pass_equipment()
    page.goto(f"{server.url}/lang/en")
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{server.url}/hotline/candidates/{stuck.candidate_id}")
    assert "stuck at the face photo?" in page.inner_text("main")
    _shot(page, "en-phone-waive-open")
    page.fill("textarea[name=reason]:visible", "the webcam shows only a black picture")
    page.locator("button", has_text="Waive the photo").click()
    assert "Photo waived" in page.inner_text("#notice")
    assert "by Sacha Hotline" in page.inner_text(".hotline-history")
    assert _overflow(page) <= 0
    _shot(page, "en-phone-photo-waived")
    assert not problems, problems
