"""Issue 13, item 5: the examiner's pages as an examiner with 30 reviews due meets them — the
list, a review with its player beside the moments, the staff log-in — in French and English,
at 1440 px and at a 360 px phone's width, with no horizontal scrolling; evidence is cited by
ticking moments per reason. Screenshots go to /tmp/shots-examiner/ to be looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.bootstrap import Platform
from app.use_cases import accounts, appeals
from domain.review import Review
from domain.staff import Role
from tests.browser.conftest import headings_out_of_order, serious_violations, wait_until
from tests.browser.test_playback import reviewed  # noqa: F401 (the fixture, shared)
from ui.journey import PARIS, Journey

SHOTS = Path("/tmp/shots-examiner")
WIDTHS = {"desktop": 1440, "phone": 360}
PASS = "staff-pass-1"


def overflow(page: Any) -> list[str]:
    """The elements reaching past the window's right edge (none: no horizontal scrolling)."""
    return list(
        page.evaluate(
            """() => {
                const wide = document.documentElement.scrollWidth > window.innerWidth
                    ? ["the page, " + document.documentElement.scrollWidth + " px"] : [];
                return wide.concat(Array.from(document.querySelectorAll("body *"))
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                            && !(e.parentElement && e.parentElement.closest(".table-scroll")))
                    .slice(0, 5).map(e => e.tagName + "." + e.className + " " + e.id));
            }"""
        )
    )


