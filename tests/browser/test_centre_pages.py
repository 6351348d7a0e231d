"""The training centre's pages in Chromium (issue 13, point 6), in French and English, on a
desktop and a 360 px phone: enrol one candidate, meet a duplicate, preview a CSV file with a
wrong line, preview a good one and import it, read the list and an accommodation page. Every
page is saved as a screenshot, has no horizontal overflow, no console error, no failed asset
and no serious accessibility violation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from app.tenancy import centre_of_operator
from app.use_cases import accounts, enrolment, reviewing
from domain.bounds import LIMITS
from domain.evidence import Verdict
from domain.staff import Role
from tests.browser.conftest import ARTIFACTS, Server, serious_violations
from ui.journey import Journey

SHOTS = Path(os.environ.get("VIGIE_CENTRE_SHOTS", str(ARTIFACTS / "centre")))
WIDTHS = {"desktop": 1440, "phone": 360}
PASSWORD = "centre-pass-1"
GOOD = (
    "email;surname;first_name;certification_code;language\n"
    "ines.lemaire@example.org;Lemaire;Inès;ENI-ACCESS;fr\n"
    "tom.baker@example.org;Baker;Tom;ENI-ACCESS;en\n"
    "camille.martin@example.org;Martin;Camille;ENI-ACCESS;fr\n"
)
BAD = GOOD + "not-an-address;Durand;Alex;ENI-ACCESS;fr\nzoe@example.org;;Zoé;ENI-WORD;de\n"


class Watched:
    """The page, with what went wrong in the browser since it was opened."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def look(self, name: str, *, expected_status: bool = False) -> None:
        """Screenshot at each width; no overflow, no serious violation, nothing failed."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width_name, width in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(SHOTS / f"{name}-{width_name}.png"), full_page=True)
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} overflows by {overflow} px at {width} px"
            assert serious_violations(self.page) == [], name
        self.page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        if not expected_status:
            assert self.problems == [], self.problems
        self.problems.clear()


def choose_file(page: Any, text: str) -> None:
    page.set_input_files(
        "#file", files=[{"name": "candidats.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name=PREVIEW[page.evaluate("document.documentElement.lang")]).click()


PREVIEW = {"fr": "Voir le fichier avant d'importer", "en": "Preview the file"}
WORDS = {
    "fr": {
        "enrol": "Inscrire",
        "import": "Importer",
        "enrolled": "est inscrit(e) à l'examen Certification Bureautique Access",
        "already": "Déjà inscrit(e) : rien n'a changé",
        "errors": "2 lignes en erreur : rien ne peut être importé",
        "preview": "3 lignes seront inscrites",
        "report": "Le fichier a été importé en entier",
        "state": "Invité(e)",
        "granted": "Aménagement enregistré",
        "grant": "Accorder",
    },
    "en": {
        "enrol": "Enrol",
        "import": "Import",
        "enrolled": "is enrolled for Certification Bureautique Access",
        "already": "Already enrolled: nothing changed",
        "errors": "2 lines in error: nothing can be imported",
        "preview": "3 lines will be enrolled",
        "report": "The whole file was imported",
        "state": "Invited",
        "granted": "Accommodation recorded",
        "grant": "Grant",
    },
}


def a_centre_operator(server: Server) -> UUID:
    """centre@example.org, who logs in with PASSWORD."""
    return accounts.register_staff(
        server.platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.CENTRE,
        password=PASSWORD,
    )


def centre_logged_in(page: Any, server: Server, language: str | None = None) -> None:
    """The centre's operator logs in on `page` (its pages in `language`, if given): her list."""
    if language is not None:
        page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", "centre@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{server.url}/operator")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_centre_enrols_previews_imports_and_reads_its_list(
    server: Server, page: Any, language: str
) -> None:
    a_centre_operator(server)
    words = WORDS[language]
    watched = Watched(page)
    centre_logged_in(page, server, language)
    watched.look(f"{language}-01-empty")

    page.fill("#email", "solo@example.org")
    page.fill("#surname", "Solo")
    page.fill("#first_name", "Han")
    page.get_by_role("button", name=words["enrol"], exact=True).click()
    assert words["enrolled"] in page.locator("#notice").inner_text()
    watched.look(f"{language}-02-enrolled")

    page.fill("#email", "solo@example.org")
    page.fill("#surname", "Solo")
    page.fill("#first_name", "Han")
    page.get_by_role("button", name=words["enrol"], exact=True).click()
    page.locator("#notice[data-outcome='already']").wait_for()  # the page before has a #notice
    assert words["already"] in page.locator("#notice").inner_text()
    assert page.input_value("#first_name") == "Han"
    watched.look(f"{language}-03-duplicate")

    choose_file(page, BAD)
    assert words["errors"] in page.locator("#import").inner_text()
    watched.look(f"{language}-04-preview-with-errors", expected_status=True)

    choose_file(page, GOOD)
    page.locator("#import").filter(has_text=words["preview"]).wait_for()  # BAD's has an #import
    assert words["preview"] in page.locator("#import").inner_text()
    watched.look(f"{language}-05-preview")
    page.get_by_role("button", name=words["import"], exact=True).click()
    page.locator("#import[data-stage='report']").wait_for()  # the preview's #import until then
    assert words["report"] in page.locator("#import").inner_text()
    watched.look(f"{language}-06-report")

    page.goto(f"{server.url}/operator#candidates")
    assert page.locator("#roster tbody tr").count() == 4
    assert page.locator("#roster .badge").first.inner_text() == words["state"]
    watched.look(f"{language}-07-list")

    page.locator("#roster tbody tr").first.get_by_role("link").first.click()
    page.select_option("#extra_time_percent", "33")
    page.fill("#arrangements", "Pauses autorisées")
    page.get_by_role("button", name=words["grant"], exact=True).click()
    assert words["granted"] in page.locator("#notice").inner_text()
    assert "Tom BAKER" in page.locator("#accommodation-for").inner_text()  # app.person_names
    watched.look(f"{language}-08-accommodation")


