"""Shared settings (issue 15): what several machines sharing one PostgreSQL store need to
agree on — one secret key given to every node, rate-limit buckets every node counts in, and
the secrets kept in a schema of their own, out of the event log's backups."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import (
    SettingMissing,
    Settings,
    bootstrap,
    rate_limit_store,
    require_shared_settings,
)
from adapters.keys.postgres import PostgresKeyStore
from app.mail_rendering import SupportContact
from app.ports.sessions import SecondFactor
from tests.acceptance.web import form_token
from tests.conftest import server_and_schema
from ui.cli import main
from ui.web.app import create_app

SECRET = "s" * 64
ATTEMPTS = 3


def _schema(url: str) -> str:
    return server_and_schema(url)[1]


def _tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(server_and_schema(url)[0], autocommit=True) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def bare_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder and no VIGIE_* setting at all, as a user's first try."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("VIGIE_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_a_node_of_a_postgresql_store_refuses_to_start_without_a_secret_key(
    command: list[str],
    postgres_url: str,
    bare_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VIGIE_DATABASE_URL", postgres_url)
    if command[0] == "serve":  # a free port: a server on 8000 would be refused first
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            command = [*command, "--port", str(probe.getsockname()[1])]
    assert main(command) == 2
    said = capsys.readouterr().err
    assert "VIGIE_SECRET_KEY is not set" in said and "secrets.token_hex(32)" in said
    assert not (bare_folder / "vigie-data").exists()  # nothing made up on this machine
    monkeypatch.setenv("VIGIE_SECRET_KEY", "short")
    assert main(command) == 2
    assert "too short" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_worker_given_the_key_starts_on_postgresql(
    postgres_url: str, bare_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("VIGIE_SECRET_KEY", SECRET)
    monkeypatch.setenv("VIGIE_MEDIA_ROOT", str(bare_folder / "media"))
    assert main(["worker", "--once"]) == 0
    assert not (bare_folder / "vigie-data" / "secret.key").exists()


def test_one_machine_needs_no_setting_at_all(bare_folder: Path) -> None:
    """`make run`: SQLite (or memory) on the embedded defaults, the key kept in vigie-data/."""
    require_shared_settings(Settings())
    require_shared_settings(Settings(database_url="memory:"))
    with pytest.raises(SettingMissing, match="VIGIE_SECRET_KEY"):  # no server asked
        require_shared_settings(Settings(database_url="postgresql://db.example/vigie"))


@pytest.fixture
def node_settings(postgres_url: str) -> Settings:
    return Settings(
        database_url=postgres_url, media_root=None, secret_key=SECRET, launcher="memory"
    )


@pytest.mark.postgres
def test_the_secrets_live_in_their_own_schema_and_every_node_shares_them(
    postgres_url: str, node_settings: Settings
) -> None:
    schema = _schema(postgres_url)
    first, second = bootstrap(node_settings), bootstrap(node_settings)
    try:
        owner, staff = uuid4(), uuid4()
        key = first.keys.key_for(owner)
        factor = SecondFactor(sealed_secret=b"sealed", confirmed=True, last_step=7)
        first.sessions.set_second_factor(staff, factor)
        assert second.keys.existing_key(owner) == key
        assert second.sessions.second_factor(staff) == factor
        # One evidence key for the platform, whichever node signs (no file to copy).
        assert first.signer.public_key() == second.signer.public_key()
    finally:
        first.close()
        second.close()
    secrets = _tables(postgres_url, f"{schema}_keys")
    assert {"vigie_keys", "vigie_second_factors", "vigie_evidence_key"} <= secrets
    log = _tables(postgres_url, schema)
    assert "vigie_events" in log and "vigie_sessions" in log
    assert not log & secrets, "a secret table left in the log's schema"


@pytest.mark.postgres
def test_the_keys_schema_is_a_setting_and_an_older_table_moves_into_it(
    postgres_url: str, node_settings: Settings
) -> None:
    schema, chosen = _schema(postgres_url), f"{_schema(postgres_url)}_vault"
    base = server_and_schema(postgres_url)[0]
    owner = uuid4()
    # A platform from before issue 15: its keys beside the events.
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(
            f'CREATE TABLE "{schema}".vigie_keys '
            "(owner uuid PRIMARY KEY, key bytea, erased_at timestamptz)"
        )
        connection.execute(
            f'INSERT INTO "{schema}".vigie_keys VALUES (%s, %s, NULL)', (owner, b"k" * 32)
        )
    try:
        keys = PostgresKeyStore(base, chosen, store_schema=schema)
        try:
            assert keys.existing_key(owner) == b"k" * 32
        finally:
            keys.close()
        assert "vigie_keys" not in _tables(postgres_url, schema)
        platform = bootstrap(Settings(**{**node_settings.__dict__, "keys_schema": chosen}))
        try:
            assert platform.keys.existing_key(owner) == b"k" * 32
            assert len(platform.signer.public_key()) == 32  # made on first use, in the vault
        finally:
            platform.close()
        assert "vigie_evidence_key" in _tables(postgres_url, chosen)
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{chosen}" CASCADE')


@pytest.fixture
def two_nodes(node_settings: Settings) -> Iterator[list[TestClient[Any]]]:
    """Two web apps on the same PostgreSQL, each with its own rate-limit store object (its
    own pool in its own event loop), as two machines would have."""
    platform = bootstrap(node_settings)
    clients = [
        TestClient(
            create_app(
                platform,
                secret=SECRET.encode(),
                support=SupportContact(),
                rate_limits=rate_limit_store(node_settings),
                attempts_per_minute=ATTEMPTS,  # each attempt costs a password hash: few
            )
        )
        for _ in range(2)
    ]
    for client in clients:
        client.__enter__()
    yield clients
    for client in clients:
        client.__exit__(None, None, None)
    platform.close()


@pytest.mark.postgres
def test_an_address_throttled_on_one_node_is_throttled_on_the_other(
    two_nodes: list[TestClient[Any]],
) -> None:
    """The log-in attempts a minute per address are counted in PostgreSQL: all of them on the
    first node, and the second refuses the next. Each attempt names another e-mail, so the
    per-account throttle (ten failures per e-mail) is not what answers."""
    first, second = two_nodes
    token = form_token(first, "/login")
    codes = [
        first.post(
            "/login",
            data={"email": f"nobody{n}@example.org", "password": "wrong", "_csrf_token": token},
        ).status_code
        for n in range(ATTEMPTS)
    ]
    assert codes == [401] * ATTEMPTS
    other_token = form_token(second, "/login")  # a GET: pages stay open
    refused = second.post(
        "/login",
        data={"email": "someone@example.org", "password": "wrong", "_csrf_token": other_token},
    )
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60  # when the minute's count resets
