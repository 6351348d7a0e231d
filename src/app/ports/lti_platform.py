"""The LTI platform port (issue 16): what Vigie, as a tool, asks of a learning platform over
HTTP. Its key set (to verify launches), an access token (the client-credentials grant with a
signed assertion), a score posted to a line item, the roster of a course."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class PlatformUnreachable(Exception):
    """The platform did not answer, or answered 5xx / 429: try again later."""


class PlatformRefused(Exception):
    """The platform refused the request for good (4xx other than 429)."""


class LtiPlatformClient(Protocol):
    """HTTP calls to registered platforms."""

    def key_set(self, jwks_url: str, *, refresh: bool = False) -> dict[str, Any]:
        """The platform's public keys (a JWKS), cached a while unless `refresh`."""
        ...

    def access_token(self, token_url: str, assertion: str, scopes: Sequence[str]) -> str:
        """A bearer token for these scopes, granted for the signed client assertion."""
        ...

    def post_score(self, lineitem: str, token: str, score: dict[str, Any]) -> None:
        """Post one score to `<lineitem>/scores` (AGS)."""
        ...

    def memberships(self, url: str, token: str) -> dict[str, Any]:
        """A course's roster (NRPS), every page followed."""
        ...
