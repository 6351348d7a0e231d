"""The LTI platform client's contract (issue 16): what Vigie, as an LTI 1.3 tool, needs from
the client that calls learning platforms. Its key set is read; a token is granted for a
signed client assertion and refused for a bad one; a score reaches the line item; a busy
platform (503) is "unreachable", to be retried, never "refused"; a token without the score
scope is refused; every page of a roster is read; an address where nothing answers is
unreachable.

The `adapter` is a `Harness`: the client, and an LTI platform it talks to with what the
tests need to know of it (Vigie's own runs against the test platform of tests/lti_platform.py
on 127.0.0.1; an operator's may point at a Moodle on a test machine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.ports.lti_platform import LtiPlatformClient, PlatformRefused, PlatformUnreachable

__all__ = [
    "test_a_bad_assertion_is_refused_for_good",
    "test_a_busy_platform_is_unreachable_and_the_next_post_goes_through",
    "test_a_score_reaches_the_line_item",
    "test_a_token_without_the_score_scope_cannot_post_a_score",
    "test_an_address_where_nothing_answers_is_unreachable",
    "test_every_page_of_a_roster_is_read",
    "test_the_platforms_key_set_is_read",
]

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass(frozen=True)
class Harness:
    """A client and the platform it talks to."""

    client: LtiPlatformClient
    jwks_url: str
    token_url: str
    assertion: Callable[[], str]  # a client assertion the platform accepts
    bad_assertion: Callable[[], str]  # one it must refuse (signed by another key)
    lineitem: str
    user_id: str  # a member of the line item's course
    scores: Callable[[], list[dict[str, Any]]]  # what reached the line item, oldest first
    memberships_url: str
    members: int  # how many members the roster holds, over all its pages
    unreachable_url: str  # where nothing answers
    busy: Callable[[], None]  # the next score post is answered 503

    def close(self) -> None:
        """Nothing to release by default (a platform the factory started stops with it)."""


def _score(harness: Harness, given: float) -> dict[str, Any]:
    return {
        "userId": harness.user_id,
        "scoreGiven": given,
        "scoreMaximum": 100.0,
        "comment": "contract",
        "timestamp": "2025-03-04T09:00:00+01:00",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }


def _token(harness: Harness, *scopes: str) -> str:
    return harness.client.access_token(harness.token_url, harness.assertion(), list(scopes))


def test_the_platforms_key_set_is_read(adapter: Harness) -> None:
    keys = adapter.client.key_set(adapter.jwks_url)
    assert keys["keys"] and all("kty" in key for key in keys["keys"])
    assert adapter.client.key_set(adapter.jwks_url, refresh=True)["keys"]


def test_an_address_where_nothing_answers_is_unreachable(adapter: Harness) -> None:
    with pytest.raises(PlatformUnreachable):
        adapter.client.key_set(adapter.unreachable_url)


def test_a_bad_assertion_is_refused_for_good(adapter: Harness) -> None:
    with pytest.raises(PlatformRefused):
        adapter.client.access_token(adapter.token_url, adapter.bad_assertion(), [ROSTER_SCOPE])


def test_a_score_reaches_the_line_item(adapter: Harness) -> None:
    before = len(adapter.scores())
    adapter.client.post_score(adapter.lineitem, _token(adapter, SCORE_SCOPE), _score(adapter, 75))
    arrived = adapter.scores()[before:]
    assert [(s["userId"], s["scoreGiven"]) for s in arrived] == [(adapter.user_id, 75.0)]


def test_a_busy_platform_is_unreachable_and_the_next_post_goes_through(
    adapter: Harness,
) -> None:
    token = _token(adapter, SCORE_SCOPE)
    before = len(adapter.scores())
    adapter.busy()
    with pytest.raises(PlatformUnreachable):
        adapter.client.post_score(adapter.lineitem, token, _score(adapter, 40))
    adapter.client.post_score(adapter.lineitem, token, _score(adapter, 40))
    assert len(adapter.scores()) == before + 1


def test_a_token_without_the_score_scope_cannot_post_a_score(adapter: Harness) -> None:
    with pytest.raises(PlatformRefused):
        adapter.client.post_score(
            adapter.lineitem, _token(adapter, ROSTER_SCOPE), _score(adapter, 10)
        )


def test_every_page_of_a_roster_is_read(adapter: Harness) -> None:
    roster = adapter.client.memberships(adapter.memberships_url, _token(adapter, ROSTER_SCOPE))
    assert len(roster["members"]) == adapter.members
    assert len({m["user_id"] for m in roster["members"]}) == adapter.members
