"""The fault suite (issue 14, « How it is shown »): every module here is marked `faults`
(`pytest -m faults` runs it alone), runs in `make test` with the rest, and adds its counts to
the summary printed at the end of the run."""

from __future__ import annotations

import pytest

from tests.concurrency.served import served, smtp_counter
from tests.faults import tally

__all__ = ["served", "smtp_counter"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if tally.COUNTS or tally.NOTES:
        terminalreporter.section("fault suite (issue 14)")
        terminalreporter.write_line(tally.write())
