"""Issue 14, point 5: every upload is held to its kind's row of one table (`UPLOADS`): the
format read from its bytes (photos JPEG, PNG or WebP; recordings WebM, Matroska or MP4) and a
largest size. A wrong format is a 415 and a file too large a 413, both naming the field in the
reader's language, shown in place on the checks page; nothing is stored, nothing recorded."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.media_content import UPLOADS, MediaFormat, media_format, recording_kind
from domain.proctored_session import EnvironmentPart, ProctoredSession
from tests.acceptance.test_media_kept import HTML, SVG, kept, media_platform
from tests.acceptance.web import csrf, log_in
from ui.journey import Journey
from ui.web.app import create_app
from ui.web.edge import FRAGMENT_HEADER
from vigie_contracts.samples import ebml_sample, jpeg_sample

PASSWORD = "uploads-pass-1"
# Each upload route, by the kind it takes: the checks page's button and the API's step.
ACTIONS = {
    "face-photo": "face-photo",
    "id-photo": "id-photo",
    **{recording_kind(part): f"env-stop-{part.value}" for part in EnvironmentPart},
}


@pytest.fixture
def signed_in(tmp_path: Path) -> Iterator[tuple[Journey, TestClient[Any], Path]]:
    platform = media_platform(tmp_path / "media")
    journey = Journey(platform, email="uploads@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    with TestClient(create_app(platform, secret=b"u" * 32, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, PASSWORD)
        yield journey, client, tmp_path / "media"
    platform.close()


def post(client: TestClient[Any], journey: Journey, kind: str, content: bytes, api: bool) -> Any:
    field = UPLOADS[kind].field
    path = (
        f"/api/sessions/{journey.session_id}/steps/{ACTIONS[kind]}"
        if api
        else f"/exams/{journey.session_id}/do/{ACTIONS[kind]}"
    )
    return client.post(
        path,
        files={field: ("camera.jpg", content, "image/jpeg")},  # the declared type lies
        headers={**csrf(client), FRAGMENT_HEADER: "1"},
        follow_redirects=False,
    )


def history(platform: Platform, journey: Journey) -> int:
    assert journey.session_id is not None
    return len(platform.ctx.store.history(journey.session_id))


WRONG = {
    "SVG": SVG,
    "HTML": HTML,
    "a JPEG signature then HTML": b"\xff\xd8\xff" + HTML,
    "a PNG without its header": b"\x89PNG\r\n\x1a\n" + HTML,
    "a GIF": b"GIF89a\x01\x00\x01\x00" + b"\0" * 20,
    "an HEIF picture": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
}


def test_a_file_of_another_format_is_a_415_naming_the_field_and_nothing_is_kept(
    signed_in: tuple[Journey, TestClient[Any], Path],
) -> None:
    journey, client, root = signed_in
    before = history(journey.platform, journey)
    for kind in ACTIONS:
        for api in (False, True):
            for name, content in WRONG.items():
                reply = post(client, journey, kind, content, api)
                assert reply.status_code == 415, (kind, api, name, reply.text[:200])
                if api:
                    assert reply.json()["field"] == UPLOADS[kind].field
                else:  # the sentence alone, for the checks page to show in place
                    word = "Photo" if UPLOADS[kind].field == "photo" else "Enregistrement"
                    assert reply.text.strip().startswith('<div role="alert"')
                    assert f"{word} : " in reply.text, reply.text
    assert kept(journey.platform.ctx.media, root) == frozenset()
    assert history(journey.platform, journey) == before


def test_a_file_larger_than_its_kind_allows_is_a_413_naming_the_field_and_its_limit(
    signed_in: tuple[Journey, TestClient[Any], Path],
) -> None:
    """A real header, then padding: one byte over the kind's largest size."""
    journey, client, root = signed_in
    for kind, rule in UPLOADS.items():
        header = jpeg_sample() if rule.field == "photo" else ebml_sample()
        content = header + b"\0" * (rule.max_bytes + 1 - len(header))
        reply = post(client, journey, kind, content, api=False)
        assert reply.status_code == 413, reply.text[:200]
        limit = f"{rule.max_bytes // (1024 * 1024)}"
        said = html.unescape(reply.text)
        word = "Photo" if rule.field == "photo" else "Enregistrement"
        assert f"« {word} » est trop volumineux : envoyez un fichier d'au plus {limit} Mio" in said
    assert kept(journey.platform.ctx.media, root) == frozenset()


