"""« Mot de passe oublié » (R24): a malformed address is refused beside its field, in the
page's language, what was typed kept; a well-formed one gets the same answer whether it is
registered or not, so the form never tells who is (the answer's time is
tests/test_password_timing.py's and candidate.FORGOT_ANSWER_S's)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from tests.acceptance.web import form_token
from ui.journey import Journey, make_platform
from ui.web.app import create_app

KNOWN = "camille.martin@example.org"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    Journey(platform, email=KNOWN).enrol()
    yield platform
    platform.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=b"f" * 32, support=SupportContact())) as client:
        yield client


def ask(client: TestClient[Any], email: str, account: str = "proctoring") -> Any:
    data = {
        "email": email,
        "account": account,
        "_csrf_token": form_token(client, "/password/forgot"),
    }
    return client.post("/password/forgot", data=data)


def field(page: str) -> str:
    found = re.search(r'<input id="email"[^>]*>', page)
    assert found is not None
    return html.unescape(found.group(0))


@pytest.mark.parametrize(
    "typed", ["camille@", "pas une adresse", "camille@example", "@example.org", "a@b@c.org"]
)
def test_a_malformed_address_is_refused_beside_its_field_with_what_was_typed_kept(
    client: TestClient[Any], platform: Platform, typed: str
) -> None:
    position = platform.ctx.store.head()
    reply = ask(client, typed, account="portal")
    page = html.unescape(reply.text)
    assert reply.status_code == 400
    assert (
        '<small class="field-error" id="email-error">Adresse e-mail invalide : saisissez-la '
        "en entier, telle qu'elle figure dans le mail reçu (par exemple "
        "camille.martin@example.org).</small>"
    ) in page
    email = field(reply.text)
    assert f'value="{typed}"' in email
    assert 'aria-invalid="true"' in email and 'aria-describedby="email-error"' in email
    assert 'id="reset-sent"' not in page  # never « Consultez votre boîte mail »
    assert 'value="portal" checked' in page  # the account chosen stays chosen
    assert platform.ctx.store.head() == position  # nothing recorded


def test_the_refusal_speaks_the_pages_language_and_an_empty_address_is_asked_for(
    client: TestClient[Any],
) -> None:
    client.get("/lang/en")
    reply = ask(client, "camille@")
    assert reply.status_code == 400
    assert "Invalid e-mail address: type it whole" in html.unescape(reply.text)
    empty = ask(client, "   ")
    assert empty.status_code == 400
    assert "E-mail address missing: type the address you were enrolled with." in empty.text


def test_a_well_formed_address_gets_the_same_answer_registered_or_not(
    client: TestClient[Any], platform: Platform
) -> None:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    before = len(mailer.to(KNOWN))
    known = ask(client, f"  {KNOWN.upper()} ")
    unknown = ask(client, "nobody.here@example.org")

    def answer(reply: Any) -> str:
        """The page without what differs by construction: the typed address, the token."""
        page = re.sub(r'value="[^"]*@[^"]*"', 'value=""', reply.text)
        return re.sub(r'name="_csrf_token" value="[^"]*"', "", page)

    assert known.status_code == unknown.status_code == 200
    assert answer(known) == answer(unknown)
    assert 'id="reset-sent"' in known.text and "field-error" not in known.text
    platform.settle()
    assert len(mailer.to(KNOWN)) == before + 1
    assert mailer.to("nobody.here@example.org") == []
