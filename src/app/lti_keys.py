"""Vigie's signing keys as an LTI tool (issue 16), published as a JWKS and rotated.

The key ring is a stream of the log (domain.lti.ToolKeyRing): every web process and worker
signs with its newest key, and publishes the last two, whatever machine made them. A private
key is never in the log in clear: it is sealed (AES-256-GCM) with the ring's key from the
key store (app.ports.key_store, the same store as the candidates' keys, kept out of the log's
backups), bound to its key id.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.context import Context
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict
from app.ports.key_store import KeyStore
from domain.lti import KEY_RING_ID, ToolKey, ToolKeyRing

RSA_BITS = 2048  # RS256, the algorithm every LTI 1.3 platform accepts
NONCE_BYTES = 12
ALGORITHM = "RS256"


class KeyStoreErased(RuntimeError):
    """The ring's key is gone from the key store: no key can be opened (rotate)."""


class ToolKeys:
    """The tool's key ring: sign, publish, rotate."""

    def __init__(self, ctx: Context, keys: KeyStore) -> None:
        self.ctx = ctx
        self.keys = keys
        self._opened: dict[str, RSAKey] = {}

    def _ring_key(self) -> bytes:
        key = self.keys.key_for(KEY_RING_ID)
        if key is None:
            raise KeyStoreErased("the LTI key ring's sealing key was destroyed")
        return key

    def ring(self) -> ToolKeyRing | None:
        try:
            return self.ctx.store.get(KEY_RING_ID, ToolKeyRing)
        except AggregateNotFound:
            return None

    def rotate(self, *, first: bool = False) -> ToolKey:
        """A new signing key; the previous one stays published until the next rotation. With
        `first`, only if the ring has none yet (two processes starting at once make one)."""
        for _ in range(5):
            ring = self.ring() or ToolKeyRing.start(at=self.ctx.now())
            if first and ring.current is not None:
                return ring.current
            private = RSAKey.generate_key(RSA_BITS)
            kid = private.thumbprint()
            public = {**private.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
            pem = private.as_pem(private=True)
            nonce = os.urandom(NONCE_BYTES)
            sealed = AESGCM(self._ring_key()).encrypt(nonce, pem, kid.encode())
            key = ToolKey(
                kid=kid,
                public_jwk=json.dumps(public, sort_keys=True),
                sealed_private=base64.b64encode(nonce + sealed).decode(),
                added_at=self.ctx.now(),
            )
            ring.add(key)
            try:
                self.ctx.store.save(ring)
            except ConcurrencyConflict:
                continue  # another process rotated (or started the ring) first: again
            self._opened[kid] = private
            return key
        raise ConcurrencyConflict("the key ring kept changing under us")

    def current(self) -> tuple[str, RSAKey]:
        """The newest key (made on first use), opened."""
        ring = self.ring()
        key = ring.current if ring is not None else None
        if key is None:
            key = self.rotate(first=True)
        opened = self._opened.get(key.kid)
        if opened is None:
            raw = base64.b64decode(key.sealed_private)
            pem = AESGCM(self._ring_key()).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], key.kid.encode()
            )
            opened = self._opened.setdefault(key.kid, RSAKey.import_key(pem))
        return key.kid, opened

    def jwks(self) -> dict[str, Any]:
        """The published key set (the current key and the previous one)."""
        ring = self.ring()
        if ring is None or ring.current is None:
            self.rotate(first=True)
            ring = self.ring()
        published = ring.published if ring is not None else ()
        return {"keys": [json.loads(k.public_jwk) for k in published]}

    def sign(self, claims: dict[str, Any]) -> str:
        """A JWT signed with the current key, its id in the header."""
        kid, key = self.current()
        return jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": "JWT"}, claims, key)

    def client_assertion(self, client_id: str, token_url: str) -> str:
        """The client-credentials assertion (RFC 7523) a token endpoint asks for."""
        now = int(self.ctx.clock.now().timestamp())
        return self.sign(
            {
                "iss": client_id,
                "sub": client_id,
                "aud": token_url,
                "iat": now,
                "exp": now + 300,
                "jti": uuid4().hex,
            }
        )
