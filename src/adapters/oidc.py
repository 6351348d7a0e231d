"""Staff single sign-on through an OpenID Connect provider (issue 16): Keycloak, Entra ID,
Authentik, Zitadel, Google Workspace, node-oidc-provider in the tests — any that publishes its
discovery document.

The authorization code flow with PKCE (S256), a `state` that ties the answer to the browser
that asked, and a `nonce` that ties the ID token to this sign-in. authlib builds the request,
exchanges the code and validates the ID token's claims (issuer, audience, expiry, nonce,
at_hash); joserfc checks its signature against the provider's JWKS, fetched again once when
the token names a key not seen yet (the provider rotated its keys). The groups and e-mail may
come in the ID token or only from the userinfo endpoint (node-oidc-provider and many others
keep profile claims there in the code flow): both are read, and userinfo must speak of the
same subject.

HTTP is synchronous (requests, through authlib's session): the web handlers that call this run
in worker threads."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.use_cases.single_sign_on import ProviderIdentity
from domain.staff_groups import GroupRoles

TIMEOUT_S = 10.0
LEEWAY_S = 60  # clocks of the provider and of Vigie may differ a little
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class OidcSettings:
    """VIGIE_OIDC_*: the provider, this platform's client there, and the group mapping."""

    issuer: str
    client_id: str
    client_secret: str
    groups: GroupRoles
    name: str = ""  # shown on the log-in page: « Sign in with <name> »
    scopes: str = "openid email profile groups"
    groups_claim: str = "groups"

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            raise ValueError("VIGIE_OIDC_ISSUER: an https:// address (http:// only on loopback)")
        if not self.client_id or not self.client_secret:
            raise ValueError("VIGIE_OIDC_CLIENT_ID, VIGIE_OIDC_CLIENT_SECRET: both are required")
        if "openid" not in self.scopes.split():
            raise ValueError("VIGIE_OIDC_SCOPES: must include openid")

    @property
    def display_name(self) -> str:
        return self.name or urlsplit(self.issuer).hostname or self.issuer


@dataclass(frozen=True)
class Pending:
    """What the browser's session keeps between leaving for the provider and coming back:
    never sent anywhere but to the provider (the challenge, not the verifier)."""

    state: str
    nonce: str
    verifier: str


class SignInFailed(Exception):
    """The provider's answer could not be trusted or used (for the log; the page says it
    plainly): a provider error, a refused code, a bad signature, a wrong nonce..."""


class OpenIdProvider:
    """This platform as a relying party of one provider."""

    def __init__(self, settings: OidcSettings, *, timeout: float = TIMEOUT_S) -> None:
        self.settings = settings
        self._timeout = timeout
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.settings.display_name

    def _session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.settings.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def metadata(self) -> dict[str, Any]:
        """The discovery document, read once; its issuer must be the configured one
        (OpenID Connect Discovery 4.3), or every token it signs would be refused anyway."""
        with self._lock:
            if self._metadata is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = self._get_json(url)
                if found.get("issuer") != self.settings.issuer:
                    raise SignInFailed(
                        f"discovery names issuer {found.get('issuer')!r}, "
                        f"not {self.settings.issuer!r}"
                    )
                self._metadata = found
            return self._metadata

    def _get_json(self, url: str) -> dict[str, Any]:
        with self._session("") as session:
            try:
                response = session.get(url, timeout=self._timeout, withhold_token=True)
                response.raise_for_status()
                found = response.json()
            except Exception as error:  # network, status or JSON: the provider is not usable
                raise SignInFailed(f"{url}: {error}") from error
        if not isinstance(found, dict):
            raise SignInFailed(f"{url}: not a JSON object")
        return found

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            self._jwks = self._get_json(self.metadata()["jwks_uri"])
        return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]

    def begin(self, redirect_uri: str, *, language: str) -> tuple[str, Pending]:
        """The provider's authorization address to send the browser to, and what to keep
        until it comes back. `language` asks the provider's pages to speak it (ui_locales)."""
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 wants 43 to 128
        )
        with self._session(redirect_uri) as session:
            url, _ = session.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.verifier,
                nonce=pending.nonce,
                ui_locales=language,
            )
        return str(url), pending

    def finish(self, *, code: str, pending: Pending, redirect_uri: str) -> ProviderIdentity:
        """Exchange the code (with the PKCE verifier), verify the ID token (signature against
        the JWKS, issuer, audience, expiry, nonce), and read who signed in. The caller has
        checked `state` already."""
        metadata = self.metadata()
        with self._session(redirect_uri) as session:
            try:
                token = session.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=pending.verifier,
                    grant_type="authorization_code",
                    timeout=self._timeout,
                )
            except Exception as error:  # the provider refused the code, or did not answer
                raise SignInFailed(f"token endpoint: {error}") from error
            if "id_token" not in token:
                raise SignInFailed("the token response has no id_token")
            claims = self.id_token_claims(token, pending.nonce)
            userinfo = self._userinfo(session, metadata, claims["sub"])
        merged = {**claims, **userinfo}
        groups = _claim_at(merged, self.settings.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list):
            groups = []
        return ProviderIdentity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=str(merged["email"]) if merged.get("email") else None,
            # A few providers send the boolean as a string.
            email_verified=merged.get("email_verified") in (True, "true"),
            name=str(merged.get("name") or ""),
            groups=tuple(str(g) for g in groups if isinstance(g, str | int)),
        )

    def id_token_claims(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The claims of the token response's ID token, once its signature holds against the
        provider's JWKS and its issuer, audience, expiry and nonce are this sign-in's
        (SignInFailed otherwise)."""
        metadata = self.metadata()
        registry = JWSRegistry(
            algorithms=metadata.get("id_token_signing_alg_values_supported") or ["RS256"],
            strict_check_header=False,
        )
        try:
            try:
                decoded = jwt.decode(token["id_token"], self._key_set(), registry=registry)
            except InvalidKeyIdError:  # signed with a key published since: read the JWKS again
                decoded = jwt.decode(
                    token["id_token"], self._key_set(refresh=True), registry=registry
                )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.settings.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=LEEWAY_S)
        except (JoseError, ValueError) as error:
            raise SignInFailed(f"id_token: {error}") from error
        return dict(claims)

    def _userinfo(
        self, session: OAuth2Session, metadata: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            response = session.get(endpoint, timeout=self._timeout)
            response.raise_for_status()
            found = response.json()
        except Exception as error:
            raise SignInFailed(f"userinfo: {error}") from error
        if not isinstance(found, dict) or found.get("sub") != subject:
            raise SignInFailed("userinfo speaks of another subject (OpenID Connect 5.3.2)")
        return found


def _claim_at(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (Keycloak's client roles:
    `resource_access.vigie.roles`, its realm roles: `realm_access.roles`)."""
    if path in claims:
        return claims[path]
    found: Any = claims
    for part in path.split("."):
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found
