"""Issue 16, staff single sign-on over HTTP against a real OpenID provider (node-oidc-provider,
started by the test on 127.0.0.1): the authorization code flow with PKCE signs a member in
with the role of their group; an answer whose state is not the browser's own, one replayed,
and an ID token whose nonce is not the one this sign-in sent are all refused, and nothing is
recorded for them."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.oidc import OidcSettings, OpenIdProvider, SignInFailed
from app.mail_rendering import SupportContact
from domain.claims import Claim, provider_identity_claim_id
from domain.staff import Role, StaffMember
from domain.staff_groups import GroupRoles
from tests.acceptance.web import csrf
from tests.oidc_server import RunningProvider, running_provider, sign_in_at_provider
from ui.journey import PARIS
from ui.web.app import create_app

BASE = "http://vigie.test"
CALLBACK = f"{BASE}/staff/sso/callback"
ACCOUNTS = {
    "eve": {"email": "eve@example.org", "name": "Eve Examinatrice", "groups": ["vigie-examiners"]},
    "sam": {"email": "sam@example.org", "name": "Sam", "groups": ["interns"]},
    "max": {"email": "max@example.org", "name": "Max", "groups": ["vigie-examiners"]},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    log = tmp_path_factory.mktemp("provider") / "provider.log"
    with running_provider(redirect_uris=[CALLBACK], accounts=ACCOUNTS, log=log) as running:
        yield running


@pytest.fixture
def platform(provider: RunningProvider) -> Iterator[Platform]:
    oidc = OidcSettings(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        groups=GroupRoles.parse("vigie-examiners=examiner; vigie-support=support"),
        name="Test IdP",
    )
    made = bootstrap(
        Settings(
            database_url="memory:", media_root=None, launcher="memory", base_url=BASE, oidc=oidc
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
    )
    yield made
    made.close()


@pytest.fixture
def vigie(platform: Platform) -> Iterator[TestClient[Any]]:
    app = create_app(platform, secret=b"s" * 32, support=SupportContact())
    with TestClient(app, base_url=BASE) as client:
        yield client


def _leave_for_provider(vigie: TestClient[Any]) -> str:
    """The staff log-in page offers the provider; its button leads there (a 303)."""
    assert "Se connecter avec Test IdP" in vigie.get("/staff/login").text
    reply = vigie.get("/staff/sso", follow_redirects=False)
    assert reply.status_code == 303
    return str(reply.headers["location"])


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back(vigie: TestClient[Any], callback_url: str) -> httpx.Response:
    parts = urlsplit(callback_url)
    return vigie.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _nothing_recorded(platform: Platform, provider: RunningProvider) -> bool:
    """No account answers to the provider's identity of eve."""
    claim = provider_identity_claim_id(provider.issuer, "eve")
    return list(platform.ctx.store.history(claim)) == []


def _words(reply: httpx.Response) -> str:
    return html.unescape(reply.text)


