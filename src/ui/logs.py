"""Logging for the server and the worker (issue 14): the `vigie.*` loggers write to stderr,
each line with its time, level, logger and request id, whatever uvicorn configures for its
own loggers. `VIGIE_LOG_LEVEL` (default WARNING: faults, quarantines, given-up mails) sets
how much is said."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from ui.web.faults import RequestIdFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _VigieHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice adds nothing."""


def configure(stream: TextIO | None = None, level: str | None = None) -> logging.Logger:
    """The `vigie` logger tree to `stream` (stderr), once per process."""
    logger = logging.getLogger("vigie")
    chosen = (level or os.environ.get("VIGIE_LOG_LEVEL") or "WARNING").upper()
    logger.setLevel(chosen if chosen in logging.getLevelNamesMapping() else "WARNING")
    if not any(isinstance(h, _VigieHandler) for h in logger.handlers):
        handler = _VigieHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    # Said once, here: Litestar's start-up gives the root logger a handler of its own.
    logger.propagate = False
    # The embedded SMTP capture says five lines per mail at INFO: its warnings are enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return logger
