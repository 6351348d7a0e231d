"""The centre's enrolment form in Chromium: the « Certification » list shows the whole title
of the certification chosen. A user's tour read « Certification Bureautique Acc… », the list
a quarter of the form wide; it has a row of its own now. On a 360 px phone the list, inside
the card inside the page's margin, cut the title by 16 px: the card takes the page's width
there."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from adapters.ids import SeededIds
from tests.browser.conftest import ARTIFACTS, Server, _free_port, platform_on_disk, serve
from tests.browser.test_centre_pages import a_centre_operator, centre_logged_in

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
    centre_logged_in(page, server, language)
    measured = page.evaluate(ROOM)
    assert measured["title"] == "Certification Bureautique Access"
    assert measured["text"] <= measured["room"], measured
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#enrol").screenshot(path=str(SHOTS / f"enrol-form-{language}-{width}.png"))


# --- the long titles ------------------------------------------------------------------------
# « Certification Bureautique Access — écran enregistré aussi », or one that says it is taken
# « — dans Safe Exam Browser »: no 360 px list shows those whole. The page writes the one
# chosen in full under the list, as it comes and as the list changes.

# The chosen option's words, whether the list shows them whole, and what the page writes of
# them under it: whole, inside the window, wrapped rather than cut.
READABLE = """() => {
  const select = document.getElementById('certification_code');
  const option = select.options[select.selectedIndex].text;
  const style = getComputedStyle(select);
  const probe = document.createElement('span');
  probe.style.font = style.font;
  probe.style.whiteSpace = 'pre';
  probe.style.position = 'absolute';
  probe.textContent = option;
  document.body.appendChild(probe);
  const text = probe.getBoundingClientRect().width;
  probe.remove();
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const line = document.getElementById('certification-chosen');
  const words = document.getElementById('certification-chosen-words');
  const box = line && line.getBoundingClientRect();
  return {
    option,
    fits: text <= room,
    written: words ? words.textContent : null,
    inside: !!box && box.left >= 0 && box.right <= innerWidth
      && line.scrollWidth <= line.clientWidth,
  };
}"""

ADVANCED = "Certification Bureautique Access — niveau avancé"
LONG_TITLES = {
    "fr": {
        "ENI-ACCESS": "Certification Bureautique Access — écran enregistré aussi",
        "ENI-ACCESS-SEB": f"{ADVANCED} — dans Safe Exam Browser",
    },
    "en": {
        "ENI-ACCESS": "Certification Bureautique Access — screen recorded too",
        "ENI-ACCESS-SEB": f"{ADVANCED} — in Safe Exam Browser",
    },
}
CHOSEN = {"fr": "Choisie :", "en": "Chosen:"}


def long_titles(folder: Path) -> Path:
    """Access recording the screen too, and an advanced Access taken in Safe Exam Browser."""
    data = resources.files("app") / "catalogue_data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eni-access-practice.toml").write_bytes(
        (data / "eni-access-practice.toml").read_bytes()
    )
    access = (data / "eni-access.toml").read_text(encoding="utf-8")
    (folder / "eni-access.toml").write_text(
        access.replace("[certification]\n", "[certification]\nscreen_capture = true\n", 1),
        encoding="utf-8",
    )
    seb = access.replace('code = "ENI-ACCESS"', 'code = "ENI-ACCESS-SEB"', 1).replace(
        'title = "Certification Bureautique Access"',
        f'title = "{ADVANCED}"',
        1,
    )
    (folder / "eni-access-seb.toml").write_text(
        seb + f'\n[certification.safe_exam_browser]\nbrowser_exam_keys = ["{"a" * 64}"]\n',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def long_server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    platform = platform_on_disk(
        tmp_path,
        port,
        catalogue_dir=str(long_titles(tmp_path / "banks")),
        ids=SeededIds(99),
    )
    yield from serve(platform, port)
    platform.close()


def log_in(page: Any, server: Server, language: str) -> None:
    a_centre_operator(server)
    centre_logged_in(page, server, language)


@pytest.mark.parametrize("width", [1440, 768, 360, 320])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_long_certification_title_chosen_reads_whole(
    long_server: Server, page: Any, language: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, long_server, language)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for code, words in LONG_TITLES[language].items():
        page.select_option("#certification_code", code)
        seen = page.evaluate(READABLE)
        assert seen["option"] == words
        # The list shows them whole, or the line under it does (at 360 px the list cannot).
        assert seen["fits"] or (seen["written"] == words and seen["inside"]), seen
        assert seen["written"] == words, seen  # the line follows the list
        line = page.locator("#certification-chosen").inner_text()
        assert line.startswith(CHOSEN[language]), line
        page.locator("#enrol").screenshot(
            path=str(SHOTS / f"enrol-long-{code}-{language}-{width}.png")
        )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_without_a_script_the_page_writes_the_certification_it_selects(
    long_server: Server, browser: Any, language: str
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 900})
    page = context.new_page()
    log_in(page, long_server, language)
    first, second = page.locator("#certification_code option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    titles = LONG_TITLES[language]
    assert page.evaluate(READABLE)["written"] == titles[first]  # the list's first, selected
    # A refused form comes back as typed: the second certification, selected and written.
    page.fill("#email", "not-an-address")
    page.fill("#surname", "Solo")
    page.fill("#first_name", "Han")
    page.select_option("#certification_code", second)
    page.locator("#enrol button[type=submit]").click()
    page.wait_for_url(f"{long_server.url}/operator**")
    page.locator("#notice").wait_for()  # the address above was the form's already
    assert page.locator("#notice").is_visible()
    seen = page.evaluate(READABLE)
    assert seen["option"] == titles[second]
    assert seen["written"] == titles[second] and seen["inside"], seen
    context.close()


# --- « Répartition des contrôles » ----------------------------------------------------------
# Its tables scrolled sideways in their box on a phone (cards now); the caption above the
# first, as wide as its table, ran off the window on one line (« En retard d'abord, puis par
# échéance (l'éché »).


@pytest.mark.parametrize("width", [360, 320])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_review_assignments_caption_wraps_in_the_window(
    server: Server, page: Any, language: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, server, language)
    page.goto(f"{server.url}/operator/reviews")
    box = page.locator(".table-scroll").first
    inside = """box => {
      const frame = box.getBoundingClientRect();
      const caption = box.querySelector('caption').getBoundingClientRect();
      return {wide: box.scrollWidth > box.clientWidth, frame: [frame.left, frame.right],
              caption: [caption.left, caption.right],
              inside: caption.left >= frame.left - 1 && caption.right <= frame.right + 1};
    }"""
    seen = box.evaluate(inside)
    # On a phone its rows are cards now (a reviewer's tour at 390 px): nothing scrolls sideways.
    assert not seen["wide"], seen
    assert seen["inside"], seen
    box.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    seen = box.evaluate(inside)
    assert seen["inside"], seen  # still in view with the table scrolled to its end
    page.screenshot(path=str(SHOTS / f"assignments-{language}-{width}.png"), full_page=True)
