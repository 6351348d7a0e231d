"""Issue 14: evidence bundles are signed with the platform's Ed25519 key besides their hash
chain; the public key is published (`vigie audit public-key`, /.well-known/vigie-evidence-key)
and `vigie audit verify --public-key` says which check failed: the chain, the signature, or
the key that signed."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import stat
import threading
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Settings, bootstrap
from adapters.clock import ManualClock
from adapters.evidence_key import EphemeralEvidenceKey, FileEvidenceKey
from app.evidence_signature import SIGNATURE, PublicKey, Signed, check_signature, sign_bundle
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.bundle_io import read_bundle, write_bundle
from ui.cli import main
from ui.journey import PARIS, Plan, decided_journey, platform_with_examiner
from ui.web.app import create_app

CLEAN = Plan(False, [], False, False, False)


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, Path]]:
    """A decided review in a SQLite file, its bundle exported as a folder, and the platform's
    public key as `vigie audit public-key` prints it."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        review = decided_journey(platform, CLEAN, examiner)
    folder = tmp_path / "bundle"
    assert main(["--database-url", url, "audit", "export", str(review), "-o", str(folder)]) == 0
    key = tmp_path / "platform.pem"
    with key.open("w") as handle, contextlib.redirect_stdout(handle):
        assert main(["--database-url", url, "audit", "public-key"]) == 0
    yield url, folder, key


