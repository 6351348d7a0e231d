"""Issue 15, observability: `/health` says the process answers, `/ready` checks the store, the
media folder and the SMTP server (503 naming what failed), `/metrics` gives Prometheus text
(latency by route template, events appended, the outbox, the lags) to a scraper only, and
`VIGIE_LOG_FORMAT=json` writes one JSON object per line carrying the request id."""

from __future__ import annotations

import io
import json
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.stores.redis import RedisStore
from litestar.testing import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.capture import SmtpCapture
from app.mail_rendering import SupportContact
from app.use_cases import enrolment
from tests.concurrency.served import free_port
from ui import logs
from ui.journey import PARIS, Journey
from ui.web import app as web_app
from ui.web import probes
from ui.web.faults import RequestIdFilter

SECRET = b"o" * 32
TOKEN = "scrape-token-for-tests"


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    with SmtpCapture() as capture:
        yield capture


@pytest.fixture
def platform(tmp_path: Path, smtp: SmtpCapture) -> Iterator[Platform]:
    media = tmp_path / "media"
    media.mkdir()
    wired = bootstrap(
        Settings(
            database_url="memory:",
            media_root=str(media),
            secret_key=SECRET.decode(),
            smtp_url=f"smtp://{smtp.host}:{smtp.port}",
            launcher="memory",
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(15),
    )
    yield wired
    wired.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    app = web_app.create_app(platform, secret=SECRET, support=SupportContact())
    with TestClient(app) as test_client:
        yield test_client


def scrape(client: TestClient[Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """Every sample of a scrape, keyed `name{label="value",…}` (labels sorted)."""
    monkeypatch.setenv("VIGIE_METRICS_TOKEN", TOKEN)
    reply = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text[:200]
    assert reply.headers["content-type"] == CONTENT_TYPE_LATEST  # its charset said once
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_health_answers_without_a_cookie_or_a_session(
    client: TestClient[Any], platform: Platform
) -> None:
    client.cookies.set("vigie_session", "an-old-session-id-nobody-knows")
    reply = client.get("/health")
    assert reply.status_code == 200 and reply.json() == {"status": "alive"}
    assert "set-cookie" not in reply.headers  # neither a session nor a CSRF cookie
    assert reply.headers["x-request-id"]
    ready = client.get("/ready")
    assert "set-cookie" not in ready.headers
    # The unknown session was not even looked up (a page would clear its cookie).
    page = client.get("/support")
    assert "vigie_session=" in page.headers.get("set-cookie", "")


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The headers of a caller allowed to read the metrics, and so /ready's details."""
    monkeypatch.setenv("VIGIE_METRICS_TOKEN", TOKEN)
    return {"authorization": f"Bearer {TOKEN}"}


def test_ready_tells_anyone_else_only_whether_it_is_ready_and_reuses_a_recent_run(
    client: TestClient[Any],
    smtp: SmtpCapture,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A security review's: an anonymous /ready gave the SMTP server's address, the media
    folder and the log's head, and each call opened an SMTP connection and wrote a file."""
    monkeypatch.setattr(probes, "RECHECK_S", 3600.0)  # "recent", whatever the machine's pace
    reply = client.get("/ready")
    assert reply.status_code == 200 and reply.json() == {"status": "ready", "failed": []}
    assert "greets" not in reply.text and "127.0.0.1" not in reply.text
    smtp.stop()
    # The anonymous caller gets the last run; the operator, a new one, which is then the last.
    assert client.get("/ready").status_code == 200
    stopped = client.get("/ready", headers=operator)
    assert stopped.status_code == 503 and stopped.json()["checks"]["smtp"]["detail"]
    anonymous = client.get("/ready")
    assert anonymous.status_code == 503 and anonymous.json() == {
        "status": "not ready",
        "failed": ["smtp"],
    }


def test_ready_lists_each_check_when_all_answer(
    client: TestClient[Any], operator: dict[str, str]
) -> None:
    reply = client.get("/ready", headers=operator)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"store", "media", "smtp", "rate_limits"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "greets" in body["checks"]["smtp"]["detail"]


def test_ready_is_503_naming_a_stopped_smtp_server(
    client: TestClient[Any], smtp: SmtpCapture, operator: dict[str, str]
) -> None:
    smtp.stop()
    reply = client.get("/ready", headers=operator)
    assert reply.status_code == 503
    body = reply.json()
    assert body["failed"] == ["smtp"]
    assert body["checks"]["store"]["ok"] and body["checks"]["media"]["ok"]
    assert body["checks"]["smtp"]["detail"]  # the reason, for the operator
    smtp.start()  # it comes back: ready again, nothing restarted
    assert client.get("/ready", headers=operator).status_code == 200


def test_ready_is_503_naming_a_rate_limits_redis_that_does_not_answer(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch, operator: dict[str, str]
) -> None:
    """Redis down, nobody could log in while /ready said the node was fine (an operator's
    review); the detail names the setting and never its password."""
    monkeypatch.setenv("VIGIE_REDIS_URL", f"redis://:secret-pw@127.0.0.1:{free_port()}/9")
    reply = client.get("/ready", headers=operator)
    assert reply.status_code == 503
    assert reply.json()["failed"] == ["rate_limits"]
    detail = reply.json()["checks"]["rate_limits"]["detail"]
    assert "VIGIE_REDIS_URL" in detail and "secret-pw" not in detail


def test_a_log_in_while_the_rate_limits_redis_is_down_says_try_again_not_a_fault(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """It answered 500 « a problem on our side », the log naming no setting."""
    down = RedisStore.with_client(url=f"redis://127.0.0.1:{free_port()}/9", namespace="t")
    app = web_app.create_app(platform, secret=SECRET, support=SupportContact(), rate_limits=down)
    with TestClient(app) as client, caplog.at_level(logging.WARNING, "vigie.web"):
        page = client.get("/staff/login")
        token = page.cookies.get("vigie_csrf") or client.cookies.get("vigie_csrf") or ""
        reply = client.post(
            "/staff/login",
            data={"email": "eve@example.org", "password": "x" * 12, "_csrf_token": token},
        )
    assert reply.status_code == 503 and reply.headers["Retry-After"]
    assert "VIGIE_REDIS_URL" in caplog.text


def test_ready_is_503_naming_a_missing_media_folder(
    client: TestClient[Any], platform: Platform, tmp_path: Path, operator: dict[str, str]
) -> None:
    shutil.rmtree(tmp_path / "media")  # an unmounted volume: not created behind its back
    reply = client.get("/ready", headers=operator)
    assert reply.status_code == 503
    assert reply.json()["failed"] == ["media"]
    assert "does not exist" in reply.json()["checks"]["media"]["detail"]
    assert not (tmp_path / "media").exists()


def test_metrics_are_for_a_scraper_only(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGIE_METRICS_TOKEN", raising=False)
    assert client.get("/metrics").status_code == 404  # the test client is not 127.0.0.1
    monkeypatch.setenv("VIGIE_METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"authorization": "Bearer not-the-token"})
    assert wrong.status_code == 404
    right = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain")


def test_request_latency_is_by_route_template_and_status_class(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = scrape(client, monkeypatch)
    for code in ("en", "fr", "de"):
        client.get(f"/lang/{code}", follow_redirects=False)
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")
    after = scrape(client, monkeypatch)
    name = "vigie_http_request_duration_seconds_count"
    lang = f'{name}{{method="GET",route="/lang/{{code}}",status="3xx"}}'
    assert after[lang] - before.get(lang, 0) == 3
    unknown = f'{name}{{method="GET",route="<unmatched>",status="4xx"}}'
    assert after[unknown] - before.get(unknown, 0) == 2
    assert not [key for key in after if "/lang/en" in key or "no-such-page" in key]


def test_events_appended_and_the_outbox_depth_follow_an_enrolment(
    client: TestClient[Any], platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = scrape(client, monkeypatch)
    journey = Journey(platform, email="observed@example.org")
    enrolment.enrol_candidate(  # as the operator's page does: no worker pass yet
        platform.ctx,
        platform.projections,
        centre_id=journey.centre_id,
        email=journey.email,
        surname="Martin",
        first_name="Camille",
        certification_code="ENI-ACCESS",
    )
    platform.runner.run_until_quiet()  # the mail policy decides the welcome mail
    platform.projections.catch_up(platform.ctx.store)
    after = scrape(client, monkeypatch)
    enrolments = 'vigie_events_appended_total{aggregate="Enrollment"}'
    assert after[enrolments] - before.get(enrolments, 0) >= 1
    candidates = 'vigie_events_appended_total{aggregate="Candidate"}'
    assert after[candidates] - before.get(candidates, 0) >= 1
    pending = 'vigie_outbox_mails{status="pending"}'
    assert after[pending] >= 1
    assert after["vigie_log_head{}"] > before["vigie_log_head{}"]
    assert after["vigie_projection_lag_events{}"] == 0
    platform.settle()  # the worker's pass: the mails go out, the read models catch up
    settled = scrape(client, monkeypatch)
    assert settled[pending] == 0
    assert settled['vigie_outbox_mails{status="failed"}'] == 0


def test_a_json_log_line_carries_the_request_id(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("vigie")
    logger.addHandler(handler)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("a fault for the log")

    monkeypatch.setattr(web_app.site, "context", broken)
    try:
        reply = client.get("/support", headers={"x-request-id": "probe-req-0001"})
    finally:
        logger.removeHandler(handler)
    assert reply.status_code == 500
    # The request's own line: another thread of this test process (a platform an earlier
    # test left catching up) may log to « vigie » meanwhile (a loaded run read two lines).
    (line,) = [
        parsed
        for parsed in map(json.loads, stream.getvalue().splitlines())
        if parsed["logger"] == "vigie.web"
    ]
    assert line["request_id"] == "probe-req-0001"
    assert line["level"] == "ERROR" and line["logger"] == "vigie.web"
    assert "GET /support failed" in line["message"]
    assert "RuntimeError: a fault for the log" in line["exception"]
    assert line["time"].endswith("+00:00")


def test_a_text_log_line_gives_its_time_in_the_platforms_zone_with_the_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pages and mails give Paris time: a log line read beside them says which time it is."""
    monkeypatch.setenv("VIGIE_TIME_ZONE", "Europe/Paris")
    record = logging.LogRecord("vigie.web", logging.WARNING, __file__, 1, "probe", None, None)
    record.created = datetime(2026, 7, 1, 12, 0, 5, 250000, tzinfo=UTC).timestamp()
    record.request_id = "-"
    line = logs.formatter("text").format(record)
    assert line.startswith("2026-07-01 14:00:05.250+02:00 WARNING vigie.web [-] probe")
    monkeypatch.setenv("VIGIE_TIME_ZONE", "Nowhere/Atlantis")  # refused at start, not here
    assert logs.formatter("text").format(record).startswith("2026-07-01 12:00:05.250+00:00")


def test_an_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="VIGIE_LOG_FORMAT"):
        logs.formatter("yaml")
    assert isinstance(logs.formatter("text"), logging.Formatter)


def test_each_answer_has_a_json_line_at_info_and_other_libraries_write_json_too(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator's review (issue 15): at INFO no line carried a request id, since nothing
    was said of an answer, and aioice's ICE lines came in Litestar's text format in the
    middle of the JSON ones. Each answer now has its line; every other library's line goes
    through the same formatter, from WARNING up."""
    monkeypatch.setenv("VIGIE_LOG_FORMAT", "json")
    # As in a fresh process: an earlier test here may have configured them (once a process).
    for name in ("vigie", ""):
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
    stream = io.StringIO()
    with logs.configured(stream, "INFO"):
        client.get("/health", headers={"x-request-id": "probe-req-0002"})
        client.get("/no-such-page?t=secret-signature")
        logging.getLogger("aioice.ice").info("Connection(1) Check CandidatePair")
        logging.getLogger("aioice.ice").warning("Connection(1) failed")
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "vigie.access"]
    assert [line["message"].rsplit(" ", 2)[0] for line in access] == [
        "GET /health 200",
        "GET /no-such-page 404",
    ]
    assert access[0]["request_id"] == "probe-req-0002" and access[1]["request_id"] != "-"
    assert "secret-signature" not in stream.getvalue()
    others = [line for line in lines if line["logger"] == "aioice.ice"]
    assert [(o["level"], o["message"]) for o in others] == [("WARNING", "Connection(1) failed")]
