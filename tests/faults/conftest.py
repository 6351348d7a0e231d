"""The fault suite (issue 14, « How it is shown »): every module here is marked `faults`
(`pytest -m faults` runs it alone), runs in `make test` with the rest, and adds its counts to
the summary printed at the end of the run.

`small_disk_server` is one `vigie serve --workers 2` for the full-disk and garbage-row tests
(a server start costs seconds): its media folder is a 1 MiB tmpfs, its store a schema of its
own, its SMTP server a capture of its own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from adapters.mail.capture import SmtpCapture
from tests.concurrency.served import Served, smtp_counter, start_served
from tests.faults import tally

__all__ = ["smtp_counter"]

TMPFS_SIZE = "1m"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if tally.COUNTS or tally.NOTES:
        terminalreporter.section("fault suite (issue 14)")
        terminalreporter.write_line(tally.write())


@contextlib.contextmanager
def small_tmpfs(folder: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted on `folder` (root only). Skipped with the reason when mounting
    is not permitted (CI runs as root: there a skip fails the run, as it should)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        message = f"a full media disk needs a tmpfs and mounting one failed: {mounted.stderr}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


@dataclass(frozen=True)
class SmallDisk:
    served: Served
    media: Path  # the tmpfs: fill it, empty it


@pytest.fixture(scope="package")
def small_disk_server(
    postgres_base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SmallDisk]:
    folder = tmp_path_factory.mktemp("small-disk")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_base_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        with (
            SmtpCapture() as capture,
            small_tmpfs(folder / "media") as media,
            # Without the platform slot: it lives as long as the package's tests.
            start_served(
                f"{postgres_base_url}?schema={schema}", capture, folder, slot=False
            ) as running,
        ):
            yield SmallDisk(running, media)
    finally:
        with psycopg.connect(postgres_base_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute("SET lock_timeout = '10s'")
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            connection.execute(  # the keys' schema beside it (issue 15)
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(f"{schema}_keys"))
            )
