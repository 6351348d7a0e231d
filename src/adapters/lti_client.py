"""The LTI platform port over HTTP (httpx, issue 16): key sets cached for five minutes, an
access token per scope set until it nears its expiry, scores and rosters as the AGS and
NRPS specifications say. A platform that does not answer, or answers 5xx or 429, is
`PlatformUnreachable` (the worker retries); any other refusal is `PlatformRefused`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.ports.lti_platform import PlatformRefused, PlatformUnreachable

# httpx logs every request at INFO, in its own format, beside `vigie.*` lines: the platform
# calls are counted in our own words (the worker's "scores posted" lines) instead.
logging.getLogger("httpx").setLevel(logging.WARNING)

KEY_SET_SECONDS = 300.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_ROSTER_PAGES = 100


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 500 or response.status_code == 429:
        raise PlatformUnreachable(f"{response.request.url} answered {response.status_code}")
    if response.status_code >= 400:
        raise PlatformRefused(
            f"{response.request.url} answered {response.status_code}: {response.text[:200]}"
        )
    return response


def scores_url(lineitem: str) -> str:
    """`<lineitem>/scores`, the line item's query string kept after the path (AGS 3.4)."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


class HttpLtiClient:
    """LtiPlatformClient with httpx."""

    def __init__(self, *, monotonic: Any = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._key_sets: dict[str, tuple[float, dict[str, Any]]] = {}
        self._tokens: dict[tuple[str, tuple[str, ...]], tuple[float, str]] = {}

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
                return _checked(http.request(method, url, **kwargs))
        except httpx.HTTPError as error:
            raise PlatformUnreachable(f"{url}: {error}") from error

    def key_set(self, jwks_url: str, *, refresh: bool = False) -> dict[str, Any]:
        now = self._monotonic()
        with self._lock:
            cached = self._key_sets.get(jwks_url)
        if cached is not None and not refresh and now - cached[0] < KEY_SET_SECONDS:
            return cached[1]
        keys = self._call("GET", jwks_url, headers={"accept": "application/json"}).json()
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise PlatformRefused(f"{jwks_url} is not a key set")
        with self._lock:
            self._key_sets[jwks_url] = (now, keys)
        return keys

    def access_token(self, token_url: str, assertion: str, scopes: Sequence[str]) -> str:
        key = (token_url, tuple(sorted(scopes)))
        now = self._monotonic()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        answer = self._call(
            "POST",
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(key[1]),
            },
        ).json()
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformRefused(f"{token_url} granted no access token")
        lifetime = answer.get("expires_in", 3600)
        lifetime = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        with self._lock:  # a minute's margin: a token never expires mid-request
            self._tokens[key] = (now + max(0.0, lifetime - 60), token)
        return token

    def post_score(self, lineitem: str, token: str, score: dict[str, Any]) -> None:
        self._call(
            "POST",
            scores_url(lineitem),
            json=score,
            headers={"authorization": f"Bearer {token}", "content-type": SCORE_TYPE},
        )

    def memberships(self, url: str, token: str) -> dict[str, Any]:
        members: list[Any] = []
        context: dict[str, Any] = {}
        next_url: str | None = url
        for _ in range(MAX_ROSTER_PAGES):
            if next_url is None:
                break
            response = self._call(
                "GET",
                next_url,
                headers={"authorization": f"Bearer {token}", "accept": MEMBERSHIPS_TYPE},
            )
            page = response.json()
            if not isinstance(page, dict):
                raise PlatformRefused(f"{next_url} is not a membership container")
            context = page.get("context") or context
            members.extend(page.get("members") or [])
            link = response.links.get("next")
            next_url = link.get("url") if link else None
        return {"context": context, "members": members}
