"""A centre's tokens and webhooks (domain.integrations): given events, when a command or a
check, then events or a named refusal; and the token check as a property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access import OutOfReach
from domain.errors import InvalidArgument
from domain.integrations import (
    BadUrl,
    CentreIntegrations,
    FormUsedAlready,
    Scope,
    TokenRefusal,
    TokenRefused,
    UrlProblem,
    WebhookEvent,
    check_url,
)

T0 = datetime(2025, 3, 4, 9, tzinfo=UTC)
CENTRE, MANAGER, TOKEN, HOOK = UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)
DIGEST = "d" * 64


def centre_with_a_token(*scopes: Scope, days: int = 30) -> CentreIntegrations:
    found = CentreIntegrations.open(centre_id=CENTRE, at=T0)
    found.issue_token(
        token_id=TOKEN,
        name="LMS",
        scopes=scopes or (Scope.RESULTS_READ,),
        secret_digest=DIGEST,
        expires_at=T0 + timedelta(days=days),
        issued_by=MANAGER,
        at=T0,
    )
    return found


def recorded(found: CentreIntegrations) -> list[str]:
    return [type(e).__name__ for e in found.collect_events()]


@given(
    scopes=st.sets(st.sampled_from(Scope), min_size=1),
    asked=st.sampled_from(Scope),
    after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    revoked=st.booleans(),
)
def test_a_token_works_only_unrevoked_unexpired_and_within_its_scopes(
    scopes: set[Scope], asked: Scope, after: timedelta, revoked: bool
) -> None:
    found = centre_with_a_token(*scopes, days=30)
    if revoked:
        found.revoke_token(token_id=TOKEN, revoked_by=MANAGER, at=T0)
    at = T0 + after
    expected = (
        TokenRefusal.REVOKED
        if revoked
        else TokenRefusal.EXPIRED
        if after >= timedelta(days=30)
        else None
        if asked in scopes
        else TokenRefusal.OUT_OF_SCOPE
    )
    try:
        found.check_token(TOKEN, DIGEST, asked, at)
    except TokenRefused as refused:
        assert refused.reason is expected
    else:
        assert expected is None


def test_a_wrong_secret_or_an_unknown_token_is_unknown() -> None:
    found = centre_with_a_token()
    for token_id, digest in ((TOKEN, "e" * 64), (UUID(int=9), DIGEST)):
        with pytest.raises(TokenRefused) as refused:
            found.check_token(token_id, digest, Scope.RESULTS_READ, T0)
        assert refused.value.reason is TokenRefusal.UNKNOWN


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("scopes", {"scopes": ()}),
        ("expires_at", {"expires_at": T0}),
        ("expires_at", {"expires_at": T0 + timedelta(days=367)}),
        ("name", {"name": "  "}),
        ("token_id", {"token_id": TOKEN, "secret_digest": "e" * 64}),  # another's id
    ],
)
def test_a_token_is_refused_naming_the_field(field: str, change: dict[str, object]) -> None:
    found = centre_with_a_token()
    found.collect_events()
    command: dict[str, object] = {
        "token_id": UUID(int=5),
        "name": "CRM",
        "scopes": (Scope.ENROLMENTS_WRITE,),
        "secret_digest": DIGEST,
        "expires_at": T0 + timedelta(days=1),
        "issued_by": MANAGER,
        "at": T0,
        **change,
    }
    with pytest.raises(InvalidArgument) as refused:
        found.issue_token(**command)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert recorded(found) == []


def test_one_form_sent_twice_is_one_token() -> None:
    """A token issued again with its id, secret, issuer, name, scopes and validity (the same
    form sent twice: a double click, a reload of its answer) records nothing and answers the
    token, a second later."""
    found = centre_with_a_token(Scope.RESULTS_READ, Scope.ENROLMENTS_WRITE)
    found.collect_events()
    [first] = found.tokens.values()
    later = T0 + timedelta(seconds=1)
    again = found.issue_token(
        token_id=TOKEN,
        name=" LMS ",
        scopes=(Scope.ENROLMENTS_WRITE, Scope.RESULTS_READ),
        secret_digest=DIGEST,
        expires_at=later + timedelta(days=30),
        issued_by=MANAGER,
        at=later,
    )
    assert again == first and len(found.tokens) == 1
    assert recorded(found) == []


@pytest.mark.parametrize(
    "change",
    [
        {"name": "another name"},
        {"scopes": (Scope.RESULTS_READ, Scope.ENROLMENTS_WRITE)},
        {"scopes": (Scope.ENROLMENTS_WRITE,)},
        {"expires_at": T0 + timedelta(days=2, seconds=1)},
        {"issued_by": UUID(int=77)},
        {"secret_digest": "e" * 64},
    ],
    ids=["name", "more scopes", "other scopes", "validity", "issuer", "secret"],
)
def test_one_form_sent_again_otherwise_is_refused_naming_its_token(
    change: dict[str, object],
) -> None:
    """The same form sent again with other fields (a manager went Back and ticked a write
    scope) or by someone else answered the first token as if it were theirs: now it is
    refused, naming the token the form made, and nothing is recorded."""
    found = centre_with_a_token()
    found.collect_events()
    [first] = found.tokens.values()
    later = T0 + timedelta(seconds=1)
    command = {
        "token_id": TOKEN,
        "name": "LMS",
        "scopes": (Scope.RESULTS_READ,),
        "secret_digest": DIGEST,
        "expires_at": later + timedelta(days=30),
        "issued_by": MANAGER,
        "at": later,
        **change,
    }
    with pytest.raises(FormUsedAlready) as refused:
        found.issue_token(**command)  # type: ignore[arg-type]
    assert refused.value.token == first
    assert recorded(found) == [] and len(found.tokens) == 1


def test_revoking_twice_records_once_and_another_centres_token_is_not_found() -> None:
    found = centre_with_a_token()
    found.collect_events()
    assert found.revoke_token(token_id=TOKEN, revoked_by=MANAGER, at=T0)
    assert not found.revoke_token(token_id=TOKEN, revoked_by=MANAGER, at=T0)
    assert recorded(found) == ["ApiTokenRevoked"]
    with pytest.raises(OutOfReach):
        found.revoke_token(token_id=UUID(int=99), revoked_by=MANAGER, at=T0)


def test_a_removed_webhook_is_told_nothing_more() -> None:
    found = CentreIntegrations.open(centre_id=CENTRE, at=T0)
    found.subscribe(
        subscription_id=HOOK,
        url="https://lms.example.org/vigie",
        events=(WebhookEvent.SESSION_CREATED, WebhookEvent.DECISION_RELEASED),
        subscribed_by=MANAGER,
        at=T0,
    )
    assert [s.subscription_id for s in found.subscribers(WebhookEvent.SESSION_CREATED)] == [HOOK]
    assert found.subscribers(WebhookEvent.APPEAL_DECIDED) == []
    assert found.remove_subscription(subscription_id=HOOK, removed_by=MANAGER, at=T0)
    assert found.subscribers(WebhookEvent.SESSION_CREATED) == []
    assert recorded(found) == ["IntegrationsOpened", "WebhookSubscribed", "WebhookRemoved"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://lms.example.org/", UrlProblem.SCHEME),
        ("https://user:secret@lms.example.org/", UrlProblem.CREDENTIALS),
        ("https://user@lms.example.org/x?y=1", UrlProblem.CREDENTIALS),
        ("lms.example.org", UrlProblem.SCHEME),
        ("https://", UrlProblem.HOST),
        ("http://a b/", UrlProblem.SPACE),
        ("https://lms.example.org/?to=a@b", None),  # an « @ » after the host is no password
        ("  ", UrlProblem.REQUIRED),
        ("https://lms.example.org/" + "x" * 500, UrlProblem.TOO_LONG),
    ],
)
def test_a_webhook_address_must_be_http_with_a_host_and_no_credentials(
    url: str, problem: UrlProblem | None
) -> None:
    """Each refusal says what is wrong (`problem`), for the page to say it."""
    if problem is None:
        assert check_url(url) == url
        return
    with pytest.raises(BadUrl) as refused:
        check_url(url)
    assert refused.value.field == "url" and refused.value.problem is problem
