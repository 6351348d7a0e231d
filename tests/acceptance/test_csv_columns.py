"""A centre's file with columns Vigie does not read (a reviewer's tour): a `langue` column
(instead of `language`) previewed Karl Martin as « sera inscrit(e) » and he would have been
enrolled in French; a `birth_date` column raised nothing. Each column Vigie does not read is
named with the ones it reads; one that looks like a column Vigie reads, which the file lacks,
refuses the file naming what to rename it to; an unrelated one is said and ignored. Each line
says the language it enrols in and whether it enrols again, to check before « Importer »; the
list's search finds a certification by its code as by its title."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from tests.acceptance import test_operator_pages as operator_pages
from tests.acceptance.test_operator_pages import (
    GOOD,
    Page,
    confirm,
    import_file,
    line,
    notice,
    roster_lines,
    upload,
    words,
)
from tests.acceptance.web import csrf
from ui.web.enrolment_file import check_csv, digest_of

platform = operator_pages.platform  # the shared fixtures: a centre's operator, logged in
client = operator_pages.client

LANGUE = (
    "email,surname,first_name,certification_code,langue\n"
    "karl.martin@example.org,Martin,Karl,ENI-ACCESS,en\n"
)
BIRTH_DATE = (
    "email,surname,first_name,certification_code,language,birth_date,notes\n"
    "karl.martin@example.org,Martin,Karl,ENI-ACCESS,en,31/02/1985,groupe B\n"
)


def columns(page: Page) -> str:
    """The page's word on the file's columns Vigie does not read, as read."""
    found = re.search(r'<div id="columns".*?</div>', page.text, re.S)
    assert found is not None, "nothing said of the columns"
    return words(found.group(0))


WORDS = {
    "fr": {
        "refused": "1 colonne à renommer : rien ne peut être importé",
        "langue": "langue — probablement la colonne language (Langue), absente du fichier : "
        "renommez-la language, sinon ses valeurs sont perdues.",
        "read": "Vigie ne lit que ces colonnes : email (Adresse e-mail), surname (Nom), "
        "first_name (Prénom), certification_code (Certification), language (Langue), "
        "re_enrol (Réinscrire).",
        "ignored": "birth_date — ignorée : rien n'en sera enregistré. "
        "notes — ignorée : rien n'en sera enregistré.",
        "ignored_after": "birth_date — ignorée : rien n'en a été enregistré.",
        "line": "2 Karl Martin karl.martin@example.org Certification Bureautique Access "
        "Anglais non sera inscrit(e)",
        "two": "2 colonnes du fichier ne sont pas lues par Vigie",
    },
    "en": {
        "refused": "1 column to rename: nothing can be imported",
        "langue": "langue — probably the column language (Language), which the file lacks: "
        "rename it language, or its values are lost.",
        "read": "Vigie reads only these columns: email (E-mail address), surname (Surname), "
        "first_name (First name), certification_code (Certification), language (Language), "
        "re_enrol (Enrol again).",
        "ignored": "birth_date — ignored: nothing of it will be recorded. "
        "notes — ignored: nothing of it will be recorded.",
        "ignored_after": "birth_date — ignored: nothing of it was recorded.",
        "line": "2 Karl Martin karl.martin@example.org Certification Bureautique Access "
        "English no will be enrolled",
        "two": "2 columns of the file are not read by Vigie",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_column_that_looks_like_one_vigie_reads_refuses_the_file_naming_what_to_rename_it_to(
    client: TestClient[Any], platform: Platform, language: str
) -> None:
    client.get(f"/lang/{language}")
    head = platform.ctx.store.head()
    reply = upload(client, LANGUE)
    said = WORDS[language]
    assert 'name="digest"' not in reply.text  # no « Importer »: he would be enrolled in French
    assert said["refused"] in notice(reply)
    assert 'class="alert alert--error"' in reply.text.split('<div id="columns"')[1][:40]
    assert said["langue"] in columns(reply)
    assert said["read"] in columns(reply)
    assert platform.ctx.store.head() == head


def test_the_import_itself_refuses_a_file_with_a_column_to_rename(
    client: TestClient[Any], platform: Platform
) -> None:
    """Not the button alone: a form posted with such a file and its lines' digest enrols
    nobody."""
    head = platform.ctx.store.head()
    reply = client.post(
        "/operator/enrol-csv/confirm",
        data={
            "content": base64.b64encode(LANGUE.encode()).decode(),
            "digest": digest_of(check_csv(LANGUE, {"ENI-ACCESS"})[0]),
        },
        headers=csrf(client),
    )
    assert reply.status_code == 409
    assert platform.ctx.store.head() == head


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_unrelated_column_is_named_as_ignored_and_the_file_imports(
    client: TestClient[Any], platform: Platform, language: str
) -> None:
    client.get(f"/lang/{language}")
    said = WORDS[language]
    preview = upload(client, BIRTH_DATE)
    assert 'name="digest"' in preview.text  # unrelated: the file still imports
    assert said["two"] in columns(preview)
    assert said["ignored"] in columns(preview)
    assert said["read"] in columns(preview)
    assert line(preview, 2) == said["line"]  # in English, as the file says
    report = confirm(client, preview)
    assert 'data-imported="yes"' in report.text
    assert said["ignored_after"] in columns(report)


@pytest.mark.parametrize(
    ("header", "meant"),
    [
        ("nom", "surname"),
        ("Prénom", "first_name"),
        ("courriel", "email"),
        ("E-mail", "email"),
        ("Language", "language"),
        ("LANGUE", "language"),
    ],
)
def test_each_near_miss_names_the_column_meant(
    client: TestClient[Any], header: str, meant: str
) -> None:
    """Case, accents, French names: the column meant is named, and the file refused (whole
    when a required column is missing, as before)."""
    names = ["email", "surname", "first_name", "certification_code"]
    names = [header if n == meant else n for n in names] + ([header] if meant == "language" else [])
    reply = upload(client, ",".join(names) + "\na@example.org,Durand,Alex,ENI-ACCESS,fr\n")
    assert 'name="digest"' not in reply.text
    assert f"{header} — probablement la colonne {meant} (" in columns(reply)
    assert f"renommez-la {meant}, sinon" in columns(reply)


def test_a_column_beside_the_one_it_looks_like_is_only_ignored(client: TestClient[Any]) -> None:
    """`name` (the whole name) beside `surname` and `first_name`: Vigie reads those."""
    preview = upload(client, GOOD.replace("language\n", "language,name\n", 1))
    assert 'name="digest"' in preview.text
    assert (
        "name — ressemble à la colonne surname (Nom), présente aussi dans le fichier : "
        "seule surname est lue, celle-ci est ignorée."
    ) in columns(preview)


def test_a_file_of_the_columns_vigie_reads_says_nothing_of_columns(
    client: TestClient[Any],
) -> None:
    preview = upload(client, GOOD)
    assert 'id="columns"' not in preview.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_line_says_its_language_and_whether_it_enrols_again_before_the_import(
    client: TestClient[Any], language: str
) -> None:
    client.get(f"/lang/{language}")
    preview = upload(
        client,
        "email;surname;first_name;certification_code;language;re_enrol\n"
        "a@example.org;Durand;Alex;ENI-ACCESS;EN;oui\n"
        "b@example.org;Petit;Bea;ENI-ACCESS;;\n"
        "c@example.org;Chen;Cy;ENI-ACCESS;fr;non\n",
    )
    expected = {
        "fr": ("Anglais oui sera inscrit(e)", "Français (par défaut) non", "Français non"),
        "en": ("English yes will be enrolled", "French (by default) no", "French no"),
    }[language]
    assert expected[0] in line(preview, 2)
    assert expected[1] in line(preview, 3)
    assert expected[2] in line(preview, 4)
    assert '<th scope="col">' + ("Langue" if language == "fr" else "Language") in preview.text


@pytest.mark.parametrize("search", ["ENI-ACCESS", "eni-access", "Access"])
def test_the_list_finds_a_certification_by_its_code_as_by_its_title(
    client: TestClient[Any], search: str
) -> None:
    """The field reads « Nom, e-mail ou certification »: `ENI-ACCESS` found nobody."""
    import_file(client, GOOD)
    found = Page(client.get("/operator", params={"q": search}))
    assert [r.split()[0] for r in roster_lines(found)] == ["DURAND", "PETIT"]
    assert Page(client.get("/operator", params={"q": "ENI-WORD"})).text.count("DURAND") == 0
