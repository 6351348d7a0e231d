"""LTI 1.3's rules in the domain (issue 16), without HTTP: the launch's claims, the
deployments' centres, the key ring's published keys, a score report's one claim and its
retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidArgument
from domain.lti import (
    AGS_CLAIM,
    CLAIM,
    LEARNER,
    SCORE_SCOPE,
    GradeLink,
    LaunchFault,
    LaunchRefused,
    LtiPlatform,
    ScoreReport,
    ScoreStatus,
    ToolKey,
    ToolKeyRing,
    check_launch,
    language_of,
    platform_id,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)
ISSUER, CLIENT = "https://lms.example.org", "vigie"


def claims(**overrides: Any) -> dict[str, Any]:
    at = int(NOW.timestamp())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "u-1",
        "iat": at,
        "exp": at + 300,
        "nonce": "n-1",
        "email": "a@example.org",
        CLAIM + "version": "1.3.0",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "deployment_id": "d-1",
        CLAIM + "roles": [LEARNER],
        CLAIM + "custom": {"certification": "ENI-ACCESS"},
        CLAIM + "launch_presentation": {"locale": "en-GB"},
        AGS_CLAIM: {"scope": [SCORE_SCOPE], "lineitem": "https://lms.example.org/li/1"},
    }
    base.update(overrides)
    return base


def refused(values: dict[str, Any], nonce: str = "n-1") -> LaunchFault:
    with pytest.raises(LaunchRefused) as refusal:
        check_launch(values, issuer=ISSUER, client_id=CLIENT, nonce=nonce, now=NOW)
    return refusal.value.fault


def test_a_launch_with_every_claim_right_reads_as_a_learners_launch_in_english() -> None:
    launch = check_launch(claims(), issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW)
    assert launch.is_learner and launch.language == "en" and launch.score_scope
    assert launch.certification_code == "ENI-ACCESS" and launch.deployment_id == "d-1"


@pytest.mark.parametrize(
    ("values", "fault"),
    [
        (claims(iss="https://other.example.org"), LaunchFault.UNKNOWN_PLATFORM),
        (claims(aud="someone-else"), LaunchFault.WRONG_AUDIENCE),
        (claims(aud=[CLIENT, "other"]), LaunchFault.WRONG_AUDIENCE),  # several: azp required
        (claims(exp=int(NOW.timestamp()) - 61), LaunchFault.EXPIRED),
        (claims(iat=int(NOW.timestamp()) + 61), LaunchFault.EXPIRED),
        (claims(nonce="n-2"), LaunchFault.BAD_STATE),
        (claims(**{CLAIM + "version": "1.1"}), LaunchFault.NOT_LTI),
        (claims(**{CLAIM + "message_type": "Other"}), LaunchFault.NOT_LTI),
        (claims(**{CLAIM + "deployment_id": ""}), LaunchFault.NOT_LTI),
    ],
)
def test_a_launch_whose_claims_are_wrong_is_refused_with_its_fault(
    values: dict[str, Any], fault: LaunchFault
) -> None:
    assert refused(values) is fault


def test_several_audiences_with_vigie_as_the_authorised_party_are_believed() -> None:
    values = claims(aud=[CLIENT, "other"], azp=CLIENT)
    assert check_launch(values, issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW)


def test_a_clock_a_minute_off_is_still_believed() -> None:
    at = int(NOW.timestamp())
    assert check_launch(
        claims(iat=at + 59, exp=at - 59), issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW
    )


@given(st.text(max_size=12))
def test_r25_the_lms_locale_gives_english_or_french_and_french_otherwise(locale: str) -> None:
    expected = "en" if locale.lower().startswith("en") else "fr"
    assert language_of(locale) == expected
    assert language_of(None) == "fr"


def _platform() -> LtiPlatform:
    return LtiPlatform.register(
        issuer=ISSUER,
        client_id=CLIENT,
        auth_url=f"{ISSUER}/auth",
        token_url=f"{ISSUER}/token",
        jwks_url=f"{ISSUER}/jwks",
        name="LMS",
        at=NOW,
    )


def test_a_deployment_enrols_for_its_centre_and_an_unknown_one_is_refused() -> None:
    platform = _platform()
    centre = uuid4()
    assert platform.id == platform_id(ISSUER, CLIENT)
    assert platform.map_deployment(deployment_id="d-1", centre_id=centre)
    assert not platform.map_deployment(deployment_id="d-1", centre_id=centre)  # no new fact
    assert platform.centre_of("d-1") == centre
    with pytest.raises(LaunchRefused) as refusal:
        platform.centre_of("d-2")
    assert refusal.value.fault is LaunchFault.UNKNOWN_DEPLOYMENT


@pytest.mark.parametrize("field", ["issuer", "auth_url", "token_url", "jwks_url"])
def test_a_registration_with_a_malformed_address_names_the_field(field: str) -> None:
    values = {
        "issuer": ISSUER,
        "client_id": CLIENT,
        "auth_url": f"{ISSUER}/auth",
        "token_url": f"{ISSUER}/token",
        "jwks_url": f"{ISSUER}/jwks",
        "name": "LMS",
        field: "javascript:alert(1)",
    }
    with pytest.raises(InvalidArgument) as refusal:
        LtiPlatform.register(**values, at=NOW)
    assert field in str(refusal.value)


@settings(max_examples=20)
@given(st.integers(min_value=1, max_value=6))
def test_the_ring_publishes_the_newest_key_and_the_one_before(rotations: int) -> None:
    ring = ToolKeyRing.start(at=NOW)
    for n in range(rotations):
        ring.add(ToolKey(kid=f"k{n}", public_jwk="{}", sealed_private="x", added_at=NOW))
    assert ring.current is not None and ring.current.kid == f"k{rotations - 1}"
    assert [k.kid for k in ring.published] == [f"k{n}" for n in range(rotations)][-2:]


def _report() -> ScoreReport:
    link = GradeLink.link(
        enrollment_id=uuid4(),
        platform_id=uuid4(),
        lineitem="https://lms.example.org/li/1",
        at=NOW,
    )
    return ScoreReport.decide(
        link=link,
        candidate_id=uuid4(),
        score_given=50,
        score_maximum=100,
        comment="ok",
        cause="review/7",
        at=NOW,
    )


def test_a_claimed_score_is_not_claimed_again_until_its_lease_ends() -> None:
    report = _report()
    report.claim(poster="a", at=NOW, lease_until=NOW + timedelta(minutes=2))
    with pytest.raises(InvalidArgument):
        report.claim(
            poster="b", at=NOW + timedelta(minutes=1), lease_until=NOW + timedelta(hours=1)
        )
    assert report.is_due(NOW + timedelta(minutes=3))


def test_a_score_failing_is_retried_then_given_up_after_its_last_attempt() -> None:
    report = _report()
    for attempt in range(1, 4):
        report.record_failure(
            at=NOW, error="503", retry_at=NOW + timedelta(minutes=attempt), max_attempts=3
        )
    assert report.status is ScoreStatus.FAILED and report.attempts == 3
    report.record_posted(at=NOW)  # a late success changes nothing once given up
    assert report.status is ScoreStatus.FAILED


def test_a_score_outside_its_range_is_refused() -> None:
    link = GradeLink.link(
        enrollment_id=uuid4(), platform_id=uuid4(), lineitem="https://x/li", at=NOW
    )
    with pytest.raises(InvalidArgument):
        ScoreReport.decide(
            link=link,
            candidate_id=uuid4(),
            score_given=101,
            score_maximum=100,
            comment="",
            cause="c",
            at=NOW,
        )