def test_a_surname_too_long_comes_back_in_the_form_as_typed(server: Server, page: Any) -> None:
    """« Nom » had no maxlength: a 300-character surname was refused on a page of its own,
    « « Nom » est trop long », and the form was lost (a reviewer's tour). The field now stops
    at the server's limit; past it (the limit bypassed), the form comes back as typed with the
    sentence, the field marked."""
    a_centre_operator(server)
    watched = Watched(page)
    centre_logged_in(page, server)
    limit = LIMITS["surname"]
    page.fill("#surname", "M" * 300)  # the browser keeps what the field allows
    assert page.input_value("#surname") == "M" * limit
    page.locator("#surname").evaluate("field => field.removeAttribute('maxlength')")
    page.fill("#email", "long.name@example.org")
    page.fill("#surname", "M" * 300)
    page.fill("#first_name", "Camille")
    page.get_by_role("button", name="Inscrire", exact=True).click()
    page.wait_for_url(f"{server.url}/operator")
    said = page.locator("#notice").inner_text()
    assert f"Nom : {limit} caractères au plus" in said.replace("\xa0", " "), said
    assert page.input_value("#surname") == "M" * 300
    assert page.input_value("#email") == "long.name@example.org"
    assert page.input_value("#first_name") == "Camille"
    assert page.locator("#surname").get_attribute("aria-invalid") == "true"
    watched.look("fr-09-surname-too-long")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_long_name_reads_on_one_line_beside_a_released_result(
    server: Server, page: Any, language: str
) -> None:
    """A released result's words (« Session validée · Réussi · 8 / 10 (80 %), seuil de
    réussite 70 % ») widened the state column, and the candidate's name broke over two lines
    in a narrow first column at 1280 px (a user's tour). On a desktop a name reads on one
    line, the other columns wrapping instead; on a phone the list is still cards, within the
    page."""
    platform = server.platform
    operator = a_centre_operator(server)
    centre = centre_of_operator(operator)
    released = Journey(platform, email=f"cm.{language}@example.org", centre_id=centre)
    released.sent_for_review()
    examiner = accounts.register_staff(
        platform.ctx, email=f"eve.{language}@example.org", name="Eve", role=Role.EXAMINER
    )
    assert released.review_id is not None
    released.decided(examiner, Verdict.VALIDATED)
    reviewing.release_results(platform.ctx, released.review_id, released_by=examiner)
    for surname, first_name, email in (
        ("Bertrand-Lefebvre", "Anne-Sophie", "asb@example.org"),
        ("de La Rochefoucauld", "Jean-Baptiste", "jb@example.org"),
    ):
        enrolment.enrol_candidate(
            platform.ctx,
            platform.projections,
            centre_id=centre,
            email=email,
            surname=surname,
            first_name=first_name,
            certification_code="ENI-ACCESS",
            language=language,
        )
    platform.settle()
    watched = Watched(page)
    centre_logged_in(page, server, language)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator("#roster .centre-result").count() == 1  # the released result's words
    lines = page.evaluate(
        "[...document.querySelectorAll('#roster .centre-name')]"
        ".map(name => [name.textContent, name.getClientRects().length])"
    )
    assert len(lines) == 3 and all(count == 1 for _name, count in lines), lines
    page.locator("#candidates").screenshot(path=str(SHOTS / f"{language}-10-long-names.png"))
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.locator("#roster thead").bounding_box()["height"] <= 1  # cards: no heading row
    watched.look(f"{language}-10-long-names")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_address_in_the_csv_preview_reads_whole_on_a_desktop(
    server: Server, page: Any, language: str
) -> None:
    """« lang1@example.or / g » at 1280 px (a tester's tour): the errors' sentences took the
    width and the candidate's column shrank until its addresses broke mid-word. On a desktop
    an address reads on one line; on a phone the preview is still cards, within the page."""
    a_centre_operator(server)
    watched = Watched(page)
    centre_logged_in(page, server, language)
    page.set_viewport_size({"width": 1280, "height": 900})
    # The tester's file: short names, three lines in error.
    choose_file(
        page,
        "email,surname,first_name,certification_code,language,re_enrol\n"
        "lang1@example.org,Lang,Un,ENI-ACCESS,de,peut-être\n"
        "lang2@example.org,Lang,Deux,ENI-ACCESS,EN,YES\n"
        "lang3@example.org,Lang,Trois,eni-access,,\n",
    )
    page.locator("#lines").wait_for()  # read at once, it was the enrolment page (no #lines)
    addresses = page.evaluate(
        "[...document.querySelectorAll('#lines .centre-email')]"
        ".map(email => [email.textContent, email.getClientRects().length])"
    )
    assert len(addresses) == 3 and all(count == 1 for _a, count in addresses), addresses
    page.locator("#lines").screenshot(path=str(SHOTS / f"{language}-11-csv-addresses.png"))
    watched.look(f"{language}-11-csv-addresses", expected_status=True)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_file_s_columns_vigie_does_not_read_are_named_on_its_preview(
    server: Server, page: Any, language: str
) -> None:
    """`langue` for `language` (refused: rename it) and `notes` (ignored) beside the lines,
    each line's language and re-enrolment: within the page, no serious violation."""
    a_centre_operator(server)
    watched = Watched(page)
    centre_logged_in(page, server, language)
    choose_file(
        page,
        "email;surname;first_name;certification_code;langue;re_enrol;notes\n"
        "karl.martin@example.org;Martin;Karl;ENI-ACCESS;en;oui;groupe B\n",
    )
    page.locator("#columns").wait_for()
    assert page.locator("#confirm-import").count() == 0
    page.locator("#file").wait_for()  # the corrected file chosen again from here
    watched.look(f"{language}-12-csv-columns")
