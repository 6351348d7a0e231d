"""A compact LTI 1.3 platform (a test LMS) served on 127.0.0.1, for the LTI tests (issue 16).

It does what Moodle does for a tool, over real HTTP with real signatures (joserfc):
- a course page link that starts the third-party initiated login at the tool (`/course`);
- the OIDC authorisation endpoint (`/auth`): checks the tool's request (client id, redirect
  URI, response type and mode, scope, nonce, state) and answers the id_token in an
  auto-submitted form post, as a platform does;
- its key set (`/jwks`), a key it can rotate;
- the token endpoint (`/token`): the client-credentials grant with a JWT assertion it verifies
  against the tool's published key set (fetched from the tool's URL);
- AGS line items' scores (`/lineitems/<id>/scores`, bearer token with the score scope), which
  can be told to fail the first N posts (503) to see the tool retry;
- NRPS memberships (`/contexts/<id>/memberships`, two pages linked by `Link: rel="next"`);
- the Deep Linking return (`/deep-link-return`): verifies the tool's signed response.

Tests also build id_tokens by hand (`id_token(...)`) to send forged or stale ones.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
CLIENT_ID = "vigie-tool"
DEPLOYMENT = "deployment-1"
COURSE = "course-101"


@dataclass
class User:
    sub: str
    email: str
    given_name: str
    family_name: str
    locale: str
    role: str


USERS = {
    "alice": User("u-alice", "alice.durand@example.org", "Alice", "Durand", "en-GB", LEARNER),
    "bruno": User("u-bruno", "bruno.petit@example.org", "Bruno", "Petit", "fr-FR", LEARNER),
    "noemail": User("u-noemail", "", "Nora", "Sans", "fr-FR", LEARNER),
    "teacher": User("u-teacher", "prof@example.org", "Paul", "Prof", "en-US", INSTRUCTOR),
}


@dataclass
class LmsPlatform:
    """The platform's state, read by the tests."""

    tool_url: str = ""  # the tool's base URL (login, launch and key set under it)
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048))
    kid: str = "platform-key-1"
    deployment: str = DEPLOYMENT
    certification: str = "ENI-ACCESS"
    scores: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    score_failures_left: int = 0
    refused_posts: int = 0
    tokens: dict[str, set[str]] = field(default_factory=dict)
    deep_links: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every id_token the auth endpoint gave
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The platform's clock: the tool's own in the tests (its clock is a test's to move).
    clock: Callable[[], float] = time.time
    # The tool's public keys, when no tool serves them (the client's contract signs its own).
    tool_key_set: Callable[[], KeySet] | None = None

    @property
    def issuer(self) -> str:
        return self.url

    def key_set(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "kid": self.kid, "alg": "RS256"}]}

    def rotate(self) -> None:
        self.key = RSAKey.generate_key(2048)
        self.kid = f"platform-key-{uuid.uuid4().hex[:6]}"

    def lineitem(self, link: str) -> str:
        return f"{self.url}/lineitems/{link}?course={COURSE}"

    def id_token(
        self,
        user: str,
        nonce: str,
        *,
        link: str = "rl-1",
        deep_linking: bool = False,
        key: RSAKey | None = None,
        **overrides: Any,
    ) -> str:
        """An id_token as the auth endpoint makes it (`overrides` replace claims)."""
        person = USERS[user]
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": person.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": person.email,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "name": f"{person.given_name} {person.family_name}",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment,
            CLAIM + "roles": [person.role],
            CLAIM + "context": {"id": COURSE, "title": "Bureautique 101"},
            CLAIM + "launch_presentation": {"locale": person.locale},
            NRPS: {
                "context_memberships_url": f"{self.url}/contexts/{COURSE}/memberships",
                "service_versions": ["2.0"],
            },
        }
        if deep_linking:
            claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
            claims[DL + "deep_linking_settings"] = {
                "deep_link_return_url": f"{self.url}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window"],
                "data": "opaque-dl-data",
            }
        else:
            claims[CLAIM + "message_type"] = "LtiResourceLinkRequest"
            claims[CLAIM + "target_link_uri"] = f"{self.tool_url}/lti/launch"
            claims[CLAIM + "resource_link"] = {"id": link, "title": "Examen Access"}
            claims[CLAIM + "custom"] = {"certification": self.certification}
            claims[AGS] = {
                "scope": [SCORE_SCOPE],
                "lineitem": self.lineitem(link),
            }
        claims.update(overrides)
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key or self.key)

    def tool_keys(self) -> KeySet:
        if self.tool_key_set is not None:
            return self.tool_key_set()
        answer = httpx.get(f"{self.tool_url}/lti/jwks", timeout=10)
        answer.raise_for_status()
        return KeySet.import_key_set(answer.json())

    def login_url(self, user: str, *, message_hint: str = "rl-1") -> str:
        """Where the course page sends the browser: the tool's login initiation."""
        query = {
            "iss": self.issuer,
            "login_hint": user,
            "target_link_uri": f"{self.tool_url}/lti/launch",
            "lti_message_hint": message_hint,
            "client_id": CLIENT_ID,
            "lti_deployment_id": self.deployment,
        }
        return f"{self.tool_url}/lti/login?{urlencode(query)}"


