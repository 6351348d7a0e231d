"""The fault suite's counts (journeys run, kills, restarts, answers and mails checked), added
up by every test of tests/faults and printed at the end of the run; also written to
test-artifacts/faults/summary.json for the closing note (issue 14)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

SUMMARY = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults" / "summary.json"

COUNTS: Counter[str] = Counter()
NOTES: list[str] = []


def count(what: str, how_many: int = 1) -> None:
    COUNTS[what] += how_many


def note(line: str) -> None:
    """A line for the summary (a seed, a timing)."""
    NOTES.append(line)


def write() -> str:
    """The summary as one text block; the JSON file beside it."""
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(
        json.dumps({"counts": dict(sorted(COUNTS.items())), "notes": NOTES}, indent=2) + "\n"
    )
    lines = [f"{what}: {n}" for what, n in sorted(COUNTS.items())] + NOTES
    return "\n".join(lines) + f"\n(written to {SUMMARY})"