def test_a_member_signs_in_through_the_provider_with_pkce_and_lands_on_their_desk(
    vigie: TestClient[Any], provider: RunningProvider, platform: Platform
) -> None:
    url = _leave_for_provider(vigie)
    asked = parse_qs(urlsplit(url).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    assert "verifier" not in url
    with httpx.Client(timeout=10) as browser:
        back = sign_in_at_provider(browser, url, login="eve", back_to=CALLBACK)
    reply = _back(vigie, back)
    assert reply.status_code in (302, 303) and reply.headers["location"] == "/examiner/reviews"
    assert vigie.get("/examiner/reviews").status_code == 200
    claim = provider_identity_claim_id(provider.issuer, "eve")
    assert len(list(platform.ctx.store.history(claim))) == 1

    # The same answer again (a replay, or the back button): its state served already.
    vigie.cookies.clear()
    replayed = _back(vigie, back)
    assert replayed.status_code == 400 and "n'est plus valable" in _words(replayed)


def test_a_member_moved_to_another_group_gets_its_role_at_the_next_sign_in_recorded(
    vigie: TestClient[Any], provider: RunningProvider, platform: Platform
) -> None:
    def sign_in() -> httpx.Response:
        url = _leave_for_provider(vigie)
        with httpx.Client(timeout=10) as browser:
            return _back(vigie, sign_in_at_provider(browser, url, login="max", back_to=CALLBACK))

    assert sign_in().headers["location"] == "/examiner/reviews"
    provider.set_account("max", groups=["vigie-support"])
    vigie.post("/logout", headers=csrf(vigie))
    assert sign_in().headers["location"] == "/hotline"
    claim = platform.ctx.store.get(provider_identity_claim_id(provider.issuer, "max"), Claim)
    changed = list(platform.ctx.store.history(claim.holder_id))[-1]
    assert isinstance(changed, StaffMember.StaffRoleChangedByProvider)
    assert (changed.group, changed.role, changed.previous_role) == (
        "vigie-support",
        Role.SUPPORT,
        Role.EXAMINER,
    )


def test_an_answer_with_another_state_is_refused_and_records_nothing(
    vigie: TestClient[Any], provider: RunningProvider, platform: Platform
) -> None:
    url = _leave_for_provider(vigie)
    with httpx.Client(timeout=10) as browser:
        back = sign_in_at_provider(browser, url, login="eve", back_to=CALLBACK)
    reply = _back(vigie, _with(back, state="forged-" + "x" * 40))
    assert reply.status_code == 400 and "n'est plus valable" in _words(reply)
    assert vigie.get("/examiner/reviews", follow_redirects=False).status_code in (302, 303)
    # The genuine answer after a forged one finds nothing either: the state was used up.
    assert _back(vigie, back).status_code == 400
    assert _nothing_recorded(platform, provider)


def test_an_id_token_whose_nonce_is_not_this_sign_ins_is_refused(
    vigie: TestClient[Any],
    provider: RunningProvider,
    platform: Platform,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The state and the PKCE pair are this browser's own, but the provider was asked for
    another nonce (an ID token minted for another sign-in): the token is refused."""
    url = _leave_for_provider(vigie)
    with httpx.Client(timeout=10) as browser:
        back = sign_in_at_provider(
            browser, _with(url, nonce="another-sign-in-" + "n" * 30), login="eve", back_to=CALLBACK
        )
    reply = _back(vigie, back)
    assert reply.status_code == 401 and "n'a pas pu être vérifiée" in _words(reply)
    assert "id_token" in caplog.text and "nonce" in caplog.text  # refused for its nonce
    assert vigie.get("/examiner/reviews", follow_redirects=False).status_code in (302, 303)
    assert _nothing_recorded(platform, provider)


def test_a_code_without_this_browsers_verifier_is_refused(
    vigie: TestClient[Any], provider: RunningProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """PKCE: a code obtained with another challenge cannot be redeemed by this session."""
    url = _leave_for_provider(vigie)
    other = _with(url, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    with httpx.Client(timeout=10) as browser:
        back = sign_in_at_provider(browser, other, login="eve", back_to=CALLBACK)
    assert _back(vigie, back).status_code == 401
    assert "token endpoint" in caplog.text and "invalid_grant" in caplog.text


def test_a_member_in_no_mapped_group_is_refused_in_their_language(
    vigie: TestClient[Any], provider: RunningProvider
) -> None:
    vigie.get("/lang/en", follow_redirects=False)
    url = _leave_for_provider_en(vigie)
    assert parse_qs(urlsplit(url).query)["ui_locales"] == ["en"]
    with httpx.Client(timeout=10) as browser:
        back = sign_in_at_provider(browser, url, login="sam", back_to=CALLBACK)
    reply = _back(vigie, back)
    assert reply.status_code == 403
    assert "in none of the groups that open Vigie" in _words(reply)


def _leave_for_provider_en(vigie: TestClient[Any]) -> str:
    assert "Sign in with Test IdP" in vigie.get("/staff/login").text
    return str(vigie.get("/staff/sso", follow_redirects=False).headers["location"])


ANSWER_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.sampled_from(["", "x" * 5000, "%00", "../../etc/passwd", "<script>"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=ANSWER_TEXT, error=ANSWER_TEXT, iss=ANSWER_TEXT, own_state=st.booleans())
def test_no_answer_from_the_provider_makes_a_server_error(
    vigie: TestClient[Any], code: str, error: str, iss: str, own_state: bool
) -> None:
    """Garbage in every parameter of the callback, with this browser's state or not: a page
    refusing it (400, 401), never a 500, and never a signed-in session."""
    url = _leave_for_provider(vigie)
    state = parse_qs(urlsplit(url).query)["state"][0] if own_state else "not-ours"
    query = urlencode({"code": code, "state": state, "error": error, "iss": iss})
    reply = vigie.get(f"/staff/sso/callback?{query}", follow_redirects=False)
    assert reply.status_code in (400, 401), reply.status_code
    assert vigie.get("/examiner/reviews", follow_redirects=False).status_code in (302, 303)


def _forged(provider: RunningProvider, key: RSAKey, nonce: str) -> str:
    """An ID token that says all the right things (issuer, audience, subject, nonce, times),
    signed by `key`."""
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "sub": "eve",
        "nonce": nonce,
        "iat": now,
        "exp": now + 300,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_an_id_token_not_signed_with_the_providers_published_keys_is_refused(
    provider: RunningProvider,
) -> None:
    adapter = OpenIdProvider(
        OidcSettings(
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            groups=GroupRoles.parse("vigie-examiners=examiner"),
        )
    )
    published = httpx.get(adapter.metadata()["jwks_uri"]).json()["keys"]
    # A key of its own under the provider's key id, and one under an id it never published
    # (its JWKS is read again before giving up).
    for kid in (published[0]["kid"], "never-published"):
        forger = RSAKey.generate_key(2048, parameters={"kid": kid})
        with pytest.raises(SignInFailed, match="id_token"):
            adapter.id_token_claims({"id_token": _forged(provider, forger, "n-1")}, "n-1")


def test_a_sign_in_through_the_provider_returns_to_the_page_that_asked_never_elsewhere(
    vigie: TestClient[Any], provider: RunningProvider
) -> None:
    """A review's link opened logged out leads to the staff log-in; « Se connecter avec … »
    carries the page, and the provider's answer lands there (a same-site path only)."""
    review = "/examiner/reviews?page=2"
    assert f'href="/staff/sso?next={review.replace("?", "%3F").replace("=", "%3D")}"' in (
        vigie.get(f"/staff/login?next={review.replace('?', '%3F').replace('=', '%3D')}").text
    )
    for asked, lands in ((review, review), ("//evil.example/x", "/examiner/reviews")):
        left = vigie.get("/staff/sso", params={"next": asked}, follow_redirects=False)
        with httpx.Client(timeout=10) as browser:
            back = sign_in_at_provider(
                browser, str(left.headers["location"]), login="eve", back_to=CALLBACK
            )
        reply = _back(vigie, back)
        assert reply.headers["location"] == lands, asked
