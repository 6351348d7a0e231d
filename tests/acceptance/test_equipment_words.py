"""R8: the equipment test page (« Test du matériel ») says what each card tests and where its
link goes back to. A user's tour on a phone, in English: « Test my camera » was both the card's
heading and its button, and « Back to the exam » showed under an exam already sent."""

from __future__ import annotations

import html
import re

import pytest

from adapters.bootstrap import Platform
from tests.acceptance.web import Browsers, candidate

WORDS = {
    "fr": {
        "headings": ["Test du matériel", "Caméra", "Micro"],
        "camera": "Tester ma caméra",
        "open": "Retour à l'examen",
        "over": "Retour à mes examens",
    },
    "en": {
        "headings": ["Equipment test", "Camera", "Microphone"],
        "camera": "Test my camera",
        "open": "Back to the exam",
        "over": "Back to my exams",
    },
}


def headings(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h[12][^>]*>([^<]+)</h[12]>", page)]


def way_back(page: str) -> str:
    found = re.search(r'<p><a href="/exams">([^<]+)</a></p>', page)
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_card_is_named_by_what_it_tests_and_the_link_goes_back_to_the_exam_r8(
    platform: Platform, browser: Browsers, language: str
) -> None:
    journey = candidate(platform, "materiel@example.org")
    words = WORDS[language]
    client = browser.open(journey, language)
    page = client.get("/equipment").text
    assert headings(page) == words["headings"]
    assert f'id="equipment-camera">{words["camera"]}</button>' in html.unescape(page)
    assert way_back(page) == words["open"]  # the session is still to take
    journey.enter()  # and under way
    assert way_back(client.get("/equipment").text) == words["open"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_after_the_exam_the_link_goes_back_to_my_exams_r8(
    platform: Platform, browser: Browsers, language: str
) -> None:
    journey = candidate(platform, "materiel@example.org")
    journey.sent_for_review()
    client = browser.open(journey, language)
    assert way_back(client.get("/equipment").text) == WORDS[language]["over"]
