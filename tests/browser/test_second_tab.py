"""A tester's tour, items 19 and 23, in Chromium at a 360 px phone's width.

- 19: two tabs of one browser. The candidate's appeal sent from the second tab after the first
  one's says it was not sent and keeps its text; a staff form posted after logging out in the
  other tab leads to the log-in page saying the form was not recorded, then back to its page.
- 23: a table wider than its box shows a shadow at the edge where more of it is hidden.
Screenshots in French and English go to /tmp/shots-tabs/ to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Platform
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.test_appeals import PASSWORD, examiner, invalidated_and_sent
from tests.browser.conftest import _free_port, serve
from ui.journey import Journey, make_platform

SHOTS = Path("/tmp/shots-tabs")
PHONE = {"width": 360, "height": 800}
FIRST = "Je portais des bouchons d'oreille prescrits par mon médecin."
SECOND = "Mon téléphone servait à appeler la hotline : l'écran était figé."


@pytest.fixture
def served() -> Iterator[tuple[str, Platform, Journey]]:
    platform = make_platform()
    journey = Journey(platform)
    server = serve(platform, _free_port())
    url = next(server).url
    yield url, platform, journey
    server.close()
    platform.close()


def log_in(page: Any, url: str, path: str, email: str) -> None:
    page.goto(f"{url}{path}")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_appeal_from_a_second_tab_is_said_not_sent_its_text_kept(
    served: tuple[str, Platform, Journey], browser: Any, language: str
) -> None:
    url, platform, journey = served
    invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    one = context.new_page()
    log_in(one, url, "/login", journey.email)
    one.goto(f"{url}/lang/{language}")
    result = f"{url}/results/{journey.session_id}"
    two = context.new_page()
    one.goto(result)
    two.goto(result)
    one.locator("textarea#reason").fill(FIRST)
    one.locator("#contest button[type=submit]").click()
    one.wait_for_selector("#appeal")
    two.locator("textarea#reason").fill(SECOND)
    two.locator("#contest button[type=submit]").click()
    two.wait_for_selector("#appeal-not-sent")
    SHOTS.mkdir(parents=True, exist_ok=True)
    two.screenshot(path=str(SHOTS / f"appeal-second-tab-{language}.png"), full_page=True)
    said = two.locator("#appeal-not-sent")
    assert said.is_visible()
    title = {"fr": "Votre contestation avait déjà été envoyée", "en": "Your appeal had already"}
    assert title[language] in said.inner_text()
    assert two.locator("#unsent-reason").input_value() == SECOND
    assert two.locator("#appeal-reason").inner_text() == FIRST
    assert two.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_staff_form_after_logging_out_in_the_other_tab_is_said_not_recorded(
    served: tuple[str, Platform, Journey], browser: Any, language: str
) -> None:
    url, platform, journey = served
    journey.sent_for_review()
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    one = context.new_page()
    one.goto(f"{url}/lang/{language}")
    log_in(one, url, "/staff/login", "eve@example.org")
    review = f"{url}/examiner/reviews/{journey.review_id}"
    two = context.new_page()
    two.goto(review)
    one.goto(f"{url}/examiner/reviews")
    one.evaluate("document.querySelector(\"form[action='/logout']\").requestSubmit()")
    one.wait_for_url("**/staff/login")
    two.locator("form[action*='assign'] button").click()
    two.wait_for_selector("#session-ended")
    SHOTS.mkdir(parents=True, exist_ok=True)
    two.screenshot(path=str(SHOTS / f"staff-after-logout-{language}.png"), full_page=True)
    sentence = {"fr": "n'a pas été enregistré", "en": "was not recorded"}
    assert sentence[language] in two.locator("#session-ended").inner_text()
    two.locator("input[name=email]").fill("eve@example.org")
    two.locator("input[name=password]").fill(PASSWORD)
    two.locator("form button[type=submit]").last.click()
    two.wait_for_url(review)
    context.close()


def test_a_table_wider_than_a_phone_shows_a_shadow_where_more_is_hidden(
    served: tuple[str, Platform, Journey], browser: Any
) -> None:
    url, platform, journey = served
    invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    accounts.register_staff(
        platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
    )
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    log_in(page, url, "/staff/login", "ada@example.org")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for language in ("fr", "en"):
        page.goto(f"{url}/lang/{language}")
        # The decided reviews' list reads as cards on a phone (no table to scroll): the
        # replay's table of facts, with its log references, is one still wider than a phone.
        page.goto(f"{url}/auditor")
        page.goto(url + page.locator('a[href^="/auditor/reviews/"]').first.get_attribute("href"))
        box = page.locator(".table-scroll").first
        assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the table fits: no cue needed"
        page.screenshot(path=str(SHOTS / f"auditor-360-{language}.png"))
        style = box.evaluate(
            """b => { const s = getComputedStyle(b);
                      const cell = getComputedStyle(b.querySelector("td"));
                      return [s.backgroundImage, s.backgroundAttachment, cell.backgroundColor]; }"""
        )
        images, attachments, cell = style
        # Two shadows fixed at the box's edges, two covers moving with the table.
        assert images.count("linear-gradient") == 4
        assert attachments.split(", ") == ["local", "local", "scroll", "scroll", "scroll"]
        assert cell == "rgba(0, 0, 0, 0)", "an opaque cell hides the shadow"
        box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        page.screenshot(path=str(SHOTS / f"auditor-360-{language}-scrolled.png"))
    context.close()


def test_a_check_step_sent_after_logging_out_in_the_other_tab_leads_to_the_log_in_saying_so(
    served: tuple[str, Platform, Journey], browser: Any
) -> None:
    """The checks post with fetch (journey.js): a log-in page answered there is opened, with
    its « not recorded » sentence and the way back (it matched `/login` alone: a log-in page
    naming its way back was swapped in as a step)."""
    url, _platform, journey = served
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.set_password(PASSWORD)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    context.grant_permissions(["camera", "microphone"])
    one = context.new_page()
    log_in(one, url, "/login", journey.email)
    if "/terms" in one.url:
        one.locator("main form button[type=submit]").last.click()
        one.wait_for_load_state()
    step = f"{url}/exams/{journey.session_id}"
    two = context.new_page()
    two.goto(step)
    button = two.locator("#journey form button[type=submit]").first
    button.wait_for()
    # Her session entered, « Se déconnecter » asks first, here too (leaving.py): confirmed.
    one.evaluate("document.querySelector(\"form[action='/logout']\").requestSubmit()")
    one.get_by_role("button", name="Me déconnecter quand même").click()
    one.wait_for_url("**/login")
    for rule in two.locator("#journey input[name=ready]").all():
        rule.check()
    button.click()
    two.wait_for_selector("#session-ended")
    assert f"next=/exams/{journey.session_id}" in two.url
    # The log-in page itself, not swapped into the step (a page inside the page, its header
    # and « Se déconnecter » above it).
    assert two.locator("#journey").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    two.screenshot(path=str(SHOTS / "check-step-after-logout-fr.png"), full_page=True)
    context.close()
