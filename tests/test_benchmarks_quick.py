"""Every benchmark's quick mode runs to its end (issue 15): a benchmark broken by a change is
seen the day it breaks, not the day someone next measures. Only that it works: exit status 0
(a crash, a refused log-in, an answer the store lost, a replay that differs all exit 1);
never a time, a rate or a ratio — those are the benchmarks' own business."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import platform_slot

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted(path.stem for path in (REPO / "benchmarks").glob("bench_*.py"))
QUICK_TIMEOUT_S = 180  # far above any quick run (seconds): a hang fails, a slow machine not


def test_every_benchmark_module_is_found() -> None:
    assert "bench_store" in BENCHMARKS and "bench_web" in BENCHMARKS


@pytest.mark.postgres
@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_quick_mode_of_each_benchmark_runs_to_its_end(
    name: str, postgres_base_url: str, tmp_path: Path
) -> None:
    env = dict(
        os.environ,
        VIGIE_BENCH_POSTGRES=postgres_base_url,
        VIGIE_BENCH_RESULTS=str(tmp_path / "results"),
        TMPDIR=str(tmp_path),
    )
    # bench_web starts platforms on the shared server: in its slot (tests/conftest.py).
    slot = platform_slot(postgres_base_url) if name == "bench_web" else contextlib.nullcontext()
    with slot:
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", "--quick"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=QUICK_TIMEOUT_S,
            check=False,
        )
    assert done.returncode == 0, (
        f"python -m benchmarks.{name} --quick exited {done.returncode}:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    assert "JSON summary:" in done.stdout  # it reached its report
    assert list((tmp_path / "results").glob("*.json"))
