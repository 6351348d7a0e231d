"""Logging for the server and the worker (issue 14): the `vigie.*` loggers write to stderr,
each line with its time, level, logger and request id, whatever uvicorn configures for its
own loggers. `VIGIE_LOG_LEVEL` (default WARNING: faults, quarantines, given-up mails) sets
how much is said.

`VIGIE_LOG_FORMAT` (issue 15): `text` (the default, for a person at a terminal) or `json`,
one JSON object per line for a log collector: time, level, logger, request id, message and,
for a failure, the exception's text and traceback. A small `logging.Formatter` subclass
rather than python-json-logger: the fields are few and fixed, the standard library's
`json` writes them, and one dependency less is one less to keep pinned and patched."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from uvicorn.config import LOGGING_CONFIG

from ui.web.faults import RequestIdFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback's newlines are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A line for a person: its time in the platform's zone (`VIGIE_TIME_ZONE`, as pages and
    mails give times) with the offset written out, where `asctime` gave the machine's clock
    (UTC on a server) with no zone to say so, so that an operator comparing a log line with
    a page's « 14:02 » read times an hour or two apart."""

    def __init__(self, zone: tzinfo) -> None:
        super().__init__(FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = datetime.fromtimestamp(record.created, self.zone)
        return moment.isoformat(sep=" ", timespec="milliseconds")


def platform_zone() -> tzinfo:
    """The platform's time zone as `VIGIE_TIME_ZONE` names it (Europe/Paris by default, as
    adapters/bootstrap.py); UTC for a name the machine does not know (the platform's start
    refuses it with a clear message: the log must still be able to say so)."""
    name = os.environ.get("VIGIE_TIME_ZONE") or "Europe/Paris"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def formatter(chosen: str | None = None) -> logging.Formatter:
    """The formatter `VIGIE_LOG_FORMAT` names (text unless it says json); a clear error for
    anything else."""
    name = (chosen or os.environ.get("VIGIE_LOG_FORMAT") or "text").strip().lower()
    if name not in FORMATS:
        raise ValueError(f"VIGIE_LOG_FORMAT: text or json, not {name!r}")
    return JsonFormatter() if name == "json" else TextFormatter(platform_zone())


class _VigieHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice adds nothing."""


class _StderrHandler(_VigieHandler):
    """Writes to `sys.stderr` as it is when a line is written, as logging's own last resort
    does: a process (or a test, which pytest gives a stderr of its own) that swaps it after
    `configure` still gets its lines, never « I/O operation on closed file »."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:  # StreamHandler's constructor sets it
        pass


def configure(
    stream: TextIO | None = None, level: str | None = None, log_format: str | None = None
) -> logging.Logger:
    """The `vigie` logger tree to `stream` (stderr), once per process, as text or JSON."""
    logger = logging.getLogger("vigie")
    chosen = (level or os.environ.get("VIGIE_LOG_LEVEL") or "WARNING").upper()
    logger.setLevel(chosen if chosen in logging.getLevelNamesMapping() else "WARNING")
    _install(logger, stream, log_format)
    # Said once, here (the root logger has a handler of its own, below).
    logger.propagate = False
    # Every other library's lines (aiortc's ICE, boto3, psycopg's pool…) in the same
    # format, from WARNING up: in JSON, one object a line whoever wrote it; their INFO
    # chatter (aioice said 48 lines a live connection) left out. Litestar is told to leave
    # the root logger alone (ui/web/app.py).
    root = logging.getLogger()
    _install(root, stream, log_format)
    root.setLevel(logging.WARNING)
    # The embedded SMTP capture says five lines per mail at INFO: its warnings are enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return logger


def _install(logger: logging.Logger, stream: TextIO | None, log_format: str | None) -> None:
    """Our handler on `logger` (stderr, the chosen format, the request id), once."""
    if not any(isinstance(h, _VigieHandler) for h in logger.handlers):
        handler = _VigieHandler(stream) if stream is not None else _StderrHandler()
        handler.setFormatter(formatter(log_format))
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)


@contextlib.contextmanager
def configured(stream: TextIO, level: str | None = None) -> Iterator[logging.Logger]:
    """`configure` for the length of a command run in-process (tests call `main([...])`):
    afterwards the `vigie` logger is as it was, so no handler outlives the stream it writes to
    (pytest closes its captured stdout after each test)."""
    logger, root = logging.getLogger("vigie"), logging.getLogger()
    before = (list(logger.handlers), logger.level, logger.propagate)
    root_before = (list(root.handlers), root.level)
    try:
        yield configure(stream, level)
    finally:
        for handler in logger.handlers[:]:
            if handler not in before[0]:
                logger.removeHandler(handler)
        logger.setLevel(before[1])
        logger.propagate = before[2]
        for handler in root.handlers[:]:
            if handler not in root_before[0]:
                root.removeHandler(handler)
        root.setLevel(root_before[1])


def uvicorn_log_config(log_format: str | None = None) -> dict[str, Any]:
    """uvicorn's own loggers (start-up, its errors) in the same format as ours: its default
    configuration for text, the JSON formatter (with the request id filter) for json."""
    if formatter(log_format).__class__ is not JsonFormatter:
        return LOGGING_CONFIG
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }
