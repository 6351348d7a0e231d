"""The machine API (issue 16): a centre's manager issues a token on the centre's page, shown
once; a machine enrols and reads results with it, within its scopes, for its centre only;
a revoked or expired token is refused with its reason; the log keeps the token's issue and
revocation, never its secret. On PostgreSQL, through the web app."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app import integrations
from app.mail_rendering import SupportContact
from app.tenancy import centre_of_operator
from app.use_cases import accounts
from domain.access import OutOfReach
from domain.bounds import LIMITS
from domain.errors import TooLong
from domain.integrations import CentreIntegrations, Scope, integrations_id
from domain.staff import Role, StaffMember
from tests.acceptance.web import form_token, log_in, plain
from ui.cli import main
from ui.journey import PARIS, Journey
from ui.web.app import create_app

SECRET = b"t" * 32
PASSWORD = "centre-pass-1"
ENROL = "/api/centre/enrolments"
NEW_ONE = {
    "email": "ada@example.org",
    "surname": "Lovelace",
    "first_name": "Ada",
    "certification_code": "ENI-ACCESS",
}
TOKEN = re.compile(r'<code id="token-value">([^<]+)</code>')


@pytest.fixture
def platform(postgres_url: str) -> Iterator[Platform]:
    platform = bootstrap(
        Settings(database_url=postgres_url, media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(16),
    )
    for email in ("centre@example.org", "other@example.org"):
        accounts.register_staff(
            platform.ctx, email=email, name="Centre", role=Role.CENTRE, password=PASSWORD
        )
    yield platform
    platform.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        yield client


def staff(platform: Platform, email: str) -> UUID:
    platform.projections.catch_up(platform.ctx.store)
    return platform.projections.staff_by_email[email]


def issue_on_the_page(client: TestClient[Any], name: str, *scopes: Scope) -> str:
    """The centre's manager fills in the form; the token is read from the reply."""
    path = "/operator/integrations"
    reply = client.post(
        f"{path}/tokens",
        data={
            "name": name,
            "days": "30",
            "scopes": [s.value for s in scopes],
            "_csrf_token": form_token(client, path),
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "no-store"
    found = TOKEN.search(reply.text)
    assert found is not None, "the new token is shown"
    return html.unescape(found.group(1))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_token_made_on_the_centre_page_enrols_a_candidate_and_reads_the_result(
    platform: Platform, client: TestClient[Any]
) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE, Scope.RESULTS_READ)
    # Shown once: the page does not show it again.
    assert token not in client.get("/operator/integrations").text
    machine = TestClient(client.app)  # no cookie: a machine
    with machine:
        made = machine.post(ENROL, json=NEW_ONE, headers=bearer(token))
        assert made.status_code == 201, made.text
        enrollment_id = made.json()["enrollment_id"]
        again = machine.post(ENROL, json=NEW_ONE, headers=bearer(token))
        assert again.json()["already_enrolled"] is True
        assert again.json()["enrollment_id"] == enrollment_id
        status = machine.get(f"{ENROL}/{enrollment_id}", headers=bearer(token))
        assert status.status_code == 200, status.text
        assert status.json()["session"] is None
        assert status.json()["certification_code"] == "ENI-ACCESS"
        refused = machine.post(ENROL, json={**NEW_ONE, "email": "nope"}, headers=bearer(token))
        assert refused.status_code == 422 and refused.json()["field"] == "email", refused.text


def test_a_token_does_only_what_its_scopes_allow(client: TestClient[Any]) -> None:
    reader = issue_on_the_page(client, "reader", Scope.RESULTS_READ)
    writer = issue_on_the_page(client, "writer", Scope.ENROLMENTS_WRITE)
    with TestClient(client.app) as machine:
        refused = machine.post(ENROL, json=NEW_ONE, headers=bearer(reader))
        assert refused.status_code == 403
        assert refused.json()["reason"] == "out_of_scope"
        assert "enrolments:write" in refused.json()["detail"]
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        enrollment_id = machine.post(ENROL, json=NEW_ONE, headers=bearer(writer)).json()[
            "enrollment_id"
        ]
        assert machine.get(f"{ENROL}/{enrollment_id}", headers=bearer(writer)).status_code == 403
        assert machine.get(f"{ENROL}/{enrollment_id}", headers=bearer(reader)).status_code == 200


def test_a_revoked_token_is_refused_at_the_next_request_and_the_log_says_who_revoked_it(
    platform: Platform, client: TestClient[Any]
) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)
    centre = centre_of_operator(staff(platform, "centre@example.org"))
    [token_id] = platform.ctx.store.get(integrations_id(centre), CentreIntegrations).tokens
    with TestClient(client.app) as machine:
        assert machine.post(ENROL, json=NEW_ONE, headers=bearer(token)).status_code == 201
        path = "/operator/integrations"
        reply = client.post(
            f"{path}/tokens/{token_id}/revoke",
            data={"_csrf_token": form_token(client, path)},
            follow_redirects=True,
        )
        assert reply.status_code == 200 and 'data-state="revoked"' in reply.text
        refused = machine.post(ENROL, json=NEW_ONE, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["reason"] == "revoked"
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    events = [r.event for r in platform.ctx.store.read(0, 10_000)]
    issued = [e for e in events if isinstance(e, CentreIntegrations.ApiTokenIssued)]
    revoked = [e for e in events if isinstance(e, CentreIntegrations.ApiTokenRevoked)]
    assert [e.token_id for e in issued] == [token_id]
    assert [e.revoked_by for e in revoked] == [staff(platform, "centre@example.org")]
    secret = token.split("_", 3)[3]
    assert issued[0].secret_digest == integrations.digest(secret)
    assert not any(secret in repr(e) for e in events), "the secret itself is never recorded"


def test_an_expired_token_is_refused_with_its_reason(
    platform: Platform, client: TestClient[Any]
) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)  # 30 days
    clock = platform.ctx.clock
    assert isinstance(clock, ManualClock)
    with TestClient(client.app) as machine:
        clock.advance(seconds=timedelta(days=29).total_seconds())
        assert machine.post(ENROL, json=NEW_ONE, headers=bearer(token)).status_code == 201
        clock.advance(seconds=timedelta(days=1).total_seconds())
        refused = machine.post(ENROL, json=NEW_ONE, headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["reason"] == "expired"
    assert 'data-state="expired"' in client.get("/operator/integrations").text


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("Bearer nonsense", "unknown"),
        ("Basic dXNlcjpwYXNz", "unknown"),
        (f"Bearer vigie_{'0' * 32}_{'1' * 32}_secret", "unknown"),
    ],
)
def test_no_token_or_a_made_up_one_is_refused_naming_why(
    client: TestClient[Any], header: str | None, reason: str
) -> None:
    with TestClient(client.app) as machine:
        headers = {"authorization": header} if header else {}
        refused = machine.post(ENROL, json=NEW_ONE, headers=headers)
        assert refused.status_code == 401 and refused.json()["reason"] == reason
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_token_with_a_wrong_secret_is_unknown(client: TestClient[Any]) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with TestClient(client.app) as machine:
        refused = machine.post(ENROL, json=NEW_ONE, headers=bearer(forged))
        assert refused.status_code == 401 and refused.json()["reason"] == "unknown"


def test_another_centres_enrolment_is_not_found_with_a_token(
    platform: Platform, client: TestClient[Any]
) -> None:
    token = issue_on_the_page(client, "LMS", Scope.RESULTS_READ)
    other = centre_of_operator(staff(platform, "other@example.org"))
    journey = Journey(platform, email="bob@example.org", centre_id=other)
    journey.enrol()
    with TestClient(client.app) as machine:
        reply = machine.get(f"{ENROL}/{journey.enrollment_id}", headers=bearer(token))
        assert reply.status_code == 404
        assert machine.get(f"{ENROL}/{UUID(int=7)}", headers=bearer(token)).status_code == 404


def test_only_a_centre_manager_issues_tokens(platform: Platform) -> None:
    examiner = accounts.register_staff(
        platform.ctx, email="ex@example.org", name="Ex", role=Role.EXAMINER, password=PASSWORD
    )
    with pytest.raises(OutOfReach):  # « not found », as for an id that does not exist
        integrations.issue_token(
            platform.ctx, examiner, name="x", scopes=(Scope.RESULTS_READ,), valid_days=1
        )


def test_the_openapi_document_names_the_machine_routes_and_their_bearer_token(
    client: TestClient[Any],
) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert schema["paths"]["/api/centre/enrolments"]["post"]["security"] == [{"BearerToken": []}]
    assert "/api/centre/enrolments/{enrollment_id}" in schema["paths"]


