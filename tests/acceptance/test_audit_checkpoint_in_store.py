"""`vigie audit replay --all` on a shared PostgreSQL store (issue 15): its checkpoint is kept
in the store, so a run stopped on one machine is resumed on another."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.cli import main
from ui.journey import Plan, decided_journey, platform_with_examiner

CLEAN = Plan(False, [], False, False, False)


@pytest.mark.postgres
def test_a_replay_stopped_on_one_node_resumes_on_another(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with platform_with_examiner(postgres_url) as (platform, examiner):
        for _ in range(2):
            decided_journey(platform, CLEAN, examiner)
    replay = ["--database-url", postgres_url, "audit", "replay", "--all", "--batch", "1"]
    first, second = tmp_path / "node-a", tmp_path / "node-b"
    for folder in (first, second):
        folder.mkdir()
    monkeypatch.chdir(first)
    assert main([*replay, "--stop-after", "1"]) == 0
    assert "run the same command to continue" in capsys.readouterr().err
    monkeypatch.chdir(second)  # another machine: nothing of node A's disk
    assert main(replay) == 0
    captured = capsys.readouterr()
    assert "resuming after log position" in captured.err
    assert "replayed 2 decided reviews (1 in this run)" in captured.out
    assert "mismatches: none" in captured.out
    assert not (first / "vigie-data").exists() and not (second / "vigie-data").exists()
    assert main([*replay]) == 0  # complete: the next run starts over
    assert "replayed 2 decided reviews (2 in this run)" in capsys.readouterr().out
