"""Issue 14, errors you can see: every response carries a request id (the caller's when it is
sane); a fault is logged with that id and its traceback and answered with a page in the
reader's language showing the id and the support contact (problem details on the API); a
full media disk tells the candidate to try again, keeps the step and records nothing."""

from __future__ import annotations

import errno
import html
import io
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.exceptions import InternalServerException
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.media.memory import FileMedia
from app.mail_rendering import SupportContact
from app.ports.media_capture import StoredMedia
from domain.guide import Step
from domain.proctored_session import ProctoredSession
from tests.acceptance.web import csrf, log_in
from ui import logs
from ui.journey import FACE_PHOTO, PARIS, Journey
from ui.web import app as web_app
from ui.web.faults import RequestIdFilter

SECRET = b"e" * 32
PASSWORD = "errors-pass-1"
SUPPORT = SupportContact()


class FillingDisk(FileMedia):
    """The real folder store, on a disk the test fills up: writes fail with ENOSPC."""

    full = False

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().store(session_id, kind, data)


class Lines(logging.Handler):
    """The `vigie` log lines, with the request id the server's handler would print."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def vigie_log() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("vigie")
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)


@pytest.fixture
def disk(tmp_path: Path) -> FillingDisk:
    return FillingDisk(tmp_path / "media")


@pytest.fixture
def at_photo(disk: FillingDisk) -> Iterator[tuple[Journey, TestClient[Any]]]:
    """A candidate at the face photo, logged in."""
    platform: Platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(21),
        media=disk,
    )
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    platform.projections.catch_up(platform.ctx.store)
    app = web_app.create_app(platform, secret=SECRET, support=SUPPORT)
    with TestClient(app) as client:
        log_in(client, "/login", journey.email, PASSWORD)
        yield journey, client
    platform.close()


def session_of(journey: Journey) -> ProctoredSession:
    assert journey.session_id is not None
    return journey.ctx.store.get(journey.session_id, ProctoredSession)


def send_photo(client: TestClient[Any], journey: Journey, **headers: str) -> Any:
    return client.post(
        f"/exams/{journey.session_id}/do/face-photo",
        files={"photo": ("photo.jpg", FACE_PHOTO, "image/jpeg")},
        headers={**csrf(client), **headers},
        follow_redirects=False,
    )


def test_a_full_media_disk_asks_to_try_again_and_records_nothing(
    at_photo: tuple[Journey, TestClient[Any]], disk: FillingDisk, vigie_log: Lines
) -> None:
    journey, client = at_photo
    before = session_of(journey)
    assert before.next_step is Step.FACE_PHOTO
    versions = before.version
    disk.full = True

    # The checks page asks for the step alone: the sentence comes in place, the step stays.
    reply = send_photo(client, journey, **{"x-vigie-fragment": "1"})
    assert reply.status_code == 503
    said = html.unescape(reply.text)
    assert "n'a pas pu être conservé" in said and "Rien n'est perdu" in said
    reference = reply.headers["x-request-id"]
    assert f"<code>{reference}</code>" in reply.text
    assert session_of(journey).version == versions  # no event for media not written
    assert not any(p.is_file() for p in disk.root.rglob("*"))  # no file left behind

    # Without the page's script: the error page, with a way back to the step.
    page = send_photo(client, journey)
    assert page.status_code == 503
    assert f'href="/exams/{journey.session_id}"' in page.text and "Réessayer" in page.text

    # Logged with the request id and the disk's own error.
    (line,) = [r for r in vigie_log.records if reference in r.getMessage()]
    assert line.levelno == logging.ERROR and line.exc_info is not None
    assert isinstance(line.exc_info[1], OSError) and line.exc_info[1].errno == errno.ENOSPC

    # Other pages work meanwhile; once there is room again, the same photo goes through.
    assert client.get("/exams").status_code == 200
    disk.full = False
    assert send_photo(client, journey).status_code in (302, 303)
    after = session_of(journey)
    assert after.face_photo_taken and after.version == versions + 1
    assert [p.name for p in disk.root.rglob("*") if p.is_file()] != []


def test_a_full_media_disk_on_the_api_is_a_problem_with_the_request_id(
    at_photo: tuple[Journey, TestClient[Any]], disk: FillingDisk
) -> None:
    journey, client = at_photo
    disk.full = True
    reply = client.post(
        f"/api/sessions/{journey.session_id}/steps/face-photo",
        files={"photo": ("photo.jpg", FACE_PHOTO, "image/jpeg")},
        headers=csrf(client),
    )
    assert reply.status_code == 503
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["type"].endswith("/media-not-kept")
    assert reply.json()["request_id"] == reply.headers["x-request-id"]


def test_a_fault_shows_the_reference_and_support_and_is_logged_with_it(
    at_photo: tuple[Journey, TestClient[Any]],
    monkeypatch: pytest.MonkeyPatch,
    vigie_log: Lines,
) -> None:
    _, client = at_photo

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("a bug nobody saw coming")

    monkeypatch.setattr(web_app.site, "context", broken)
    page = client.get("/support")
    assert page.status_code == 500
    reference = page.headers["x-request-id"]
    assert "Un problème est survenu de notre côté" in page.text
    assert "Référence à donner au support" in page.text and f"<code>{reference}</code>" in page.text
    assert SUPPORT.email in page.text and SUPPORT.phone in page.text
    assert "a bug nobody saw coming" not in page.text  # internals stay in the log
    (line,) = [r for r in vigie_log.records if r.levelno >= logging.ERROR]
    assert reference in line.getMessage() and line.request_id == reference  # type: ignore[attr-defined]
    assert line.exc_info is not None and "nobody saw coming" in str(line.exc_info[1])

    client.get("/lang/en")
    english = client.get("/support")
    assert "Something went wrong on our side" in english.text
    assert "Quote this reference to support:" in english.text


def test_an_api_fault_is_a_problem_carrying_the_request_id(
    at_photo: tuple[Journey, TestClient[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = at_photo

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(web_app.api, "own_session", broken)
    journey = at_photo[0]
    reply = client.post(f"/api/sessions/{journey.session_id}/enter", json={}, headers=csrf(client))
    assert reply.status_code == 500
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["request_id"] == reply.headers["x-request-id"]
    assert "boom" not in reply.text


OFFERED = {
    "proxy-7f3a9c21": True,
    "0123456789abcdef0123456789abcdef": True,
    "short": False,
    "<script>alert(1)</script>": False,
    "a" * 65: False,
    "spaces are not ids": False,
    "line\\nbreak-injected": False,
}


def test_every_response_carries_a_request_id_the_callers_only_when_sane() -> None:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode())
    )
    try:
        with TestClient(web_app.create_app(platform, secret=SECRET, support=SUPPORT)) as client:
            for offered, kept in OFFERED.items():
                for path in ("/support", "/no/such/page", "/static/vigie.css"):
                    reply = client.get(path, headers={"x-request-id": offered})
                    given = reply.headers["x-request-id"]
                    assert (given == offered) is kept, (offered, path, given)
                    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}", given)
            first = client.get("/support").headers["x-request-id"]
            assert first != client.get("/support").headers["x-request-id"]  # one per request
    finally:
        platform.close()


def test_the_server_log_says_each_fault_once_with_its_id_and_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `vigie serve` configures (`ui.logs`) survives Litestar's own logging set-up at
    start-up: a 500 reaches the server's stream once, with its request id and traceback."""
    vigie = logging.getLogger("vigie")
    saved = (vigie.level, vigie.propagate, list(vigie.handlers))
    vigie.handlers[:] = []  # as in a fresh process: another test here may have configured it
    stream = io.StringIO()
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode())
    )
    try:
        logs.configure(stream)
        logs.configure(stream)  # twice: still one handler

        def broken(*_: Any, **__: Any) -> None:
            raise RuntimeError("a fault for the server log")

        monkeypatch.setattr(web_app.site, "context", broken)
        with TestClient(web_app.create_app(platform, secret=SECRET, support=SUPPORT)) as client:
            reference = client.get("/support").headers["x-request-id"]
    finally:
        platform.close()
        vigie.setLevel(saved[0])
        vigie.propagate = saved[1]
        vigie.handlers[:] = saved[2]
    said = stream.getvalue()
    assert said.count("GET /support failed") == 1
    assert f"ERROR vigie.web [{reference}] GET /support failed [{reference}]" in said
    assert "Traceback (most recent call last)" in said and "a fault for the server log" in said