def test_an_8_mib_photo_is_taken_and_a_byte_more_is_refused_in_english(
    signed_in: tuple[Journey, TestClient[Any], Path],
) -> None:
    journey, client, root = signed_in
    client.get("/lang/en")
    limit = UPLOADS["face-photo"].max_bytes
    too_large = jpeg_sample() + b"\0" * (limit + 1 - len(jpeg_sample()))
    refused = post(client, journey, "face-photo", too_large, api=False)
    assert refused.status_code == 413
    assert "“Photo” is too large: send a file of at most 8 MiB (8 MiB sent)." in refused.text
    fifty = post(client, journey, "face-photo", too_large + b"\0" * (42 * 1024 * 1024), api=False)
    assert "“Photo” is too large: send a file of at most 8 MiB (50 MiB sent)." in fifty.text
    taken = post(client, journey, "face-photo", too_large[:limit], api=True)
    assert taken.status_code == 200, taken.text[:200]
    assert len(kept(journey.platform.ctx.media, root)) == 1


def image(extension: str) -> bytes:
    ok, data = cv2.imencode(extension, np.zeros((240, 320, 3), dtype=np.uint8))
    assert ok
    return bytes(data.tobytes())


def video(container: str, codec: str, seconds: float) -> bytes:
    """What a browser's MediaRecorder sends: a small video of that length."""
    sink = io.BytesIO()
    with av.open(sink, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for _ in range(round(seconds * 5) + 1):
            frame = av.VideoFrame.from_ndarray(np.zeros((24, 32, 3), np.uint8), format="rgb24")
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return sink.getvalue()


def test_a_webp_photo_and_an_mp4_recording_are_taken_as_a_browser_sends_them(
    signed_in: tuple[Journey, TestClient[Any], Path],
) -> None:
    """Safari records MP4; a canvas may give WebP: both are what the checks take."""
    journey, client, _ = signed_in
    webp = image(".webp")
    assert media_format(webp) is MediaFormat.WEBP
    mp4 = video("mp4", "libx264", 6.0)
    assert media_format(mp4) is MediaFormat.MP4
    assert post(client, journey, "face-photo", webp, api=True).status_code == 200
    assert post(client, journey, "face-photo", webp, api=True).status_code == 200  # retake
    client.post(f"/api/sessions/{journey.session_id}/steps/face-next", headers=csrf(client))
    assert post(client, journey, "id-photo", image(".png"), api=True).status_code == 200
    client.post(f"/api/sessions/{journey.session_id}/steps/id-next", headers=csrf(client))
    client.post(f"/api/sessions/{journey.session_id}/steps/env-start-ears", headers=csrf(client))
    stopped = post(client, journey, recording_kind(EnvironmentPart.EARS), mp4, api=True)
    assert stopped.status_code == 200, stopped.text[:300]
    session = journey.platform.ctx.store.get(journey.session_id, ProctoredSession)
    assert "ears_recorded" in [step.value for step in session.completed]


def test_the_connection_test_takes_its_own_sessions_posts_only(
    signed_in: tuple[Journey, TestClient[Any], Path],
) -> None:
    """Issue 14: `upload-test` was an anonymous upload sink. The candidate's own session
    answers; another session is a 403; over 1 MiB is a 413; logged out, the log-in page."""
    journey, client, _ = signed_in
    other = Journey(journey.platform, email="other-uploads@example.org")
    other.enrol()
    other.create_session()
    mine = f"/exams/{journey.session_id}/upload-test"
    assert client.post(mine, content=b"\0" * 262144, headers=csrf(client)).status_code == 201
    theirs = f"/exams/{other.session_id}/upload-test"
    assert client.post(theirs, content=b".", headers=csrf(client)).status_code == 403
    big = client.post(mine, content=b"\0" * (1024 * 1024 + 1), headers=csrf(client))
    assert big.status_code == 413
    client.post("/logout", headers=csrf(client))
    gone = client.post(mine, content=b".", headers=csrf(client), follow_redirects=False)
    assert gone.status_code in (302, 303) and gone.headers["location"] == "/login?ended=1"
