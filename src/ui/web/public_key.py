"""The platform's evidence signing key, published for verifiers (issue 14): anyone holding a
bundle checks it was signed by this platform with
`vigie audit verify bundle.zip --public-key <this address>`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from app.evidence_signature import PublicKey
from ui.web.edge import platform_of

KEY_PATH = "/.well-known/vigie-evidence-key"


def _key(request: Request[Any, Any, Any]) -> PublicKey:
    return PublicKey(platform_of(request).signer.public_key())


@get(KEY_PATH, sync_to_thread=True)
def evidence_key(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The public key as JSON: algorithm, fingerprint, PEM and JWK (RFC 8037)."""
    return _key(request).published()


@get(f"{KEY_PATH}.pem", sync_to_thread=True)
def evidence_key_pem(request: Request[Any, Any, Any]) -> Response[str]:
    """The public key alone, as PEM."""
    return Response(_key(request).pem(), media_type="application/x-pem-file")


ROUTES = [evidence_key, evidence_key_pem]
