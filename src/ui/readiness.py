"""Is this process ready to serve (issue 15, `GET /ready`)? Four checks, each with a short
timeout, run side by side so the probe answers within one timeout whatever hangs:

- `store`: the event store answers a trivial read (the log's last notification id);
- `media`: the media store can keep a file (a local folder: it exists and a file can be
  written in it and removed; in memory: nothing to check);
- `smtp`: the mail server accepts a connection and greets (220); in memory: nothing to check;
- `rate_limits`: the log-in limits' Redis answers, when VIGIE_REDIS_URL names one.

A check that hangs is given up after its timeout and reported failed; its thread is a daemon
and ends when the call it waits on does (a socket or a database timeout), so a probe never
holds the process back.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from adapters.bootstrap import Platform
from adapters.mail.smtp import SmtpMailer
from adapters.media.memory import FileMedia
from adapters.media.s3 import S3Media

TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    """One check's outcome, as the probe shows it."""

    name: str
    ok: bool
    detail: str
    seconds: float


def store_answers(platform: Platform, timeout: float) -> str:
    head = platform.store.head()
    return f"log head {head}"


def media_writable(platform: Platform, timeout: float) -> str:
    media = platform.ctx.media
    if isinstance(media, S3Media):
        problem = media.problem()
        if problem is not None:
            raise ConnectionError(problem)
        return f"bucket {media.bucket} answers"
    if not isinstance(media, FileMedia):
        return f"{type(media).__name__}: nothing to check"
    root = media.root
    if not root.is_dir():
        # Never created here: a missing folder is a volume not mounted, not one to make.
        raise OSError(f"media folder {root} does not exist")
    probe = root / f".ready-{os.getpid()}-{threading.get_ident()}"
    probe.write_bytes(b"ready")
    probe.unlink()
    return f"folder {root} writable"


def smtp_accepts(platform: Platform, timeout: float) -> str:
    mailer = platform.mailer
    if not isinstance(mailer, SmtpMailer):
        return f"{type(mailer).__name__}: nothing to check"
    with socket.create_connection((mailer.host, mailer.port), timeout=timeout) as raw:
        connection: socket.socket = raw
        if mailer.use_tls:
            context = ssl.create_default_context()
            connection = context.wrap_socket(raw, server_hostname=mailer.host)
        connection.settimeout(timeout)
        greeting = connection.recv(512).decode("latin-1", "replace")
        if not greeting.startswith("220"):
            raise ConnectionError(f"the server greeted {greeting.strip()[:80]!r}")
        connection.sendall(b"QUIT\r\n")
    return f"{mailer.host}:{mailer.port} greets"


def rate_limits_answer(platform: Platform, timeout: float) -> str:
    """The log-in limits' Redis (VIGIE_REDIS_URL) answers a PING: down, nobody could log in
    while every probe said the node was fine (an operator's review)."""
    url = os.environ.get("VIGIE_REDIS_URL")
    if not url:
        return "in the store: nothing more to check"
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    where = url.rsplit("@", 1)[-1]  # never its password
    try:
        client.ping()
    except redis.RedisError as error:
        raise ConnectionError(f"VIGIE_REDIS_URL ({where}) does not answer: {error}") from None
    finally:
        client.close()
    return f"Redis {where} answers"


CHECKS: dict[str, Callable[[Platform, float], str]] = {
    "store": store_answers,
    "media": media_writable,
    "smtp": smtp_accepts,
    "rate_limits": rate_limits_answer,
}


def run_checks(platform: Platform, timeout: float = TIMEOUT_S) -> list[Check]:
    """Every check, side by side, each within `timeout`."""
    started = time.monotonic()
    futures: dict[str, Future[str]] = {}
    for name, check in CHECKS.items():
        future: Future[str] = Future()
        futures[name] = future
        threading.Thread(
            target=_run, args=(check, platform, timeout, future), daemon=True, name=f"ready-{name}"
        ).start()
    results: list[Check] = []
    for name, future in futures.items():
        left = max(0.0, timeout - (time.monotonic() - started))
        try:
            detail = future.result(timeout=left)
        except TimeoutError:
            results.append(Check(name, False, f"no answer within {timeout:g} s", timeout))
            continue
        except Exception as error:
            results.append(Check(name, False, f"{type(error).__name__}: {error}", _since(started)))
            continue
        results.append(Check(name, True, detail, _since(started)))
    return results


def _run(
    check: Callable[[Platform, float], str], platform: Platform, timeout: float, out: Future[str]
) -> None:
    try:
        out.set_result(check(platform, timeout))
    except BaseException as error:
        out.set_exception(error)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 4)


def ensure_media_folder(platform: Platform) -> None:
    """At start-up (`vigie serve`): the local media folder exists, so a fresh platform is
    ready before its first photo; after that, a folder that disappears makes /ready fail."""
    media = platform.ctx.media
    if isinstance(media, FileMedia):
        Path(media.root).mkdir(parents=True, exist_ok=True)


def media_problem_at_start(platform: Platform) -> str | None:
    """At start-up: an object store that cannot keep a photo, said in the announcement, not
    only by /ready (the shipped HAProxy checks /health, and a node with a mistyped bucket
    went on taking candidates whose photos it could not keep: an operator's review)."""
    media = platform.ctx.media
    return media.problem() if isinstance(media, S3Media) else None
