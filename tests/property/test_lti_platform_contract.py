"""The LTI platform client's contract (vigie_contracts.lti_platform), run against the httpx
client talking to the test LMS (tests/lti_platform.py) on 127.0.0.1: real HTTP, real
signatures."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from adapters.lti_client import HttpLtiClient
from tests.lti_platform import CLIENT_ID, COURSE, USERS, serve_platform
from vigie_contracts.lti_platform import *  # noqa: F403 (the packaged contract bodies, collected here)
from vigie_contracts.lti_platform import Harness

TOOL_KEY = RSAKey.generate_key(2048)
OTHER_KEY = RSAKey.generate_key(2048)


def _assertion(key: RSAKey, token_url: str) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode({"alg": "RS256", "kid": "tool"}, claims, key)


@pytest.fixture(scope="module")
def lms() -> Iterator[object]:
    yield from serve_platform("http://127.0.0.1:9", time.time)


@pytest.fixture
def adapter(lms: object) -> Iterator[Harness]:
    from tests.lti_platform import LmsPlatform

    assert isinstance(lms, LmsPlatform)
    public = {**TOOL_KEY.as_dict(private=False), "kid": "tool"}
    lms.tool_key_set = lambda: KeySet.import_key_set({"keys": [public]})

    def busy() -> None:
        lms.score_failures_left = 1

    token_url = f"{lms.url}/token"
    yield Harness(
        client=HttpLtiClient(),
        jwks_url=f"{lms.url}/jwks",
        token_url=token_url,
        assertion=lambda: _assertion(TOOL_KEY, token_url),
        bad_assertion=lambda: _assertion(OTHER_KEY, token_url),
        lineitem=lms.lineitem("contract"),
        user_id="u-alice",
        scores=lambda: list(lms.scores.get("contract", [])),
        memberships_url=f"{lms.url}/contexts/{COURSE}/memberships",
        members=len(USERS),
        unreachable_url="http://127.0.0.1:9/jwks",
        busy=busy,
    )
