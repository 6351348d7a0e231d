"""Issue 15, `make run` with a worker role: `vigie serve` on the embedded defaults starts a
`vigie worker` process beside it with the same settings, which sends the mails into the
embedded capture; stopping `vigie serve` stops it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.bootstrap import Settings
from adapters.mail.capture import read_maildir
from adapters.media.ice import IceServers
from app.mail_rendering import SupportContact
from tests.concurrency.served import free_port


def test_the_settings_a_worker_process_is_given_read_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        database_url="postgresql://vigie@db:5432/vigie?schema=exams",
        media_root="/srv/media",
        time_zone="America/Montreal",
        smtp_url="smtp://127.0.0.1:2525",
        base_url="https://exams.example.org",
        secret_key="s" * 64,
        launcher="memory",
        catalogue_dir="/srv/banks",
        key_store="files:/srv/keys",
        clock_offset_s=-3600.5,
        evidence_key="/srv/evidence.pem",
        media_url="s3://bucket/media",
        s3_endpoint_url="http://minio:9000",
        s3_region="eu-west-3",
        s3_access_key_id="id",
        s3_secret_access_key="secret",
        keys_schema="exam_keys",
        redis_url="redis://cache:6379/1",
        node_id="node-7",
        ice=IceServers(("stun:stun.example.org", "turn:turn.example.org:3478"), "t" * 20, 3600),
        support=SupportContact("help@example.org", "01 02 03 04 05", "https://chat.example.org"),
    )
    for name in [n for n in os.environ if n.startswith("VIGIE_")]:
        monkeypatch.delenv(name)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == settings


def test_vigie_serve_starts_a_worker_process_that_sends_the_mails_and_stops_with_it(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env.update(PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        while "invitation link" not in banner:
            line = serve.stdout.readline() if serve.stdout else ""
            assert line or serve.poll() is None, banner
            banner += line
        found = re.search(r"`vigie worker` process (\d+)", banner)
        assert found is not None, banner
        worker = int(found[1])
        assert Path(f"/proc/{worker}/stat").read_text().split()[3] == str(serve.pid)  # its child
        # The demo's two invitations, sent by the worker into serve's SMTP capture.
        mailbox = tmp_path / "vigie-data" / "mailbox"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                if len(read_maildir(mailbox)) >= 2:
                    break
            time.sleep(0.2)
        assert len(read_maildir(mailbox)) >= 2
    finally:
        serve.send_signal(signal.SIGINT)  # Ctrl-C
        serve.wait(timeout=30)
    output = serve.stdout.read() if serve.stdout else ""
    assert "gave back its lease(s)" in output, output
    assert not Path(f"/proc/{worker}").exists()
