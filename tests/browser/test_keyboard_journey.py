"""Issue 13, point 9: the candidate's first steps with the keyboard alone. She logs in, accepts
the terms, enters her session and passes the first checks (instructions, the two
attestations, secure mode, the sound, the microphone) with Tab, Shift+Tab, Enter and Space
only, never the mouse; at every stop of the focus its ring can be seen."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Server, focus_problem
from ui.journey import Journey

PASSWORD = "au-clavier-seulement-1"
MOST_TABS = 60  # more stops than that before a control is a page no one can use by keyboard


class Keyboard:
    """The candidate's hands: Tab to a control, then Enter or Space; every focus stop is
    checked for a visible focus ring."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.unseen: list[str] = []

    def tab_to(self, control: Any, what: str) -> None:
        control.wait_for()
        for _ in range(MOST_TABS):
            self.page.keyboard.press("Tab")
            problem = focus_problem(self.page)
            # Past the page's last control Tab leaves for the browser's own bar (nothing in
            # the page has the focus) before it comes back to the top: not the page's fault.
            if problem and problem != "nothing has the focus":
                self.unseen.append(f"{self.page.url}: {problem}")
            if control.evaluate("e => e === document.activeElement"):
                return
        raise AssertionError(f"{what}: not reached with {MOST_TABS} presses of Tab")

    def press(self, control: Any, what: str, key: str = "Enter") -> None:
        self.tab_to(control, what)
        self.page.keyboard.press(key)

    def type_into(self, control: Any, what: str, text: str) -> None:
        self.tab_to(control, what)
        self.page.keyboard.type(text)


def test_log_in_accept_the_terms_and_pass_the_first_checks_with_the_keyboard_alone(
    page: Any, server: Server
) -> None:
    candidate = Journey(server.platform, email="kim.clavier@example.org")
    candidate.enrol()
    candidate.create_session()
    candidate.set_password(PASSWORD)
    server.platform.settle()
    keys = Keyboard(page)
    button = page.get_by_role

    page.goto(f"{server.url}/login")
    keys.type_into(page.get_by_label("Adresse e-mail"), "e-mail", candidate.email)
    keys.type_into(page.get_by_label("Mot de passe"), "password", PASSWORD)
    page.keyboard.press("Enter")  # sends the form from its field, as people do
    page.wait_for_url(re.compile(r"/(terms|exams)$"))

    keys.press(button("button", name="Accepter les CGU"), "accept the terms")
    keys.press(button("button", name="Examen"), "enter the session")
    # R7: the rules to follow and the instructions (each box ticked with Space), the
    # designer's rules, secure mode, the CGU.
    rules = page.locator(".checks-rules input[type=checkbox]")
    rules.first.wait_for()
    for number, rule in enumerate(rules.all(), start=1):
        keys.press(rule, f"rule to follow {number}", key="Space")
        assert rule.is_checked()
    keys.press(button("button", name="Suivant"), "instructions read")
    keys.press(
        page.get_by_label(re.compile("j'atteste avoir lu les règles")), "rules box", key="Space"
    )
    assert page.get_by_label(re.compile("j'atteste avoir lu les règles")).is_checked()
    keys.press(button("button", name="Suivant"), "rules attested")
    keys.press(button("button", name="Continuer"), "secure mode")
    keys.press(page.get_by_label(re.compile("conditions générales")), "CGU box", key="Space")
    keys.press(button("button", name="Suivant"), "CGU attested")
    # R8: the sound, played then confirmed; the microphone, recorded, stopped, played back.
    keys.press(button("button", name="Écouter le son"), "play the sound")
    # The button waits for the sound to have played, as the candidate does (on a busy
    # machine the sound may take a moment to start).
    heard = button("button", name="J'ai entendu le son")
    heard.and_(page.locator(":enabled")).wait_for(timeout=30_000)
    keys.press(heard, "sound heard")
    keys.press(button("button", name="Lancer l'enregistrement"), "record the microphone")
    page.locator("#mic-status").filter(has_text="Enregistrement…").wait_for()
    keys.press(button("button", name="Arrêter l'enregistrement"), "stop the recording")
    page.locator("#mic-playback").wait_for()
    keys.press(button("button", name="Suivant"), "microphone done")
    # The camera step: the first checks were passed without a click.
    button("button", name="Je me vois : la caméra fonctionne").wait_for()
    assert keys.unseen == [], "focus not visible:\n" + "\n".join(keys.unseen)
