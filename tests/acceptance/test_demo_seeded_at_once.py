"""Two nodes started at once with `--demo` (a compose file's `up`) seed the same accounts
together: the second seeder finds the work done and its node starts (an operator's review:
one node exited with « R24: a newer reset link replaced this one »)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from app.passwords import verify_password
from app.use_cases import accounts
from domain.candidate import Candidate
from ui import serve
from ui.journey import Journey
from ui.serve import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

SECRET = "n" * 64


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite'}",
        media_root=None,
        secret_key=SECRET,
        launcher="memory",
    )
    first, second = bootstrap(settings), bootstrap(settings)
    yield first, second
    first.close()
    second.close()


def test_a_node_whose_reset_link_the_other_seeder_replaced_finds_the_password_set(
    two_nodes: tuple[Platform, Platform], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this node hashes the password, the other node asks its own link (voiding this
    one's) and sets the password with it: the two seeders' steps, interleaved as they were."""
    node, other = two_nodes
    real_reset = accounts.reset_password
    competing = False

    def reset_while_the_other_node_seeds(*args: Any, **kwargs: Any) -> Any:
        nonlocal competing
        if not competing:
            competing = True
            try:
                other.projections.catch_up(other.ctx.store)
                candidate_id = other.projections.find_by_email(DEMO_EMAIL)
                Journey(other, email=DEMO_EMAIL, candidate_id=candidate_id).set_password(
                    DEMO_PASSWORD, purpose="demo", tries=1
                )
            finally:
                competing = False
        return real_reset(*args, **kwargs)

    monkeypatch.setattr(accounts, "reset_password", reset_while_the_other_node_seeds)
    monkeypatch.setattr(serve.time, "sleep", lambda _seconds: None)
    link = seed_demo(node, sample_exam=False)  # raised RuleBroken R24 before
    assert "/sessions/new" in link
    candidate_id = node.projections.find_by_email(DEMO_EMAIL)
    assert candidate_id is not None
    stored = node.ctx.store.get(candidate_id, Candidate).proctoring_password_hash
    assert verify_password(DEMO_PASSWORD, stored)
    monkeypatch.setattr(accounts, "reset_password", real_reset)
    assert seed_demo(other, sample_exam=False) == link  # and the other node's next start
