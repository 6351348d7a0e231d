"""The review assignments (centre and support) and the auditor's decided reviews on a phone
(a reviewer's tour at 390 px): their rows read as cards, as the centre's candidates do, each
value beside its column's name in the page's language, every button and link on the screen
without sideways scrolling; at a desktop's width they stay tables. And a member of staff's
log-ins refused by the per-address limit: the staff log-in page again, not the candidates'
error page. Screenshots go to /tmp/shots-phone/ to be looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid5

from app.outbox import MAIL_NAMESPACE
from app.use_cases import accounts, appeals, reviewing
from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.browser.conftest import Server, serious_violations
from tests.browser.test_tour import overflow
from ui.journey import Journey

SHOTS = Path("/tmp/shots-phone")
PASS = "staff-pass-12"
LOG_IN = {"fr": ("Adresse e-mail", "Mot de passe", "Se connecter"),
          "en": ("E-mail address", "Password", "Log in")}  # fmt: skip

# What a table of cards leaves out of the screen, and a label that is not its column's head.
CARDS = """() => {
    const edge = document.documentElement.clientWidth, found = [];
    for (const table of document.querySelectorAll("main table")) {
        const box = table.closest(".table-scroll");
        if (box && box.scrollWidth > box.clientWidth + 1)
            found.push((table.id || "a table") + " scrolls sideways: " + box.scrollWidth + " px");
        const heads = [...table.querySelectorAll("thead th")].map(h => h.textContent.trim());
        for (const row of table.querySelectorAll("tbody tr")) {
            const cells = [...row.children];
            if (cells.length !== heads.length) continue;  // « No review waiting. »
            cells.forEach((cell, n) => {
                if (cell.dataset.label !== heads[n])
                    found.push((table.id || "a table") + ": « " + cell.dataset.label
                        + " » under « " + heads[n] + " »");
            });
            for (const e of row.querySelectorAll("a, button, input")) {
                const r = e.getBoundingClientRect();
                if (r.left < -1 || r.right > edge + 1)
                    found.push((table.id || "a table") + ": « " + (e.textContent.trim()
                        || e.placeholder) + " » at " + Math.round(r.left) + "–"
                        + Math.round(r.right) + " px");
            }
        }
    }
    return found;
}"""
ROWS_ARE_ROWS = """() => [...document.querySelectorAll("main table tbody tr, main table thead")]
    .every(e => ["table-row", "table-header-group"].includes(getComputedStyle(e).display))"""


def _log_in(page: Any, url: str, email: str, language: str = "fr") -> None:
    field, password, button = LOG_IN[language]
    page.context.clear_cookies()
    page.goto(f"{url}/lang/{language}")
    page.goto(f"{url}/staff/login")
    page.get_by_label(field).fill(email)
    page.get_by_label(password).fill(PASS)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state("networkidle")


def test_assignments_and_decided_reviews_read_as_cards_on_a_phone(
    server: Server, page: Any
) -> None:
    platform, url = server.platform, server.url
    ctx = platform.ctx
    staff = {
        role: accounts.register_staff(
            ctx, email=f"{role.value}@example.org", name=role.value, role=role, password=PASS
        )
        for role in (Role.EXAMINER, Role.AUDITOR, Role.SUPPORT, Role.CENTRE)
    }
    centre = uuid5(MAIL_NAMESPACE, f"centre:{staff[Role.CENTRE]}")
    waiting = Journey(platform, email="lea.petit@example.org", centre_id=centre)
    waiting.sent_for_review()
    contested = Journey(platform, email="anne-sophie.bertrand@example.org", centre_id=centre)
    contested.sent_for_review()
    assert contested.review_id is not None and contested.candidate_id is not None
    launched = next(
        e.id
        for e in ctx.store.get(contested.review_id, Review).evidence
        if e.kind == "ExamLaunched"
    )
    contested.decided(
        staff[Role.EXAMINER],
        Verdict.INVALIDATED,
        (CitedReason(ReasonCode.HEADPHONES, (launched,)),),
    )
    reviewing.release_results(ctx, contested.review_id, released_by=staff[Role.EXAMINER])
    appeals.lodge_appeal(
        ctx,
        contested.review_id,
        candidate_id=contested.candidate_id,
        reason="je consultais la documentation autorisée par le centre",
    )
    validated = Journey(platform, email="jo@example.org", centre_id=centre)
    validated.sent_for_review()
    validated.decided(staff[Role.EXAMINER], Verdict.VALIDATED)
    platform.settle()
    server.clock.advance(days=20)  # the review waiting is overdue
    SHOTS.mkdir(parents=True, exist_ok=True)
    shown = [
        (Role.SUPPORT, "/operator/reviews", "assignments-support"),
        (Role.CENTRE, "/operator/reviews", "assignments-centre"),
        (Role.AUDITOR, "/auditor", "auditor"),
    ]
    for role, address, name in shown:
        _log_in(page, url, f"{role.value}@example.org")
        for language in ("fr", "en"):
            page.goto(f"{url}/lang/{language}")
            for width in (1280, 390, 360):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{url}{address}")
                page.wait_for_load_state("networkidle")
                shot = f"{name}-{language}-{width}"
                page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
                assert page.locator("main table tbody tr td[data-label]").count() > 0, shot
                if width == 1280:
                    assert page.evaluate(ROWS_ARE_ROWS), f"{shot}: not a table on a desktop"
                    continue
                assert page.evaluate(CARDS) == [], shot
                assert overflow(page, width) == [], shot
                assert serious_violations(page) == [], shot


def test_a_staff_log_in_refused_by_the_address_limit_stays_on_the_staff_log_in_page(
    server: Server, page: Any
) -> None:
    accounts.register_staff(
        server.platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASS
    )
    page.set_viewport_size({"width": 390, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    for language, words in (
        ("fr", "Trop de tentatives en peu de temps"),
        ("en", "Too many attempts in a short time"),
    ):
        field, password, button = LOG_IN[language]
        page.goto(f"{server.url}/lang/{language}")
        page.goto(f"{server.url}/staff/login")
        answer = None
        for _ in range(11):  # ten a minute from one address (the first language's)
            page.get_by_label(password).fill("wrong")
            page.get_by_label(field).fill("eve@example.org")
            with page.expect_navigation() as sent:
                page.get_by_role("button", name=button).click()
            answer = sent.value
            if answer.status == 429:
                break
        assert answer is not None and answer.status == 429, language
        assert answer.headers["retry-after"].isdigit()
        page.screenshot(path=str(SHOTS / f"staff-login-429-{language}-390.png"), full_page=True)
        assert page.url == f"{server.url}/staff/login"
        assert words in page.locator("#login-error").inner_text()
        assert page.get_by_label(field).input_value() == "eve@example.org"
        assert page.get_by_role("button", name=button).is_visible()
        assert page.locator(".site-footer").count() == 0  # no candidates' hotline
        assert overflow(page, 390) == []
        assert serious_violations(page) == []
