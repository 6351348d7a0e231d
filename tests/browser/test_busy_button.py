"""A click in the journey shows it was taken (issue 12's in-place steps): on a slow server
« Continuer » and the exam's tile took up to 10 s with nothing to say the click was taken,
which invites a second one (a reviewer's first run). The pressed button spins (Pico's
aria-busy) until the server answers, then the next step comes as before."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_checks_screens import logged_in


def test_the_pressed_button_spins_until_the_server_answers(page: Any, server: Server) -> None:
    journey = logged_in(page, server, "fr")
    page.goto(f"{server.url}/exams/{journey.session_id}")
    held: list[Any] = []

    def hold(route: Any) -> None:  # the answer held back
        held.append(route)

    page.route(f"**/exams/{journey.session_id}/**", hold)
    step = page.locator("#journey form[action*='/do/']").first
    assert (step.get_attribute("action") or "").endswith("/do/instructions")
    for box in page.locator("#journey input[name=ready]").all():  # the instructions' rules
        box.check()
    button = page.locator("#journey form button[type=submit]").first
    label = button.inner_text()
    button.click()
    spinning = page.locator("#journey [aria-busy=true]")
    spinning.wait_for()
    assert spinning.inner_text() == label
    for route in held:
        route.continue_()
    page.unroute(f"**/exams/{journey.session_id}/**", hold)
    spinning.wait_for(state="detached")  # the next step, swapped in place
    assert not (step.get_attribute("action") or "").endswith("/do/instructions")
