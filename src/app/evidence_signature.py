"""The platform's signature on an evidence bundle (issue 14), besides its hash chain.

The hash chain shows a bundle is whole; anyone can compute one. The signature shows which
platform made it: `signature.json` holds an Ed25519 signature over `manifest.json`'s exact
bytes (the manifest lists the sha256 of every other file and the chain's head, so signing it
signs them all), with the signing key's public half and its fingerprint. Verifiers get the
platform's public key from `/.well-known/vigie-evidence-key` or `vigie audit public-key`,
and `vigie audit verify --public-key` checks the bundle was signed by that one.

Bundles made before signatures existed have no `signature.json`: their chain still verifies,
with a note that they are not signed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.hash_chain import canonical_json

SIGNATURE = "signature.json"
SIGNED_FILE = "manifest.json"
FORMAT = "vigie-evidence-signature/1"
ALGORITHM = "Ed25519"


class EvidenceSigner(Protocol):
    """The platform's signing key (kept by an adapter, never leaves it)."""

    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        ...


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key as verifiers see it: raw bytes, PEM, JWK, a fingerprint."""

    raw: bytes

    @property
    def fingerprint(self) -> str:
        """sha256 of the raw key, so two keys are told apart at a glance."""
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwk(self) -> dict[str, str]:
        """RFC 8037: an OKP key on Ed25519."""
        return {"kty": "OKP", "crv": ALGORITHM, "x": _b64url(self.raw), "use": "sig"}

    def published(self) -> dict[str, Any]:
        """What the platform publishes for verifiers."""
        return {
            "algorithm": ALGORITHM,
            "fingerprint": self.fingerprint,
            "public_key_pem": self.pem(),
            "jwk": self.jwk(),
        }

    @classmethod
    def parse(cls, text: bytes) -> PublicKey:
        """A key as published: PEM, the JSON of `published()`, or a bare JWK."""
        stripped = text.strip()
        if stripped.startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(stripped)
            if not isinstance(loaded, Ed25519PublicKey):
                raise ValueError("the PEM key is not an Ed25519 public key")
            return cls(
                loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            )
        try:
            document = msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            raise ValueError("neither a PEM public key nor the platform's JSON key") from None
        if isinstance(document, dict) and isinstance(document.get("public_key_pem"), str):
            return cls.parse(document["public_key_pem"].encode())
        jwk = document.get("jwk", document) if isinstance(document, dict) else None
        if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == ALGORITHM:
            raw = _unb64url(str(jwk.get("x", "")))
            if len(raw) == 32:
                return cls(raw)
        raise ValueError("no Ed25519 public key found (PEM, JWK or the platform's JSON)")


def sign_bundle(files: Mapping[str, bytes], signer: EvidenceSigner) -> dict[str, bytes]:
    """The bundle's files with `signature.json` added (the manifest signed as it is)."""
    key = PublicKey(signer.public_key())
    signature = {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "signed_file": SIGNED_FILE,
        "key_fingerprint": key.fingerprint,
        "public_key": base64.b64encode(key.raw).decode(),
        "signature": base64.b64encode(signer.sign(files[SIGNED_FILE])).decode(),
    }
    return {**files, SIGNATURE: canonical_json(signature)}


class Signed(Enum):
    """What the signature check found."""

    VALID = "valid"  # signed, the manifest unchanged since, by the expected key if one was given
    NOT_SIGNED = "not signed"  # an older bundle: only its chain can be checked
    ALTERED = "altered"  # the manifest (or the signature) changed after signing
    OTHER_KEY = "other key"  # a valid signature, but not by the key the verifier trusts
    UNREADABLE = "unreadable"  # signature.json is not one


@dataclass(frozen=True)
class SignatureCheck:
    status: Signed
    fingerprint: str | None = None  # the key the bundle says signed it
    expected: str | None = None  # the key the verifier gave
    detail: str = ""

    @property
    def holds(self) -> bool:
        """Valid; or not signed when no key was asked for (an older bundle)."""
        return self.status is Signed.VALID or (
            self.status is Signed.NOT_SIGNED and self.expected is None
        )


def check_signature(files: Mapping[str, bytes], trusted: PublicKey | None = None) -> SignatureCheck:
    """Check `signature.json` against the manifest, and against `trusted` when given (else
    against the key the bundle carries: it shows the bundle is unchanged since that key
    signed it, not that the key is the platform's)."""
    expected = trusted.fingerprint if trusted else None
    if SIGNATURE not in files:
        return SignatureCheck(Signed.NOT_SIGNED, expected=expected)
    try:
        document = msgspec.json.decode(files[SIGNATURE])
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        if document.get("algorithm") != ALGORITHM or document.get("signed_file") != SIGNED_FILE:
            raise ValueError("an unknown algorithm or signed file")
        carried = PublicKey(base64.b64decode(str(document["public_key"]), validate=True))
        signature = base64.b64decode(str(document["signature"]), validate=True)
        key = Ed25519PublicKey.from_public_bytes(carried.raw)
    except (KeyError, ValueError, msgspec.DecodeError) as error:
        return SignatureCheck(Signed.UNREADABLE, expected=expected, detail=str(error))
    if document.get("key_fingerprint") != carried.fingerprint:
        return SignatureCheck(
            Signed.UNREADABLE,
            fingerprint=carried.fingerprint,
            expected=expected,
            detail="the fingerprint does not match the key it names",
        )
    try:
        key.verify(signature, files.get(SIGNED_FILE, b""))
    except InvalidSignature:
        return SignatureCheck(Signed.ALTERED, fingerprint=carried.fingerprint, expected=expected)
    if trusted is not None and trusted.raw != carried.raw:
        return SignatureCheck(Signed.OTHER_KEY, fingerprint=carried.fingerprint, expected=expected)
    return SignatureCheck(Signed.VALID, fingerprint=carried.fingerprint, expected=expected)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""
