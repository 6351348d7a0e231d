"""`vigie read-models`: where the read models' saved state is, how far behind the log it is,
and a rebuild from the whole log (issue 15, docs/operations.md)."""

from __future__ import annotations

import argparse
import time
from typing import Any, TextIO

from adapters.bootstrap import Settings, bootstrap, key_store, open_store, read_model_store
from app.read_model_checkpoint import NAME, fingerprint


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "read-models", help="the read models saved in the store: status, rebuild"
    )
    what = parser.add_subparsers(dest="what", required=True)
    what.add_parser("status", help="the saved state's position against the log's head")
    what.add_parser("rebuild", help="forget the saved state, replay the whole log, save the result")


def run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if args.what == "status":
        return _status(settings, out)
    started = time.perf_counter()
    platform = bootstrap(settings)
    try:
        assert platform.keeper is not None
        report = platform.keeper.rebuild()
        print(
            f"read models rebuilt from the whole log: {report.applied:,} events in "
            f"{time.perf_counter() - started:.1f} s, saved at position "
            f"{platform.keeper.saved_position:,} ({platform.keeper.saved.where})",
            file=out,
        )
        return 0
    finally:
        platform.close()


def _status(settings: Settings, out: TextIO) -> int:
    store = open_store(settings)
    keys = key_store(settings)
    kept_in = read_model_store(settings, keys)
    try:
        code = fingerprint()
        head = store.head()
        try:
            saved = kept_in.load(NAME, code)
        except ValueError as error:  # its key destroyed by a later erasure, or damaged
            print(f"saved state  : unreadable ({error}); the next start replays the log", file=out)
            return 0
        print(f"kept in      : {kept_in.where}", file=out)
        print(f"code         : {code}", file=out)
        print(f"log head     : {head:,}", file=out)
        if saved is None:
            print(
                "saved state  : none for this code (the next start replays the whole log; "
                "a worker saves one, or run `vigie read-models rebuild`)",
                file=out,
            )
        else:
            print(
                f"saved state  : position {saved.position:,} ({len(saved.state):,} bytes); "
                f"a start replays {max(head - saved.position, 0):,} events",
                file=out,
            )
        return 0
    finally:
        store.close()
        kept_in.close()
        close = getattr(keys, "close", None)
        if callable(close):
            close()
