"""What the `vigie` command's sub-commands share when reading their arguments."""

from __future__ import annotations

import argparse
from uuid import UUID


def uuid_argument(text: str) -> UUID:
    """An id on the command line, or argparse's usage error naming it."""
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}") from None