def verify(bundle: Path, capsys: pytest.CaptureFixture[str], *key: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify", str(bundle), *(("--public-key", key[0]) if key else ())])
    return code, capsys.readouterr().out


def test_an_exported_bundle_is_signed_by_the_platform_key(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, folder, key = exported
    code, out = verify(folder, capsys, str(key))
    fingerprint = PublicKey.parse(key.read_bytes()).fingerprint
    assert code == 0, out
    assert "chain: INTACT" in out
    assert f"signature: VALID: signed by {fingerprint} (the key given)" in out
    # The key was generated once and kept with the other secrets, readable by its owner only.
    kept = Path(url.removeprefix("sqlite:///")).parent / "evidence-signing-key.pem"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert PublicKey(FileEvidenceKey(kept).public_key()).fingerprint == fingerprint


def test_a_tampered_manifest_fails_the_signature_though_the_chain_holds(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder, key = exported
    manifest = json.loads((folder / "manifest.json").read_bytes())
    manifest["review_id"] = str(UUID(int=1))  # not one of the chain's checks: only signed
    (folder / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    code, out = verify(folder, capsys, str(key))
    assert code == 1
    assert "chain: INTACT" in out
    assert "signature: FAILED: manifest.json (or the signature) was changed after signing" in out
    assert out.rstrip().endswith("ALTERED")


def test_an_altered_event_fails_the_chain_and_says_the_signature_still_holds(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder, key = exported
    lines = (folder / "events.jsonl").read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"timestamp":"', b'"timestamp":"1', 1)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines))
    code, out = verify(folder, capsys, str(key))
    assert code == 1
    assert "chain: ALTERED: first altered entry: events.jsonl line 2" in out
    assert "signature: VALID" in out  # the manifest is as signed: the events file is not


def test_a_bundle_signed_by_another_key_names_that_key(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, folder, key = exported
    impostor = EphemeralEvidenceKey()
    files = sign_bundle(read_bundle(folder), impostor)
    resigned = write_bundle(files, tmp_path / "resigned.zip")
    code, out = verify(resigned, capsys, str(key))
    theirs = PublicKey(impostor.public_key()).fingerprint
    ours = PublicKey.parse(key.read_bytes()).fingerprint
    assert code == 1
    assert f"signature: OTHER KEY: signed by {theirs}, not by the key given {ours}" in out
    assert out.rstrip().endswith("NOT VERIFIED: whole, but not shown to come from the key given")
    # Without a key to compare, it only shows the bundle is unchanged since that key signed.
    code, out = verify(resigned, capsys)
    assert code == 0 and "pass --public-key to check it is the platform's" in out


def test_an_older_unsigned_bundle_still_verifies_its_chain_with_a_note(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder, key = exported
    (folder / SIGNATURE).unlink()
    code, out = verify(folder, capsys)
    assert code == 0
    assert (
        "chain: INTACT" in out and "NOT SIGNED (an older bundle): only its chain is checked" in out
    )
    # Asked to prove it comes from the platform, an unsigned bundle cannot.
    code, out = verify(folder, capsys, str(key))
    assert code == 1 and "NOT SIGNED: nothing shows this bundle comes from the key given" in out


def test_a_forged_signature_file_is_unreadable_not_a_crash(
    exported: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder, key = exported
    (folder / SIGNATURE).write_text('{"format": "vigie-evidence-signature/1", "signature": 1}')
    code, out = verify(folder, capsys, str(key))
    assert code == 1 and "signature: UNREADABLE" in out


def test_the_key_is_created_once_even_by_two_processes_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "evidence-signing-key.pem"
    keys = [FileEvidenceKey(path) for _ in range(4)]
    found: list[bytes] = []
    threads = [threading.Thread(target=lambda k=k: found.append(k.public_key())) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # nothing left aside
    assert FileEvidenceKey(path).public_key() == found[0]


def test_the_platform_publishes_its_key_and_the_auditor_download_is_signed_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The auditor's download verifies against the key fetched from the platform's address
    (`--public-key URL`), as an outside verifier would."""
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        review = decided_journey(platform, CLEAN, examiner)
    platform = bootstrap(
        Settings(database_url=url, media_root=None, secret_key="k" * 32, launcher="memory"),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
    )
    try:
        accounts.register_staff(
            platform.ctx,
            email="audit@example.org",
            name="Audit",
            role=Role.AUDITOR,
            password="auditor-pass-1",
        )
        app = create_app(platform, secret=b"k" * 32, support=SupportContact())
        with TestClient(app) as client:
            published = client.get("/.well-known/vigie-evidence-key")
            assert published.status_code == 200
            document = published.json()
            assert document["algorithm"] == "Ed25519"
            assert document["jwk"]["kty"] == "OKP" and document["jwk"]["crv"] == "Ed25519"
            pem = client.get("/.well-known/vigie-evidence-key.pem").text
            assert PublicKey.parse(pem.encode()).fingerprint == document["fingerprint"]
            log_in(client, "/staff/login", "audit@example.org", "auditor-pass-1")
            download = client.get(f"/auditor/reviews/{review}/bundle")
            assert download.status_code == 200
    finally:
        platform.close()
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    trusted = PublicKey.parse(published.content)
    assert check_signature(files, trusted).status is Signed.VALID
    archive_path = tmp_path / "download.zip"
    archive_path.write_bytes(download.content)
    with _Serving(published.content) as key_url:
        code, out = verify(archive_path, capsys, key_url)
    assert code == 0, out
    assert f"signed by {document['fingerprint']} (the key given)" in out


class _KeyHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        return


class _Serving:
    """The published key on a local address, as the platform would serve it."""

    def __init__(self, body: bytes) -> None:
        handler = type("Handler", (_KeyHandler,), {"body": body})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/vigie-evidence-key"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_public_key_parses_pem_json_and_jwk_alike() -> None:
    key = PublicKey(EphemeralEvidenceKey().public_key())
    published = json.dumps(key.published()).encode()
    assert PublicKey.parse(key.pem().encode()) == key
    assert PublicKey.parse(published) == key
    assert PublicKey.parse(json.dumps(key.jwk()).encode()) == key
    with pytest.raises(ValueError, match="no Ed25519 public key"):
        PublicKey.parse(b'{"kty": "RSA"}')
    assert os.environ.get("VIGIE_EVIDENCE_KEY") is None  # the tests use no shared key file