def _handler(platform: LmsPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: str | bytes, kind: str = "text/html") -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for name, v in (headers or {}).items():
                self.send_header(name, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def _bearer(self, scope: str) -> bool:
            token = self.headers.get("authorization", "").removeprefix("Bearer ")
            return scope in platform.tokens.get(token, set())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            elif parts.path == "/jwks":
                self._json(200, platform.key_set())
            elif parts.path == "/course":
                user, link = query.get("user", "alice"), query.get("link", "rl-1")
                self.send_response(302)
                self.send_header("location", platform.login_url(user, message_hint=link))
                self.end_headers()
            elif parts.path == "/gradebook":
                rows = "".join(
                    f"<tr><td>{html.escape(s['userId'])}</td><td>{s['scoreGiven']}</td>"
                    f"<td>{s['scoreMaximum']}</td><td>{html.escape(s['comment'])}</td></tr>"
                    for scores in platform.scores.values()
                    for s in scores
                )
                self._send(200, f"<!doctype html><title>Grades</title><table>{rows}</table>")
            elif parts.path == "/auth":
                self._auth(query)
            elif parts.path.startswith("/contexts/") and parts.path.endswith("/memberships"):
                self._memberships(query)
            else:
                self._send(404, "not found")

        def _auth(self, query: dict[str, str]) -> None:
            """The OIDC authorisation endpoint, as the LTI security framework (5.1.1.2)."""
            expected = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": CLIENT_ID,
                "redirect_uri": f"{platform.tool_url}/lti/launch",
            }
            wrong = [k for k, v in expected.items() if query.get(k) != v]
            if wrong or not query.get("nonce") or not query.get("state"):
                self._send(400, f"bad authentication request: {wrong or 'nonce/state'}")
                return
            user = query.get("login_hint", "")
            if user not in USERS:
                self._send(403, "unknown user")
                return
            hint = query.get("lti_message_hint", "rl-1")
            token = platform.id_token(
                user, query["nonce"], link=hint, deep_linking=hint == "deep-link"
            )
            with platform.lock:
                platform.issued.append(token)
            # The platform's page: a form posted at once by its own script (as Moodle's).
            page = (
                "<!doctype html><html><body>"
                f'<form id="f" method="post" action="{html.escape(expected["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                '<button type="submit">Continue</button></form>'
                "<script>document.getElementById('f').submit()</script></body></html>"
            )
            self._send(200, page)

        def _memberships(self, query: dict[str, str]) -> None:
            if not self._bearer(ROSTER_SCOPE):
                self._json(401, {"error": "invalid_token"})
                return
            people = list(USERS.values())
            page = int(query.get("page", "1"))
            half = len(people) // 2
            members = people[:half] if page == 1 else people[half:]
            headers = {}
            if page == 1:
                url = f"{platform.url}/contexts/{COURSE}/memberships?page=2"
                headers["link"] = f'<{url}>; rel="next"'
            self._json(
                200,
                {
                    "id": f"{platform.url}/contexts/{COURSE}/memberships",
                    "context": {"id": COURSE, "title": "Bureautique 101"},
                    "members": [
                        {
                            "status": "Active",
                            "user_id": p.sub,
                            "name": f"{p.given_name} {p.family_name}",
                            "email": p.email,
                            "roles": [p.role],
                        }
                        for p in members
                    ],
                },
                headers,
            )

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/token":
                self._token(self._form())
            elif parts.path.startswith("/lineitems/") and parts.path.endswith("/scores"):
                self._score(parts.path.removesuffix("/scores").removeprefix("/lineitems/"))
            elif parts.path == "/deep-link-return":
                self._deep_link(self._form())
            else:
                self._send(404, "not found")

        def _token(self, form: dict[str, str]) -> None:
            """The client-credentials grant with a JWT assertion (RFC 7523), verified against
            the tool's published keys."""
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ):
                self._json(400, {"error": "unsupported_grant_type"})
                return
            try:
                claims = jwt.decode(
                    form.get("client_assertion", ""), platform.tool_keys(), algorithms=["RS256"]
                ).claims
            except Exception as error:
                self._json(401, {"error": "invalid_client", "detail": str(error)})
                return
            now = platform.clock()
            if (
                claims.get("iss") != CLIENT_ID
                or claims.get("sub") != CLIENT_ID
                or claims.get("aud") != f"{platform.url}/token"
                or not claims.get("exp", 0) > now
            ):
                self._json(401, {"error": "invalid_client"})
                return
            token = secrets.token_urlsafe(16)
            platform.tokens[token] = set(form.get("scope", "").split())
            self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

        def _score(self, lineitem: str) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self._bearer(SCORE_SCOPE):
                self._json(401, {"error": "invalid_token"})
                return
            if self.headers.get("content-type") != "application/vnd.ims.lis.v1.score+json":
                self._json(415, {"error": "score+json expected"})
                return
            with platform.lock:
                if platform.score_failures_left > 0:
                    platform.score_failures_left -= 1
                    platform.refused_posts += 1
                    self._json(503, {"error": "busy"})
                    return
                platform.scores.setdefault(lineitem, []).append(body)
            self._send(204, b"")

        def _deep_link(self, form: dict[str, str]) -> None:
            try:
                claims = jwt.decode(
                    form.get("JWT", ""), platform.tool_keys(), algorithms=["RS256"]
                ).claims
            except Exception as error:
                self._send(401, f"bad deep linking response: {error}")
                return
            if (
                claims.get("iss") != CLIENT_ID
                or claims.get("aud") != platform.issuer
                or claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse"
                or claims.get(DL + "data") != "opaque-dl-data"
            ):
                self._send(400, "not a deep linking response for this platform")
                return
            items = claims.get(DL + "content_items") or []
            with platform.lock:
                platform.deep_links.extend(items)
            titles = ", ".join(html.escape(str(i.get("title"))) for i in items)
            self._send(
                200, f"<!doctype html><title>Course</title><h1>Activity added: {titles}</h1>"
            )

    return Handler


def serve_platform(tool_url: str, clock: Callable[[], float]) -> Iterator[LmsPlatform]:
    """The test platform on 127.0.0.1 (a free port) until the generator is closed."""
    platform = LmsPlatform(tool_url=tool_url, clock=clock)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
