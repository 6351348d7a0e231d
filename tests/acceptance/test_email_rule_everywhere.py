"""F5 (a tester's tour): an enrolment whose address held a NUL was accepted by the form, the
CSV import (its preview read « sera inscrit(e) ») and the machine API; its invitation was
refused by the mail server in the middle of its transaction, and the next mail on the
platform, another centre's candidate's, failed with « 503 nested MAIL command ».

Every way an address enters refuses it now, naming the field and the character, in the
reader's language; nothing is recorded. (A learning platform's launch: test_lti.py.)"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from domain.integrations import Scope
from tests.acceptance.test_machine_api import ENROL, NEW_ONE, bearer, issue_on_the_page
from tests.acceptance.test_operator_pages import (  # noqa: F401 (the shared fixtures)
    client,
    enrol_from_form,
    line,
    notice,
    platform,
    upload,
)
from ui.cli import main

POISON = "poison\x00@example.org"


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Adresse e-mail : « U+0000 » ne peut pas figurer dans une adresse e-mail."),
        ("en", "E-mail address: “U+0000” cannot be in an e-mail address."),
    ],
)
def test_the_centre_s_form_refuses_it_naming_the_field_and_the_character(
    client: TestClient[Any],  # noqa: F811
    platform: Platform,  # noqa: F811
    language: str,
    said: str,
) -> None:
    client.get(f"/lang/{language}")
    head = platform.ctx.store.head()
    page = enrol_from_form(client, email=POISON)
    assert said in notice(page).replace("\u00a0", " ")
    assert platform.ctx.store.head() == head


@pytest.mark.parametrize(
    ("address", "said"),
    [
        (POISON, "email — « U+0000 » ne peut pas figurer dans une adresse e-mail"),
        ('a"b@example.org', 'email — « " » ne peut pas figurer dans une adresse e-mail'),
        ("x@-bad-.org", "email — « x@-bad-.org » n'est pas une adresse e-mail"),
    ],
)
def test_the_csv_preview_refuses_the_line_naming_the_character(
    client: TestClient[Any],  # noqa: F811
    platform: Platform,  # noqa: F811
    address: str,
    said: str,
) -> None:
    text = f"email,surname,first_name,certification_code\n{address},Nul,Nul,ENI-ACCESS\n"
    preview = upload(client, text)
    assert line(preview, 2).replace("\u00a0", " ").endswith(said), line(preview, 2)
    assert 'name="digest"' not in preview.text  # nothing to import


@pytest.mark.parametrize(
    ("accept", "said"),
    [
        ("en", "The field “email” is not an e-mail address: “U+0000” cannot be in one."),
        (
            "fr",
            "Le champ « email » n'est pas une adresse e-mail : « U+0000 » ne peut pas y figurer.",
        ),
    ],
)
def test_the_machine_api_refuses_it_naming_the_field_and_the_character(
    client: TestClient[Any],  # noqa: F811
    platform: Platform,  # noqa: F811
    accept: str,
    said: str,
) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)
    head = platform.ctx.store.head()
    with TestClient(client.app) as machine:
        refused = machine.post(
            ENROL,
            json={**NEW_ONE, "email": POISON},
            headers={**bearer(token), "accept-language": accept},
        )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (problem["field"], problem["reason"]) == ("email", "invalid")
    assert problem["detail"].replace("\u00a0", " ") == said
    assert platform.ctx.store.head() == head


def test_vigie_staff_add_refuses_it_naming_the_field_and_the_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIE_DATABASE_URL", f"sqlite:///{tmp_path}/vigie.sqlite")
    monkeypatch.setenv("VIGIE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("VIGIE_MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setattr("sys.stdin", io.StringIO("premier-compte-2025\n"))
    code = main(["staff", "add", POISON, "--name", "Nul", "--role", "centre", "--password-stdin"])
    assert code == 2
    assert "email: U+0000 cannot be in an e-mail address" in capsys.readouterr().err
