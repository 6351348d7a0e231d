"""`vigie contract-tests`: run a port's packaged contract (src/vigie_contracts/) against an
operator's own adapter, made by a factory named `module:factory`, through pytest."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections import Counter
from typing import Any, TextIO

from vigie_contracts import PORTS, PortContract

INSTALL = "pip install 'vigie[contracts]' (or 'vigie[dev]')"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "contract-tests",
        help="check your own adapter of a port against the contract ours pass",
        description="Runs the port's contract tests (pytest) against the adapter your factory "
        "makes. A factory with no required argument is called as is; one with a required "
        "argument is given a fresh empty folder. Arguments after `--` go to pytest.",
    )
    parser.add_argument("--list", action="store_true", help="list the ports and their factories")
    parser.add_argument("--port", choices=sorted(PORTS), help="the port your adapter serves")
    parser.add_argument(
        "--adapter",
        metavar="MODULE:FACTORY",
        help="the callable making a fresh adapter (imported from the current folder too)",
    )
    parser.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.list:
        _list(out)
        return 0
    if not args.port or not args.adapter:
        print("vigie: give --port and --adapter MODULE:FACTORY (see --list)", file=sys.stderr)
        return 2
    missing = [name for name in ("pytest", "hypothesis") if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"vigie: the contract tests need {' and '.join(missing)}, not installed: {INSTALL}",
            file=sys.stderr,
        )
        return 2
    return _check(PORTS[args.port], args.adapter, args.pytest_args, out)


def _list(out: TextIO) -> None:
    print(
        "Ports with a packaged contract (vigie contract-tests --port PORT --adapter M:F):", file=out
    )
    for contract in PORTS.values():
        print(f"  {contract.port:<14} {contract.protocol}", file=out)
        print(f"  {'':<14} factory: {contract.factory}", file=out)


def _check(contract: PortContract, spec: str, pytest_args: list[str], out: TextIO) -> int:
    import pytest

    from vigie_contracts import plugin

    # The operator's module is usually in the folder they run the command from.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        plugin.load_factory(spec)
    except plugin.FactoryError as error:
        print(f"vigie: {error}", file=sys.stderr)
        return 2
    module = importlib.util.find_spec(contract.module)
    assert module is not None and module.origin, contract.module
    print(f"Checking {spec} against the {contract.port} contract ({contract.protocol})", file=out)
    out.flush()
    tally = _Tally()
    extra = pytest_args[1:] if pytest_args[:1] == ["--"] else pytest_args
    code = int(
        pytest.main(
            [
                module.origin,
                f"--contract-adapter={spec}",
                "-p",
                "no:cacheprovider",  # nothing written next to the installed package
                "-rfEsx",  # say why a check was skipped (a bare mailer, say)
                *extra,
            ],
            plugins=[plugin, tally],
        )
    )
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.outcomes.items()))
    if code == 0:
        print(f"vigie: {spec} passes the {contract.port} contract ({counts})", file=out)
    elif code == 5:
        print(f"vigie: no {contract.port} contract test ran (pytest exit code 5)", file=out)
    else:
        print(
            f"vigie: {spec} FAILS the {contract.port} contract ({counts or 'no test ran'}; "
            f"pytest exit code {code}): see the failures above",
            file=out,
        )
    return code


class _Tally:
    """A pytest plugin counting outcomes, for the one-line summary."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call":
            self.outcomes[report.outcome] += 1
        elif report.failed:
            self.outcomes["error"] += 1  # a fixture (the factory) failed
        elif report.skipped:
            self.outcomes["skipped"] += 1