def test_the_cli_issues_lists_and_revokes_a_token_as_the_centre_page_does(
    platform: Platform,
    client: TestClient[Any],
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIE_SECRET_KEY", SECRET.decode())
    cli = ["--database-url", postgres_url, "api-token"]
    manager = "centre@example.org"
    assert main([*cli, "issue", manager, "--name", "CRM", "--scope", "enrolments:write"]) == 0
    printed = capsys.readouterr().out
    token = next(line for line in printed.splitlines() if line.startswith("vigie_"))
    with TestClient(client.app) as machine:
        assert machine.post(ENROL, json=NEW_ONE, headers=bearer(token)).status_code == 201
        assert main([*cli, "list", manager]) == 0
        listed = capsys.readouterr().out
        assert "1 token(s)" in listed and "'CRM' enrolments:write" in listed
        assert token.split("_", 3)[3] not in listed
        token_id = UUID(hex=token.split("_")[2])
        assert main([*cli, "revoke", manager, str(token_id)]) == 0
        refused = machine.post(ENROL, json=NEW_ONE, headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["reason"] == "revoked"
    assert (
        main([*cli, "issue", "nobody@example.org", "--name", "x", "--scope", "results:read"]) == 2
    )
    assert "no staff account" in capsys.readouterr().err


def test_a_missing_or_mistyped_field_is_named(client: TestClient[Any]) -> None:
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)
    with TestClient(client.app) as machine:
        for body, field in (
            ({k: v for k, v in NEW_ONE.items() if k != "surname"}, "surname"),
            ({**NEW_ONE, "re_enrol": "maybe"}, "re_enrol"),
            ({**NEW_ONE, "language": "de"}, "language"),
            ({**NEW_ONE, "surname": "x" * 101}, "surname"),
        ):
            refused = machine.post(ENROL, json=body, headers=bearer(token))
            assert refused.status_code == 400, refused.text
            assert refused.json()["field"] == field, refused.text


def tokens_of(platform: Platform, centre_manager: str) -> dict[UUID, Any]:
    centre = centre_of_operator(staff(platform, centre_manager))
    try:
        return dict(platform.ctx.store.get(integrations_id(centre), CentreIntegrations).tokens)
    except LookupError:
        return {}


NAME_TOO_LONG = {
    "fr": "Champ « Nom du jeton » : 80 caractères au plus, et ce nom en compte 81. "
    "Raccourcissez-le, puis appuyez à nouveau sur « Créer le jeton ». Rien n'a été créé.",
    "en": "Field “Token name”: 80 characters at most, and this name has 81. Shorten it, then "
    "press “Create the token” again. Nothing was created.",
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_token_name_too_long_comes_back_beside_its_field_as_typed(
    platform: Platform, client: TestClient[Any], language: str
) -> None:
    """The name's bound was the domain's own 80 and the form's maxlength a number of its own;
    a longer name gave a page of its own, « Check the field », the form lost (a user's tour).
    One bound (LIMITS["token_name"]): the maxlength says it, a longer name comes back beside
    its field, as typed with the scopes ticked, and no token is made."""
    limit = LIMITS["token_name"]
    path = "/operator/integrations"
    client.get(f"/lang/{language}")
    assert re.search(
        rf'<input id="name" name="name"[^>]*maxlength="{limit}"', client.get(path).text
    )
    typed = "CRM du centre " + "x" * (limit + 1 - 14)
    refused = client.post(
        f"{path}/tokens",
        data={
            "name": typed,
            "days": "30",
            "scopes": [Scope.RESULTS_READ.value],
            "_csrf_token": form_token(client, path),
        },
    )
    assert refused.status_code == 409
    said = html.unescape(refused.text)
    field = re.search(r'<input id="name" name="name"[^>]*>', said)
    assert field is not None and f'value="{typed}"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert f'{field.group(0)}<small class="field-error" id="name-error" role="alert">' in said
    assert NAME_TOO_LONG[language] in said
    assert 'value="30"' in said and 'value="results:read" checked' in said
    assert 'id="token-value"' not in said
    assert tokens_of(platform, "centre@example.org") == {}
    with pytest.raises(TooLong):
        integrations.issue_token(
            platform.ctx,
            staff(platform, "centre@example.org"),
            name=typed,
            scopes=(Scope.RESULTS_READ,),
        )


def test_a_token_name_at_its_limit_is_kept_and_far_past_it_refused_at_the_edge(
    platform: Platform, client: TestClient[Any]
) -> None:
    """At the bound the name is the token's; past KEPT_TIMES it, it is no typing: refused
    before the handler naming the field, never echoed in the page."""
    limit = LIMITS["token_name"]
    path = "/operator/integrations"
    far = client.post(
        f"{path}/tokens",
        data={
            "name": "n" * (4 * limit + 1),
            "scopes": [Scope.RESULTS_READ.value],
            "_csrf_token": form_token(client, path),
        },
    )
    assert far.status_code == 400 and "n" * (limit + 1) not in far.text
    said = html.unescape(far.text)
    assert "« Nom du jeton » est trop long : pas plus de 80 caractères." in said
    assert tokens_of(platform, "centre@example.org") == {}
    issue_on_the_page(client, "n" * limit, Scope.RESULTS_READ)
    [token] = tokens_of(platform, "centre@example.org").values()
    assert token.name == "n" * limit


NONCE = re.compile(r'name="form_nonce" value="([^"]+)"')


def token_form(client: TestClient[Any], **fields: Any) -> dict[str, Any]:
    """The token form as the page draws it (its CSRF token and one-time nonce), filled in."""
    page = client.get("/operator/integrations").text
    nonce = NONCE.search(page)
    assert nonce is not None, "the token form carries a one-time nonce"
    return {
        "_csrf_token": form_token(client, "/operator/integrations"),
        "form_nonce": nonce.group(1),
        **fields,
    }


def test_one_form_makes_one_token_however_often_it_is_sent(
    platform: Platform, client: TestClient[Any]
) -> None:
    """A double click sent the form twice and a reload of the answer a third time: three
    active tokens, one secret seen (a tester's tour). Now the form's nonce names one token,
    which the store records once; each answer shows that token, and its short id is in the
    list."""
    form = token_form(client, name="LMS", days="30", scopes=[Scope.RESULTS_READ.value])
    answers = [client.post("/operator/integrations/tokens", data=form) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    shown = {html.unescape(m.group(1)) for a in answers if (m := TOKEN.search(a.text))}
    [token] = shown  # the same token each time
    [(token_id, made)] = tokens_of(platform, "centre@example.org").items()
    assert token_id.hex in token and made.state(made.issued_at) is None
    short = token_id.hex[:8]
    for answer in answers:
        said = plain(answer.text)
        assert f'data-token-id="{short}"' in said
        assert f"identifiant {short} dans la liste" in said
        assert said.count(f'<code class="token-id">{short}</code>') == 1
    with TestClient(client.app) as machine:  # the token shown works
        assert machine.get(f"{ENROL}/{UUID(int=1)}", headers=bearer(token)).status_code == 404
    # A new page, a new form: a second token.
    issue_on_the_page(client, "LMS 2", Scope.RESULTS_READ)
    assert len(tokens_of(platform, "centre@example.org")) == 2
    # The first form sent again once its token is revoked: nothing new, no secret shown.
    path = "/operator/integrations"
    client.post(f"{path}/tokens/{token_id}/revoke", data={"_csrf_token": form_token(client, path)})
    again = client.post(f"{path}/tokens", data=form)
    assert TOKEN.search(again.text) is None and token not in again.text
    assert "Ce formulaire a déjà été envoyé" in plain(again.text)
    assert len(tokens_of(platform, "centre@example.org")) == 2


def test_one_form_sent_again_with_other_fields_makes_nothing_and_shows_no_secret(
    platform: Platform, client: TestClient[Any]
) -> None:
    """A manager made a read token, went Back, ticked « write » and sent the same form: the
    answer was the first token, as « Votre nouveau jeton d'API », so they believed they held
    a write token (a reviewer). Now the form is refused beside it, naming the token it made,
    with no secret; the page's new form, as typed, makes the other token."""
    path = "/operator/integrations/tokens"
    form = token_form(client, name="LMS", days="30", scopes=[Scope.RESULTS_READ.value])
    first = client.post(path, data=form)
    assert first.status_code == 200 and TOKEN.search(first.text)
    [(token_id, made)] = tokens_of(platform, "centre@example.org").items()
    changed = [
        {"scopes": [Scope.RESULTS_READ.value, Scope.ENROLMENTS_WRITE.value]},
        {"name": "LMS écriture"},
        {"days": "90"},
    ]
    for change in changed:
        again = client.post(path, data={**form, **change})
        said = plain(again.text)
        assert again.status_code == 409, change
        assert TOKEN.search(again.text) is None and "Votre nouveau jeton" not in said
        assert (
            '<small class="field-error" id="form-error" role="alert">Ce formulaire a déjà '
            f"créé le jeton « LMS » ({token_id.hex[:8]} dans la liste ci-dessous)" in said
        )
    assert tokens_of(platform, "centre@example.org") == {token_id: made}
    client.get("/lang/en")
    again = client.post(path, data={**form, **changed[0]})
    said = plain(again.text)
    assert "This form already made the token “LMS”" in said and "Ce formulaire" not in said
    # The refusal's page carries a new form, as typed: sending it makes the write token.
    fresh = NONCE.search(again.text)
    assert fresh is not None and fresh.group(1) != form["form_nonce"]
    retried = client.post(path, data={**form, **changed[0], "form_nonce": fresh.group(1)})
    assert retried.status_code == 200 and TOKEN.search(retried.text)
    tokens = tokens_of(platform, "centre@example.org")
    assert sorted(t.scopes for t in tokens.values()) == [
        (Scope.ENROLMENTS_WRITE, Scope.RESULTS_READ),
        (Scope.RESULTS_READ,),
    ]


def test_another_manager_of_the_centre_sending_a_colleagues_form_gets_no_secret(
    platform: Platform, client: TestClient[Any]
) -> None:
    """The secret came from the form's nonce alone (with the centre and the platform's key):
    a colleague of the same centre who sent someone's form (its nonce seen in a shared
    screen, a proxy's log) got that token's secret. Now the sender is in the secret, and
    the token is answered again to its issuer only."""
    centre = centre_of_operator(staff(platform, "centre@example.org"))
    colleague_id = staff(platform, "other@example.org")
    colleague = platform.ctx.store.get(colleague_id, StaffMember)
    colleague.link_to_provider(
        issuer="https://idp.example.org",
        subject="other",
        group="centre-managers",
        role=Role.CENTRE,
        centre_id=centre,
        at=platform.ctx.now(),
    )
    platform.ctx.store.save(colleague)
    form = token_form(client, name="LMS", days="30", scopes=[Scope.RESULTS_READ.value])
    first = client.post("/operator/integrations/tokens", data=form)
    shown = TOKEN.search(first.text)
    assert shown is not None
    token = html.unescape(shown.group(1))
    [token_id] = tokens_of(platform, "centre@example.org")
    with TestClient(client.app) as other:
        log_in(other, "/staff/login", "other@example.org", PASSWORD)
        theirs = {**form, "_csrf_token": form_token(other, "/operator/integrations")}
        reply = other.post("/operator/integrations/tokens", data=theirs)
        assert reply.status_code == 409
        assert TOKEN.search(reply.text) is None and token.split("_", 2)[2] not in reply.text
        assert f"Ce formulaire a déjà créé le jeton « LMS » ({token_id.hex[:8]}" in plain(
            reply.text
        )
    assert list(tokens_of(platform, "centre@example.org")) == [token_id]
    # Its issuer sending it again still gets it (a reload of the answer).
    again = client.post("/operator/integrations/tokens", data=form)
    assert again.status_code == 200 and token in html.unescape(again.text)


def test_every_refused_token_field_says_what_is_wrong_beside_it(
    platform: Platform, client: TestClient[Any]
) -> None:
    """Empty name and no scope said only « Vérifiez le champ « Ce que le jeton permet » »
    (the name not flagged), 0 or 367 days no range (a tester's tour)."""
    path = "/operator/integrations/tokens"
    refused = client.post(path, data=token_form(client, name="  ", days="367"))
    assert refused.status_code == 409
    said = plain(refused.text)
    assert '<small class="field-error" id="name-error" role="alert">« Nom du jeton » est' in said
    assert "« Ce que le jeton permet » : cochez-en au moins un." in said
    assert "« Valable (jours) » : un nombre entier de jours, de 1 à 366." in said
    assert 'value="367"' in said
    client.get("/lang/en")
    refused = client.post(
        path, data=token_form(client, name="LMS", days="abc", scopes=[Scope.RESULTS_READ.value])
    )
    said = plain(refused.text)
    assert "“Valid for (days)”: a whole number of days, from 1 to 366." in said
    assert 'value="LMS"' in said and "Vérifiez" not in said and "Check the field" not in said
    assert tokens_of(platform, "centre@example.org") == {}


@pytest.mark.parametrize(
    ("url", "french", "english"),
    [
        (
            "https://user:pass@example.org/hook?x=1",
            "pas de nom d'utilisateur ni de mot de passe dans l'adresse",
            "no user name or password in the address",
        ),
        ("https://bad host/", "une adresse ne contient pas d'espace", "an address holds no space"),
        ("ftp://example.org/", "commencez l'adresse par https://", "start the address with"),
        ("https://exa_mple.org/", "après https:// vient un nom d'hôte", "comes a host name"),
    ],
)
def test_a_refused_webhook_address_is_said_beside_it_and_kept(
    client: TestClient[Any], url: str, french: str, english: str
) -> None:
    """An address with a password or a space gave a bare page and lost the form; the others
    only « Vérifiez le champ » (a tester's tour)."""
    path = "/operator/integrations"
    for language, words in (("fr", french), ("en", english)):
        client.get(f"/lang/{language}")
        refused = client.post(
            f"{path}/webhooks",
            data={
                "url": url,
                "events": ["exam.submitted"],
                "_csrf_token": form_token(client, path),
            },
        )
        assert refused.status_code == 409, refused.text
        said = plain(refused.text)
        assert '<small class="field-error" id="url-error" role="alert">' in said
        assert words in said, said
        assert f'value="{url}"' in said
        assert re.search(r'value="exam.submitted" checked', said)
        assert not re.search(r'value="session.created" checked', said)
        assert 'id="webhook-list"' not in said


def test_machine_api_errors_name_the_field_and_the_reason_for_a_program(
    client: TestClient[Any],
) -> None:
    """400 « Invalid field email » with « Vérifiez le champ « Adresse e-mail » », and the
    pages' « Revenez en arrière » for a body that is no JSON (a tester's tour): now `field`
    and `reason` for the program, `detail` in English (or French when asked)."""
    token = issue_on_the_page(client, "LMS", Scope.ENROLMENTS_WRITE)
    with TestClient(client.app) as machine:
        missing = machine.post(ENROL, json={}, headers=bearer(token))
        assert missing.status_code == 400
        assert missing.json()["field"] == "email" and missing.json()["reason"] == "missing"
        assert missing.json()["detail"] == "The field “email” is missing: it is required."
        language = machine.post(ENROL, json={**NEW_ONE, "language": "de"}, headers=bearer(token))
        assert (language.json()["field"], language.json()["reason"]) == ("language", "malformed")
        assert "write “fr” or “en”" in language.json()["detail"]
        long = machine.post(ENROL, json={**NEW_ONE, "surname": "x" * 101}, headers=bearer(token))
        assert long.json()["reason"] == "too_long" and "at most 100" in long.json()["detail"]
        french = machine.post(
            ENROL, json={}, headers={**bearer(token), "accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}
        )
        assert french.json()["detail"] == "Le champ « email » manque : il est obligatoire."
        broken = machine.post(
            ENROL,
            content=b"{not json",
            headers={**bearer(token), "content-type": "application/json"},
        )
        assert broken.status_code == 400 and "field" not in broken.json()
        assert broken.json()["detail"].startswith("The body could not be read")
        invalid = machine.post(ENROL, json={**NEW_ONE, "email": "nope"}, headers=bearer(token))
        assert invalid.status_code == 422 and invalid.json()["reason"] == "invalid"
        assert invalid.json()["field"] == "email"
        unknown = machine.post(ENROL, json=NEW_ONE, headers=bearer("vigie_x_y_z"))
        assert unknown.json()["detail"].startswith("This API token is not known")
