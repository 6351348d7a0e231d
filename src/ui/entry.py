"""The `vigie` console script. Importing the command line takes a second or more (Litestar,
aiortc, the store's libraries): a Ctrl-C pressed then stops with the same line as one pressed
later (`ui.cli.main`), not an import's traceback."""

from __future__ import annotations

import sys

STOPPED = "\nvigie: stopped (Ctrl-C)"


def run() -> int:
    try:
        from ui.cli import main
    except KeyboardInterrupt:
        print(STOPPED, file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
