"""`vigie serve` on a port another server holds says so in one sentence naming --port, before
it announces anything or starts a worker (uvicorn used to fail after « Vigie is running »)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ui import cli


def test_a_taken_port_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = cli.main(
            ["--database-url", "memory:", "serve", "--host", "127.0.0.1", "--port", str(port)]
        )
    said = capsys.readouterr()
    assert code == 2
    assert f"--port {port}" in said.err and "choose another --port" in said.err
    assert f"make run PORT={port + 1}" in said.err  # `make run` takes one too
    assert "Vigie is running" not in said.out
    assert not (tmp_path / "vigie-data").exists()  # no mailbox, no store: nothing started