def test_an_examiner_with_30_reviews_reads_and_decides_them_in_both_languages_and_widths(
    reviewed: tuple[str, Platform, Journey],  # noqa: F811
    page: Any,
) -> None:
    url, platform, journey = reviewed
    for n in range(29):
        other = Journey(platform, email=f"candidate{n}@example.org")
        if other.clock.now().astimezone(PARIS).hour >= 18:  # R16: a new morning
            other.clock.advance(hours=15)
        other.sent_with_a_phone_flag()
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="eve-pass-1"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/staff/login")
    page.screenshot(path=str(SHOTS / "staff-login-fr-desktop.png"), full_page=True)
    page.get_by_label("Adresse e-mail").fill("eve@example.org")
    page.get_by_label("Mot de passe").fill("eve-pass-1")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/examiner/reviews")
    assert page.locator("table.reviews tbody tr").count() == 30
    review = f"{url}/examiner/reviews/{journey.review_id}"
    page.goto(review)
    page.get_by_role("button", name="Prendre ce contrôle").click()

    for language in ("fr", "en"):
        if language == "en":
            page.goto(f"{url}/lang/en")
        for device, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            for name, address in (
                ("reviews", f"{url}/examiner/reviews"),
                ("review", review),
                ("appeals", f"{url}/examiner/appeals"),
            ):
                page.goto(address)
                page.wait_for_load_state("networkidle")
                shot = SHOTS / f"{name}-{language}-{device}.png"
                page.screenshot(path=str(shot), full_page=True)
                if device == "phone":  # what the first screen shows, at a readable size
                    page.screenshot(path=str(shot.with_suffix(".fold.png")))
                assert overflow(page) == [], f"{shot.name} scrolls sideways"
                assert headings_out_of_order(page) == [], shot.name
    assert serious_violations(page) == []

    # A refused decision (invalidated with no reason, R20) says why where the examiner is:
    # the page came back at its top, the sentence 5,000 px below, out of sight.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(review)
    page.get_by_label("Invalidated").check()
    page.get_by_role("button", name="Record the decision").click()
    error = page.locator("#decision-error")
    error.wait_for()
    # Within a pixel: the browser scrolls the anchor to a whole pixel, the layout above it
    # may put it at a fraction (its top read -0.03 px once the moments said their spans as
    # « 16:50 – 17:06 de l'enregistrement »).
    in_sight = (
        "(() => { const r = document.getElementById('decision-error').getBoundingClientRect();"
        " return r.top >= -1 && r.bottom <= innerHeight + 1; })()"
    )
    wait_until(page, in_sight, timeout=3_000)
    page.screenshot(path=str(SHOTS / "review-refused-en-desktop.png"))

    # Citing by ticking a moment for a reason ticks the reason and counts the moment.
    page.goto(review)
    flag = page.locator("#recording-timeline li.flag").first
    flag.locator("details.cite summary").click()
    flag.get_by_label("Use of information sources").check()
    assert page.locator('input[name="reason"][value="information_sources"]').is_checked()
    assert "1" in page.locator('.cited-count[data-reason="information_sources"]').inner_text()
    page.get_by_label("Invalidated").check()
    # FLAG-HINT: a flag alone against a « validated » recommendation takes written reasons.
    page.locator("#justification-information_sources").fill(
        "she reads another screen on her left for two long minutes of the exam"
    )
    page.screenshot(path=str(SHOTS / "review-citing-en-desktop.png"), full_page=True)
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector("#confirmation")
    # Taken to the decision: its confirmation and « Release the result » in view (they were
    # 5,000 px below the page's top), and no stale #decision-error in the address.
    assert page.url.endswith("?done=decided#decision-title")
    release = page.get_by_role("button", name="Release the result")
    assert release.evaluate(
        "b => { const r = b.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    assert page.locator("#confirmation").evaluate("c => c.getBoundingClientRect().top >= 0")
    decided = platform.ctx.store.get(journey.review_id, Review)
    (reason,) = decided.reasons
    assert reason.reason.value == "information_sources"
    assert reason.evidence_ids
    assert all(e.startswith(str(journey.session_id)) for e in reason.evidence_ids)

    # The result is released, the candidate contests it: a second examiner, the auditor
    # and the support lead read their pages in both languages and widths.
    page.get_by_role("button", name="Release the result").click()
    page.wait_for_url("**done=released**")  # the decided page has its #confirmation too
    page.wait_for_selector("#confirmation")
    page.screenshot(path=str(SHOTS / "review-released-en-desktop.png"), full_page=True)
    assert journey.candidate_id is not None
    appeals.lodge_appeal(
        platform.ctx,
        journey.review_id,
        candidate_id=journey.candidate_id,
        reason="je consultais la documentation autorisée par le centre",
    )
    for email, role in (
        ("max@example.org", Role.EXAMINER),
        ("ada@example.org", Role.AUDITOR),
        ("sam@example.org", Role.SUPPORT),
    ):
        accounts.register_staff(platform.ctx, email=email, name=email, role=role, password=PASS)
    appeal = f"{url}/examiner/appeals/{journey.review_id}"
    pages = {
        "max@example.org": [("appeal", appeal)],
        "ada@example.org": [
            ("auditor", f"{url}/auditor"),
            ("replay", f"{url}/auditor/reviews/{journey.review_id}"),
        ],
        "sam@example.org": [("assignments", f"{url}/operator/reviews")],
    }
    for email, shown in pages.items():
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{url}/staff/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASS)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state("networkidle")
        if email == "max@example.org":
            page.goto(appeal)
            page.get_by_role("button", name="Prendre cette contestation").click()
        visit_in_both_languages_and_widths(page, url, shown)


def visit_in_both_languages_and_widths(page: Any, url: str, shown: list[tuple[str, str]]) -> None:
    """Each page in French then English, at 1440 and 360 px: screenshot, no sideways
    scrolling, no serious accessibility violation."""
    for language in ("fr", "en"):
        page.goto(f"{url}/lang/{language}")
        for device, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            for name, address in shown:
                page.goto(address)
                page.wait_for_load_state("networkidle")
                shot = SHOTS / f"{name}-{language}-{device}.png"
                page.screenshot(path=str(shot), full_page=True)
                if device == "phone":  # what the first screen shows, at a readable size
                    page.screenshot(path=str(shot.with_suffix(".fold.png")))
                assert overflow(page) == [], f"{shot.name} scrolls sideways"
                assert serious_violations(page) == [], shot.name
