"""Issue 16, point 3: a certification may require Safe Exam Browser. Its exam tab then opens
only for requests carrying SEB's hashes over their URL — the Config Key of the `.seb` file
staff download, and one of the accepted Browser Exam Keys when some are listed — and refuses
any other with a page in the candidate's language. The platform is served for real on
127.0.0.1; the hashes are computed here, from the downloaded file, by this test's own code."""

from __future__ import annotations

import base64
import hashlib
import html
import plistlib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.launcher.page import ExamTab
from app import safe_exam_browser as seb
from app.catalogue import BankError, load_folder
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.exam_attempt import ExamAttempt
from domain.staff import Role
from tests.acceptance.web import free_port, her_browser, log_in, served
from ui.journey import PARIS, Journey
from ui.web.app import create_app

SECRET = "k" * 32
PASSWORD = "centre-pass-12"
ACCEPTED_BEK = "b" * 64


# --- SEB's algorithm, written again here from its documentation ------------------------------


def seb_json_by_hand(value: Any) -> str:
    """SEB-JSON as safeexambrowser.org/developer/seb-config-key.html describes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, bytes):  # <data>
        return '"' + base64.b64encode(value).decode() + '"'
    if isinstance(value, list):
        return "[" + ",".join(seb_json_by_hand(v) for v in value) + "]"
    assert isinstance(value, dict), type(value)
    keys = sorted((k for k in value if value[k] != {}), key=str.lower)
    return "{" + ",".join(f'"{k}":{seb_json_by_hand(value[k])}' for k in keys) + "}"


def config_key_of(seb_file: bytes) -> str:
    settings = plistlib.loads(seb_file)
    settings.pop("originatorVersion", None)
    return hashlib.sha256(seb_json_by_hand(settings).encode()).hexdigest()


def hashed(url: str, key: str) -> str:
    return hashlib.sha256((url + key).encode()).hexdigest()


def test_seb_json_sorts_keys_without_regard_to_case_and_escapes_nothing() -> None:
    settings = {
        "zoomMode": 0,
        "URLFilterEnable": False,
        "allowQuit": True,
        "originatorVersion": "SEB_OSX_2.1.4",  # metadata: not part of the key
        "proxies": {},  # an empty dictionary: left out
        "browserMessagingSocket": "ws:\\localhost:8706",
        "examKeySalt": b"\x01\x02",
        "permittedProcesses": [{"title": "SEB", "active": True}],
        "startURL": "https://vigie.example/é",
    }
    written = (
        '{"allowQuit":true,"browserMessagingSocket":"ws:\\localhost:8706",'
        '"examKeySalt":"AQI=","permittedProcesses":[{"active":true,"title":"SEB"}],'
        '"startURL":"https://vigie.example/é","URLFilterEnable":false,"zoomMode":0}'
    )
    assert seb.config_key(settings) == hashlib.sha256(written.encode()).hexdigest()


def test_the_request_hash_is_over_the_url_without_its_fragment() -> None:
    url = "https://vigie.example/w/ws-1?t=a.b"
    assert seb.request_hash(url + "#q-2", "c" * 64) == hashed(url, "c" * 64)


# --- a platform whose Access certification requires SEB --------------------------------------


def seb_catalogue(folder: Path, table: str) -> Path:
    data = resources.files("app") / "catalogue_data"
    for name in ("eni-access.toml", "eni-access-practice.toml"):
        (folder / name).write_bytes((data / name).read_bytes())
    with (folder / "eni-access.toml").open("a", encoding="utf-8") as bank:
        bank.write("\n[certification.safe_exam_browser]\n" + table)
    return folder


@pytest.fixture
def platform_at(tmp_path: Path) -> Iterator[tuple[Platform, int]]:
    port = free_port()
    folder = seb_catalogue(tmp_path, f'browser_exam_keys = ["{ACCEPTED_BEK}"]\n')
    platform = bootstrap(
        Settings(
            database_url="memory:",
            media_root=None,
            secret_key=SECRET,
            base_url=f"http://127.0.0.1:{port}",
            catalogue_dir=str(folder),
        ),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(16),
    )
    yield platform, port
    platform.close()


def download_seb(platform: Platform) -> tuple[bytes, str]:
    """What a training centre downloads from its page: the file and the key it announces."""
    accounts.register_staff(
        platform.ctx, email="centre@example.org", name="Centre", role=Role.CENTRE, password=PASSWORD
    )
    app = create_app(platform, secret=b"s" * 32, support=SupportContact())
    with TestClient(app) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        home = client.get("/operator")
        assert "/operator/certifications/ENI-ACCESS/seb" in home.text
        # The enrolment form's list says what the certification asks of the candidate.
        assert "Certification Bureautique Access — dans Safe Exam Browser" in home.text
        reply = client.get("/operator/certifications/ENI-ACCESS/seb")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/seb")
        assert client.get("/operator/certifications/NO-SUCH/seb").status_code == 404
        return reply.content, reply.headers["x-seb-config-key"]


def get(
    url: str,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    *,
    cookie: str,
) -> tuple[int, str]:
    """A GET (a POST with `form`) as a browser whose cookies are `cookie` sends it, and the
    page it answers."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={**(headers or {}), "Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, html.unescape(reply.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, html.unescape(error.read().decode())


def seb_headers(url: str, config_key: str, browser_exam_key: str) -> dict[str, str]:
    return {
        "X-SafeExamBrowser-ConfigKeyHash": hashed(url, config_key),
        "X-SafeExamBrowser-RequestHash": hashed(url, browser_exam_key),
    }


def test_the_seb_file_opens_the_platform_and_announces_its_config_key(
    platform_at: tuple[Platform, int],
) -> None:
    platform, port = platform_at
    content, announced = download_seb(platform)
    settings = plistlib.loads(content)
    assert settings["startURL"] == f"http://127.0.0.1:{port}/"
    assert settings["sendBrowserExamKey"] is True
    assert settings["browserMediaCaptureCamera"] is True
    assert len(settings["examKeySalt"]) == 32  # fixed: a build's Browser Exam Key stays put
    assert config_key_of(content) == announced


def test_a_workspace_request_without_the_right_seb_hashes_is_refused_and_one_with_them_served(
    platform_at: tuple[Platform, int],
) -> None:
    platform, port = platform_at
    content, _ = download_seb(platform)
    key = config_key_of(content)
    journey = Journey(platform)
    journey.in_exam()
    mine = her_browser(journey)  # she logged in inside SEB (its start page is the platform's)
    attempt = platform.ctx.store.get(journey.attempt_id, ExamAttempt)  # type: ignore[arg-type]
    url = attempt.workspace_url
    assert url is not None
    ref = url.split("/w/")[1].split("?")[0]
    beat = url.replace("?t=", "/beat?t=")
    with served(platform, port):
        before = platform.heartbeats.last_beat(ref)
        journey.clock.advance(seconds=5)  # a beat now would be later than the last one

        status, page = get(url, cookie=mine)  # an ordinary browser
        assert status == 403
        assert "Cet examen ne s'ouvre que dans Safe Exam Browser" in page
        assert "n'a pas été ouverte dans Safe Exam Browser" in page
        assert "Temps restant" not in page
        status, _ = get(beat, form={}, cookie=mine)
        assert status == 403
        assert platform.heartbeats.last_beat(ref) == before  # refused: no sign of life

        other_settings = seb_headers(url, "0" * 64, ACCEPTED_BEK)
        status, page = get(url, other_settings, cookie=mine)
        assert status == 403 and "pas avec la configuration de cet examen" in page
        other_build = seb_headers(url, key, "1" * 64)  # a build not accepted
        status, page = get(url, other_build, cookie=mine)
        assert status == 403 and "Cette version de Safe Exam Browser" in page
        other = url.replace("?t=", "?x=1&t=")  # hashes of another address
        status, _ = get(url, seb_headers(other, key, ACCEPTED_BEK), cookie=mine)
        assert status == 403

        in_seb = seb_headers(url, key, ACCEPTED_BEK)
        status, page = get(url, in_seb, cookie=mine)  # SEB, as configured, where she logged in
        assert status == 200 and "Temps restant" in page
        status, page = get(url, in_seb, cookie="")  # SEB, but nobody logged in there (F6)
        assert status == 401 and "Connectez-vous pour ouvrir votre examen" in page
        status, _ = get(beat, seb_headers(beat, key, ACCEPTED_BEK), form={}, cookie=mine)
        assert status == 204
        assert platform.heartbeats.last_beat(ref) > before  # type: ignore[operator]
        answer = url.replace("?t=", "/answer?t=")
        form = {"question_id": "tables-taille", "answer": "Octets"}
        status, _ = get(
            answer,
            seb_headers(answer, key, ACCEPTED_BEK) | {"x-vigie-fetch": "1"},
            form,
            cookie=mine,
        )
        assert status == 200
        status, _ = get(answer, {"x-vigie-fetch": "1"}, form, cookie=mine)
        assert status == 403


def test_the_refusal_page_speaks_english_to_an_english_candidate() -> None:
    page = html.unescape(
        ExamTab(SupportContact(), "Europe/Paris").seb_refused("config-key", "en", seb.RULE)
    )
    assert "This exam opens only in Safe Exam Browser" in page
    assert "not running with this exam's configuration" in page
    assert 'lang="en"' in page
    # Not one of the guide's rules: kept for the hotline in `data-rule`, never written to the
    # candidate (« rule SafeExamBrowserRequired » was, a user's tour).
    assert f'<p data-rule="{seb.RULE}">' in page
    assert f"rule {seb.RULE}" not in page and "rule-ref" not in page


def test_a_malformed_safe_exam_browser_table_is_refused_naming_its_field(tmp_path: Path) -> None:
    seb_catalogue(tmp_path, 'browser_exam_keys = ["not-a-key"]\n')
    with pytest.raises(BankError, match="browser_exam_keys"):
        load_folder(tmp_path)
    seb_catalogue(tmp_path, "quit_password = 'x'\n")
    with pytest.raises(BankError, match="quit_password"):
        load_folder(tmp_path)


def test_a_certification_that_requires_both_seb_and_the_screen_is_refused_naming_both(
    tmp_path: Path,
) -> None:
    """SEB forbids screen sharing: such a certification could never record the screen."""
    seb_catalogue(tmp_path, "")
    bank = tmp_path / "eni-access.toml"
    text = bank.read_text(encoding="utf-8")
    bank.write_text(text.replace("[certification]\n", "[certification]\nscreen_capture = true\n"))
    with pytest.raises(BankError, match=r"screen_capture and \[certification.safe_exam_browser\]"):
        load_folder(tmp_path)


def test_no_seb_file_is_served_for_a_certification_that_records_the_screen(
    tmp_path: Path,
) -> None:
    """SEB allows no screen sharing: such an exam taken in SEB would go unrecorded."""
    seb_catalogue(tmp_path, "")
    bank = tmp_path / "eni-access.toml"
    text = bank.read_text(encoding="utf-8").replace("\n[certification.safe_exam_browser]\n", "")
    bank.write_text(text.replace("[certification]\n", "[certification]\nscreen_capture = true\n"))
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, catalogue_dir=str(tmp_path)),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
    )
    try:
        accounts.register_staff(
            platform.ctx,
            email="centre@example.org",
            name="Centre",
            role=Role.CENTRE,
            password=PASSWORD,
        )
        app = create_app(platform, secret=b"s" * 32, support=SupportContact())
        with TestClient(app) as client:
            log_in(client, "/staff/login", "centre@example.org", PASSWORD)
            home = client.get("/operator").text
            assert "/seb" not in home
            assert "Certification Bureautique Access — écran enregistré aussi" in home
            assert client.get("/operator/certifications/ENI-ACCESS/seb").status_code == 404
    finally:
        platform.close()
