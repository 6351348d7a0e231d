"""An operator checks their own adapter against a port's packaged contract, the one ours pass:
`vigie contract-tests --port PORT --adapter MODULE:FACTORY`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from uuid import UUID

import pytest

from app.ports.key_store import KEY_BYTES
from ui.cli import main
from vigie_contracts import PORTS

ROOT = Path(__file__).resolve().parents[2]


class KeyStoreThatForgetsErasures:
    """Broken on purpose: erasing drops the key but keeps no tombstone, so the next
    `key_for` makes the erased owner a new key."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes] = {}

    def key_for(self, owner: UUID) -> bytes | None:
        return self.keys.setdefault(owner, os.urandom(KEY_BYTES))

    def existing_key(self, owner: UUID) -> bytes | None:
        return self.keys.get(owner)

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        return {owner: self.keys[owner] for owner in owners if owner in self.keys}

    def erase(self, owner: UUID) -> bool:
        return self.keys.pop(owner, None) is not None

    def erased(self, owner: UUID) -> bool:
        return owner not in self.keys


def _contract_tests(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it, from the folder holding their module."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "contract-tests", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_our_memory_key_store_passes_the_packaged_key_store_contract() -> None:
    run = _contract_tests("--port", "key-store", "--adapter", "adapters.keys.memory:MemoryKeyStore")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "src/vigie_contracts/key_store.py" in run.stdout.replace(os.sep, "/")
    assert run.stdout.rstrip().endswith(
        "adapters.keys.memory:MemoryKeyStore passes the key-store contract (3 passed)"
    )


def test_extra_arguments_after_a_double_dash_go_to_pytest() -> None:
    run = _contract_tests(
        "--port", "key-store", "--adapter", "adapters.keys.files:FileKeyStore", "--", "-k", "erased"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "passes the key-store contract (1 passed)" in run.stdout


def test_a_key_store_that_forgets_erasures_fails_the_contract_naming_the_broken_rule() -> None:
    factory = f"{__name__}:KeyStoreThatForgetsErasures"
    run = _contract_tests("--port", "key-store", "--adapter", factory)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED" in run.stdout and "test_an_erased_owner_never_gets_a_key_again" in run.stdout
    assert f"{factory} FAILS the key-store contract (1 failed, 2 passed" in run.stdout


def test_the_list_names_every_port_and_the_factory_it_expects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["contract-tests", "--list"]) == 0
    out = capsys.readouterr().out
    for port in ("event-store", "mailer", "media-capture", "key-store", "clock", "ids"):
        assert port in out
        assert PORTS[port].factory in out


def test_an_adapter_that_cannot_be_imported_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the command adds the current folder
    assert main(["contract-tests", "--port", "clock", "--adapter", "no_such_module:x"]) == 2
    assert "cannot import 'no_such_module'" in capsys.readouterr().err
    assert main(["contract-tests", "--port", "clock", "--adapter", "no-colon"]) == 2
    assert "is not module:factory" in capsys.readouterr().err
    assert main(["contract-tests", "--port", "clock"]) == 2
    assert "give --port and --adapter" in capsys.readouterr().err


def test_without_pytest_or_hypothesis_the_command_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if it were not installed
    assert (
        main(["contract-tests", "--port", "clock", "--adapter", "adapters.clock:SystemClock"]) == 2
    )
    err = capsys.readouterr().err
    assert "need hypothesis" in err and "pip install 'vigie[contracts]'" in err
