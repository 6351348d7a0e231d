"""Operator pages: enrol one by one and by CSV (all or nothing, a report per line)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.journey import PARIS
from tests.acceptance.web import csrf, form_token, log_in
from ui.web.app import create_app
from ui.web.operator import MAX_CSV_LINES, check_csv

SECRET = b"o" * 32


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(8),
    )
    accounts.register_staff(
        platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.CENTRE,
        password="centre-pass-1",
    )
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", "centre-pass-1")
        yield client


class Page:
    """A reply whose text reads as the person sees it (entities decoded)."""

    def __init__(self, reply: Any) -> None:
        self.status_code = reply.status_code
        self.text = html.unescape(reply.text)


def upload(client: TestClient[Any], text: str) -> Page:
    return Page(
        client.post(
            "/operator/enrol-csv",
            files={"file": ("candidats.csv", text.encode(), "text/csv")},
            headers=csrf(client),
        )
    )


GOOD = (
    "email,surname,first_name,certification_code,language\n"
    "a@example.org,Durand,Alex,ENI-ACCESS,fr\n"
    "b@example.org,Petit,Bea,ENI-ACCESS,en\n"
)


def test_a_csv_with_one_bad_line_enrols_nobody_and_reports_every_line(
    client: TestClient[Any], platform: Platform
) -> None:
    head = platform.ctx.store.head()
    bad = GOOD + "not-an-address,X,Y,ENI-ACCESS,fr\nc@example.org,Z,W,UNKNOWN,fr\n"
    reply = upload(client, bad)
    assert reply.status_code == 200
    assert 'data-imported="no"' in reply.text
    assert "n'est pas une adresse e-mail" in reply.text
    assert "certification inconnue « UNKNOWN »" in reply.text
    assert "<td>4</td><td>not-an-address</td><td>email</td>" in reply.text
    assert "<td>5</td><td>c@example.org</td><td>certification_code</td>" in reply.text
    assert platform.ctx.store.head() == head  # nothing half-imported


def test_a_good_csv_enrols_everyone_and_mails_the_invitations(
    client: TestClient[Any], platform: Platform
) -> None:
    reply = upload(client, GOOD)
    assert 'data-imported="yes"' in reply.text
    platform.settle()  # the worker's pass: the request only records the enrolments
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    assert [m.subject for m in mailer.to("b@example.org")] == [
        "Certification - Create your exam session"
    ]
    assert "a@example.org" in client.get("/operator").text
    again = upload(client, GOOD.replace("b@", "a@"))
    assert "cette adresse est déjà à la ligne 2 du fichier" in again.text


def test_one_candidate_is_enrolled_from_the_form(
    client: TestClient[Any], platform: Platform
) -> None:
    token = form_token(client, "/operator")
    client.post(
        "/operator/enrol",
        data={
            "email": "solo@example.org",
            "surname": "Solo",
            "first_name": "Han",
            "certification_code": "ENI-ACCESS",
            "language": "fr",
            "_csrf_token": token,
        },
    )
    assert platform.projections.find_by_email("solo@example.org") is not None


def enrol_from_form(client: TestClient[Any], **extra: str) -> Any:
    token = form_token(client, "/operator")
    reply = client.post(
        "/operator/enrol",
        data={
            "email": "Solo@Example.org ",
            "surname": "Solo",
            "first_name": "Han",
            "certification_code": "ENI-ACCESS",
            "language": "fr",
            "_csrf_token": token,
            **extra,
        },
    )
    return Page(reply)


def test_enrolling_the_same_person_twice_changes_nothing_and_says_so(
    client: TestClient[Any], platform: Platform
) -> None:
    """Issue 12: one enrolment per centre, candidate and certification; a repeat is told."""
    first = enrol_from_form(client)
    assert 'data-outcome="enrolled_new"' in first.text
    head = platform.ctx.store.head()
    again = enrol_from_form(client)
    assert "solo@example.org est déjà inscrit(e) à cette certification" in again.text
    assert "rien n'a changé" in again.text
    assert platform.ctx.store.head() == head
    client.get("/lang/en")
    assert "is already enrolled for this certification by your centre" in (
        enrol_from_form(client).text
    )


def test_an_explicit_re_enrolment_makes_a_second_enrolment_for_the_same_account(
    client: TestClient[Any], platform: Platform
) -> None:
    enrol_from_form(client)
    again = enrol_from_form(client, re_enrol="yes")
    assert 'data-outcome="enrolled_again"' in again.text
    platform.projections.catch_up(platform.ctx.store)
    candidate = platform.projections.find_by_email("solo@example.org")
    enrolments = [e for e in platform.projections.enrollments.values()]
    assert len(enrolments) == 2 and {e.candidate_id for e in enrolments} == {candidate}


def test_the_same_csv_twice_enrols_nobody_twice_and_says_when_it_was_imported(
    client: TestClient[Any], platform: Platform
) -> None:
    """Issue 12: a CSV import is idempotent; the same lines with other spaces and line
    endings are the same file."""
    first = upload(client, GOOD)
    assert "Fichier importé en entier : 2 inscription(s), 0 candidat(s) déjà" in first.text
    head = platform.ctx.store.head()
    again = upload(client, GOOD.replace("\n", "\r\n").replace(",Durand", ", Durand "))
    assert 'data-already="yes"' in again.text
    assert "Ce fichier a déjà été importé le 04/03/2025 à 09:00 : rien n'a changé." in again.text
    assert "<td>3</td><td>b@example.org</td><td></td><td>importé avec le fichier" in again.text
    assert platform.ctx.store.head() == head


def test_a_csv_whose_lines_are_already_enrolled_imports_and_changes_nothing_for_them(
    client: TestClient[Any], platform: Platform
) -> None:
    upload(client, GOOD)
    more = GOOD + "c@example.org,Chen,Cy,ENI-ACCESS,fr\n"
    reply = upload(client, more)
    assert "1 inscription(s), 2 candidat(s) déjà inscrit(s)" in reply.text
    assert reply.text.count("déjà inscrit(e) : rien n'a changé") == 2
    platform.projections.catch_up(platform.ctx.store)
    assert len(platform.projections.enrollments) == 3


def test_a_csv_refused_as_a_whole_says_why_in_the_page_language(
    client: TestClient[Any], platform: Platform
) -> None:
    client.get("/lang/en")
    reply = upload(client, "email,surname\na@example.org,Durand\n")
    assert "Nothing was enrolled: missing column(s): first_name, certification_code." in (
        reply.text
    )
    bad = upload(client, GOOD + "d@example.org,Dee,Di,ENI-ACCESS,de\n")
    assert "<td>4</td><td>d@example.org</td><td>language</td><td>fr or en, not 'de'" in (bad.text)


def test_a_csv_longer_than_the_limit_is_refused_whole_before_anything_is_read_into_the_store(
    client: TestClient[Any], platform: Platform
) -> None:
    head = platform.ctx.store.head()
    lines = "".join(f"p{n}@example.org,P,Q,ENI-ACCESS,fr\n" for n in range(MAX_CSV_LINES + 1))
    reply = upload(client, GOOD.splitlines(keepends=True)[0] + lines)
    assert f"Rien n'a été inscrit : {MAX_CSV_LINES} lignes au plus par fichier." in reply.text
    assert platform.ctx.store.head() == head


def test_a_semicolon_csv_from_french_excel_with_a_bom_enrols_everyone(
    client: TestClient[Any], platform: Platform
) -> None:
    """French Excel saves « CSV (séparateur : point-virgule) » in UTF-8 with a BOM."""
    french_excel = "\ufeff" + GOOD.replace(",", ";").replace("\n", "\r\n")
    reply = upload(client, french_excel)
    assert 'data-imported="yes"' in reply.text, reply.text
    platform.projections.catch_up(platform.ctx.store)
    assert platform.projections.find_by_email("a@example.org") is not None
    assert platform.projections.find_by_email("b@example.org") is not None


def test_commas_in_names_do_not_make_a_semicolon_file_read_as_commas(
    client: TestClient[Any], platform: Platform
) -> None:
    """The header decides: a name with a comma inside a `;` file stays one field."""
    text = GOOD.replace(",", ";").replace("Durand", "Durand, dit Alex")
    reply = upload(client, text)
    assert 'data-imported="yes"' in reply.text, reply.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "colonne(s) manquante(s) : certification_code. La première ligne nomme"),
        ("en", "missing column(s): certification_code. The first line names the expected"),
    ],
)
def test_a_file_missing_a_column_is_refused_naming_the_expected_columns_in_the_page_language(
    client: TestClient[Any], platform: Platform, language: str, expected: str
) -> None:
    client.get(f"/lang/{language}")
    head = platform.ctx.store.head()
    reply = upload(client, "email;surname;first_name\na@example.org;Durand;Alex\n")
    assert expected in reply.text
    assert "first_name" in reply.text.split(expected)[1]  # every expected column is named
    assert platform.ctx.store.head() == head


_FIELD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèà -'", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)


@given(
    rows=st.lists(st.tuples(_FIELD, _FIELD), min_size=1, max_size=5),
    separator=st.sampled_from([",", ";"]),
    bom=st.booleans(),
)
def test_the_same_lines_read_alike_whatever_the_separator_and_bom(
    rows: list[tuple[str, str]], separator: str, bom: bool
) -> None:
    """A centre's file reads the same with `,` or `;` and with or without a BOM."""
    lines = [
        separator.join((f"c{n}@example.org", surname, first, "ENI-ACCESS"))
        for n, (surname, first) in enumerate(rows)
    ]
    header = separator.join(("email", "surname", "first_name", "certification_code"))
    text = ("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n"
    wanted, reports = check_csv(text, {"ENI-ACCESS"})
    assert [r.problem for r in reports] == [""] * len(rows)
    assert [(w.surname, w.first_name) for w in wanted] == rows