def test_a_5xx_the_framework_raises_is_logged_once_with_its_cause(
    at_photo: tuple[Journey, TestClient[Any]],
    monkeypatch: pytest.MonkeyPatch,
    vigie_log: Lines,
) -> None:
    """A 5xx raised as an HTTP error (by the framework, or on purpose) is logged too, with the
    fault behind it: no 5xx goes unlogged."""
    _, client = at_photo

    def broken(*_: Any, **__: Any) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as error:
            raise InternalServerException() from error

    monkeypatch.setattr(web_app.site, "context", broken)
    page = client.get("/support")
    assert page.status_code == 500
    reference = page.headers["x-request-id"]
    (line,) = [r for r in vigie_log.records if r.levelno >= logging.ERROR]
    assert reference in line.getMessage() and line.exc_info is not None
    assert isinstance(line.exc_info[1], OSError)
    assert f"<code>{reference}</code>" in page.text


def test_a_database_that_does_not_answer_is_a_503_to_try_again_with_the_reference(
    at_photo: tuple[Journey, TestClient[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL restart is not a fault in Vigie: 503, Retry-After, « réessayez », and the
    reference like every 5xx (the pools reconnect by themselves: tests/faults)."""
    import psycopg_pool

    _, client = at_photo

    def down(*_: Any, **__: Any) -> None:
        raise psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec")

    monkeypatch.setattr(web_app.site, "context", down)
    page = client.get("/support")
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "Réessayez dans un instant" in html.unescape(page.text)
    assert f"<code>{page.headers['x-request-id']}</code>" in page.text
    monkeypatch.setattr(web_app.api, "own_session", down)
    journey = at_photo[0]
    reply = client.post(f"/api/sessions/{journey.session_id}/enter", json={}, headers=csrf(client))
    assert reply.status_code == 503 and reply.headers["retry-after"] == "5"
    assert reply.json()["request_id"] == reply.headers["x-request-id"]


@pytest.mark.parametrize("step", ["_load", "_save"])
def test_a_session_store_that_does_not_answer_is_a_503_too(
    at_photo: tuple[Journey, TestClient[Any]], monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The session is read before the route and written after it (ui/web/sessions.py): a
    PostgreSQL that closes the connection there is the same « try again », never a 500."""
    import psycopg

    from ui.web.sessions import ServerSessions

    _, client = at_photo

    def closed(*_: Any, **__: Any) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ServerSessions, step, closed)
    # A session to write back (most requests write nothing: `_unchanged`).
    monkeypatch.setattr(ServerSessions, "_unchanged", lambda *_: False)
    page = client.get("/support")
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "Réessayez dans un instant" in html.unescape(page.text)


@pytest.mark.parametrize("command", [["mail", "pending"], ["read-models", "rebuild"]])
def test_a_command_whose_database_does_not_answer_says_so_in_a_sentence(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator's review (issue 15): with PostgreSQL full (« too many clients »), `vigie
    mail pending` printed a Python traceback. Nothing listens on port 1 here."""
    from ui.cli import main

    monkeypatch.setenv("VIGIE_SECRET_KEY", "c" * 32)
    url = "postgresql://postgres@127.0.0.1:1/test?schema=nowhere"
    assert main(["--database-url", url, *command]) == 1
    said = capsys.readouterr().err
    assert said.startswith("vigie: the database did not answer (") and "port 1" in said
    assert "Traceback" not in said


@pytest.mark.postgres
def test_a_database_the_server_does_not_know_is_a_settings_mistake_not_an_outage(
    postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """« Try again once it answers » would send an operator waiting for a typo to heal."""
    from ui.cli import main

    monkeypatch.setenv("VIGIE_SECRET_KEY", "c" * 32)
    server = postgres_url.split("?", 1)[0].rsplit("/", 1)[0]
    assert main(["--database-url", f"{server}/no_such_database", "mail", "pending"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("vigie: the database refused the connection (")
    assert "no_such_database" in said and "VIGIE_DATABASE_URL" in said


@pytest.mark.parametrize(
    ("url", "named"),
    [
        # A host with a typo: a settings mistake, never « try again once it answers ».
        ("postgresql://postgres@127.0.0.l:5432/test?schema=typo", "127.0.0.l"),
        # A schema PostgreSQL would need quoted: refused before anything is created (it made
        # the schemas `Bad-Name` and `Bad-Name_keys`, then printed a 68-line traceback).
        ("postgresql://postgres@127.0.0.1:5432/test?schema=Bad-Name", "Bad-Name"),
    ],
)
def test_a_database_url_typo_is_a_sentence_naming_the_setting(
    url: str, named: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.cli import main

    monkeypatch.setenv("VIGIE_SECRET_KEY", "c" * 32)
    assert main(["--database-url", url, "mail", "pending"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("vigie: ") and "VIGIE_DATABASE_URL" in said and named in said
    assert "Traceback" not in said
