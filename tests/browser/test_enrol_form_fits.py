"""The centre's enrolment form in Chromium: the « Certification » list shows the whole title
of the certification chosen. A user's tour read « Certification Bureautique Acc… », the list
a quarter of the form wide; it has a row of its own now. On a 360 px phone the list, inside
the card inside the page's margin, cut the title by 16 px: the card takes the page's width
there."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, Server
from tests.browser.test_centre_pages import PASSWORD, a_centre_operator

SHOTS = ARTIFACTS / "centre"
# The chosen option's text, measured in the select's own font, against the room the select
# gives it (its width less its padding, which holds the arrow).
ROOM = """() => {
  const select = document.getElementById('certification_code');
  const style = getComputedStyle(select);
  const probe = document.createElement('span');
  probe.style.font = style.font;
  probe.style.whiteSpace = 'pre';
  probe.style.position = 'absolute';
  probe.textContent = select.options[select.selectedIndex].text;
  document.body.appendChild(probe);
  const text = probe.getBoundingClientRect().width;
  probe.remove();
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text, room, title: select.options[select.selectedIndex].text};
}"""


@pytest.mark.parametrize("width", [1440, 1280, 1024, 768, 360])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_certification_list_shows_the_whole_title(
    server: Server, page: Any, language: str, width: int
) -> None:
    a_centre_operator(server)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", "centre@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{server.url}/operator")
    measured = page.evaluate(ROOM)
    assert measured["title"] == "Certification Bureautique Access"
    assert measured["text"] <= measured["room"], measured
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#enrol").screenshot(path=str(SHOTS / f"enrol-form-{language}-{width}.png"))
