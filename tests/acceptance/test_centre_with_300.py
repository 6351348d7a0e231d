"""A centre's day with a file of 300 candidates (a user's tour, 2026-12-07): the list's search
ignored case but not accents, so « helene » found « Hélène » only when her e-mail was spelled
so, and « d'aubigne » found nobody; a refused file said « 3 lignes en erreur » above 300 lines
and left the centre to scroll through them to find lines 52, 152 and 252, the corrected file's
form waiting below the last line."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.acceptance import test_operator_pages as operator_pages
from tests.acceptance.test_operator_pages import Page, import_file, roster_lines, upload, words

platform = operator_pages.platform  # the shared fixtures: a centre's operator, logged in
client = operator_pages.client

HEADER = "email;surname;first_name;certification_code;language\n"
# Addresses that do not spell the names: the search must find the names themselves.
PEOPLE = (
    "hn1984@example.org;Noël;Hélène;ENI-ACCESS;fr\n"
    "contact.jdb@example.org;D’Aubigné;Jérôme;ENI-ACCESS;fr\n"
    "lb@example.org;Lebœuf;Lætitia;ENI-ACCESS;en\n"
    "x1@example.org;Martin;Paul;ENI-ACCESS;fr\n"
)


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("helene", "NOËL Hélène"),
        ("HELENE noel", "NOËL Hélène"),
        ("Hélène", "NOËL Hélène"),
        ("d'aubigne", "D’AUBIGNÉ Jérôme"),
        ("d’Aubigné", "D’AUBIGNÉ Jérôme"),
        ("jerome", "D’AUBIGNÉ Jérôme"),
        ("laetitia leboeuf", "LEBŒUF Lætitia"),
    ],
)
def test_the_list_s_search_ignores_accents_as_the_hotline_s_does(
    client: TestClient[Any], search: str, found: str
) -> None:
    import_file(client, HEADER + PEOPLE)
    page = Page(client.get("/operator", params={"q": search}))
    lines = roster_lines(page)
    assert len(lines) == 1, lines
    assert lines[0].startswith(found), lines


def _three_bad_lines() -> str:
    lines = [f"p{n}@example.org;Nom{n};Prénom{n};ENI-ACCESS;fr\n" for n in range(2, 302)]
    lines[50] = "jerome.dupont@exemple;Dupont;Jérôme;ENI-ACCESS;fr\n"  # line 52
    lines[150] = lines[10]  # line 152: line 12 again
    lines[250] = "sans.nom@example.org;;Anaïs;ENI-ACCESS;fr\n"  # line 252
    return HEADER + "".join(lines)


WORDS = {
    "fr": [
        "Ligne 52 : Adresse e-mail email — « jerome.dupont@exemple » n'est pas une adresse e-mail",
        "Ligne 152 : Adresse e-mail email — cette adresse est déjà à la ligne 12 du fichier",
        "Ligne 252 : Nom surname — à remplir",
    ],
    "en": [
        "Line 52: E-mail address email — “jerome.dupont@exemple” is not an e-mail address",
        "Line 152: E-mail address email — this address is already on line 12 of the file",
        "Line 252: Surname surname — this field is required",
    ],
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_refused_file_names_its_bad_lines_above_the_table_with_the_corrected_file_s_form(
    client: TestClient[Any], language: str
) -> None:
    client.get(f"/lang/{language}")
    preview = upload(client, _three_bad_lines())
    assert preview.status_code == 200
    summary = re.search(r'<ul id="lines-in-error".*?</ul>', preview.text, re.S)
    assert summary is not None, "the bad lines are not named above the table"
    items = [words(item) for item in re.findall(r"<li.*?</li>", summary.group(0), re.S)]
    expected = WORDS[language]
    assert len(items) == 3
    for item, said in zip(items, expected, strict=True):
        assert item == said
    # Each one a link to its line in the table.
    for number in (52, 152, 252):
        assert f'href="#line-{number}"' in summary.group(0)
        assert f'id="line-{number}"' in preview.text
    # The corrected file's form is before the table, not 300 lines below it.
    assert preview.text.index('action="/operator/enrol-csv"') < preview.text.index('id="lines"')


def test_past_twenty_bad_lines_the_others_are_counted_above_the_table(
    client: TestClient[Any],
) -> None:
    lines = [f"p{n}@example.org;;Prénom{n};ENI-ACCESS;fr\n" for n in range(2, 27)]
    preview = upload(client, HEADER + "".join(lines))
    summary = re.search(r'<ul id="lines-in-error".*?</ul>\s*<p>(.*?)</p>', preview.text, re.S)
    assert summary is not None
    assert summary.group(0).count("<li") == 20
    assert words(summary.group(1)) == (
        "Et 5 autres lignes en erreur, signalées dans le tableau ci-dessous."
    )


def _many(count: int) -> str:
    return HEADER + "".join(
        f"p{n:03d}@example.org;Nom{n:03d};Prénom;ENI-ACCESS;fr\n" for n in range(count)
    )


@pytest.mark.parametrize(
    ("language", "said", "next_words", "previous_words"),
    [
        ("fr", "Page 1 sur 2 : inscriptions 1 à 200.", "Page suivante →", "← Page précédente"),
        ("en", "Page 1 of 2: enrolments 1 to 200.", "Next page →", "← Previous page"),
    ],
)
def test_a_list_of_300_is_read_page_by_page(
    client: TestClient[Any], language: str, said: str, next_words: str, previous_words: str
) -> None:
    """« Les 200 premières sont affichées : précisez la recherche » left the last 100 out of
    reach but by searching each name (a user's tour with 300 candidates)."""
    import_file(client, _many(300))
    client.get(f"/lang/{language}")
    first = Page(client.get("/operator"))
    count = re.search(r'<p id="roster-count">(.*?)</p>', first.text, re.S)
    assert count is not None and said in words(count.group(1))
    assert [r.split()[0] for r in roster_lines(first)][:1] == ["NOM000"]
    assert len(roster_lines(first)) == 200
    link = re.search(r'<a href="([^"]*)" rel="next">([^<]*)</a>', first.text)
    assert link is not None and link.group(2) == next_words
    assert 'rel="prev"' not in first.text
    second = Page(client.get(link.group(1).replace("&amp;", "&").split("#")[0]))
    lines = roster_lines(second)
    assert len(lines) == 100 and lines[0].startswith("NOM200") and lines[-1].startswith("NOM299")
    back = re.search(r'<a href="([^"]*)" rel="prev">([^<]*)</a>', second.text)
    assert back is not None and back.group(2) == previous_words
    assert 'rel="next"' not in second.text
    # A search keeps its words from page to page; a page past the last is the last.
    found = Page(client.get("/operator", params={"q": "prenom", "page": "9"}))
    assert roster_lines(found)[0].startswith("NOM200")
    assert "q=prenom" in found.text.split('rel="prev"')[0].rsplit("<a href=", 1)[1]
    assert len(roster_lines(Page(client.get("/operator", params={"page": "x"})))) == 200


def test_the_list_orders_names_accents_aside(client: TestClient[Any]) -> None:
    """« LEFÈVRE Élodie » came after « LEFÈVRE Raphaël », « ÉTIENNE » after « ZOLA »."""
    import_file(
        client,
        HEADER
        + "r@example.org;Lefèvre;Raphaël;ENI-ACCESS;fr\n"
        + "e@example.org;Lefèvre;Élodie;ENI-ACCESS;fr\n"
        + "z@example.org;Zola;Anne;ENI-ACCESS;fr\n"
        + "s@example.org;Étienne;Anne;ENI-ACCESS;fr\n",
    )
    names = [" ".join(line.split()[:2]) for line in roster_lines(Page(client.get("/operator")))]
    assert names == ["ÉTIENNE Anne", "LEFÈVRE Élodie", "LEFÈVRE Raphaël", "ZOLA Anne"]
