"""R10: each environment recording lasts at least its part's minimum (ears 5 s, room 10 s,
desk 5 s). The page counts down, but the server decides: it measures the uploaded file
itself (PyAV) and the domain refuses a shorter one with a sentence in the page's language;
nothing is recorded and the part can be filmed again."""

from __future__ import annotations

import io
import math

import av
import numpy as np
import pytest
from litestar.testing import TestClient

from adapters.media.duration import recording_seconds
from app.mail_rendering import SupportContact
from app.use_cases import proctoring
from domain.errors import RecordingTooShort
from domain.proctored_session import MIN_RECORDING_S, EnvironmentPart, ProctoredSession
from tests.acceptance.web import csrf, log_in
from ui.journey import Journey, make_platform
from ui.web.app import create_app
from vigie_contracts.samples import ebml_sample

PASSWORD = "candidat-pass-1"


def webm(seconds: float, rate: int = 10) -> bytes:
    """A real WebM video of about `seconds`, as a browser's MediaRecorder would send."""
    sink = io.BytesIO()
    with av.open(sink, mode="w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for index in range(max(1, round(seconds * rate))):
            frame = av.VideoFrame.from_ndarray(np.zeros((24, 32, 3), dtype=np.uint8), "rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return sink.getvalue()


def test_the_length_is_read_from_the_file_and_a_non_video_lasts_nothing() -> None:
    assert recording_seconds(webm(0.3)) == pytest.approx(0.3, abs=0.11)
    assert recording_seconds(webm(12)) == pytest.approx(12, abs=0.2)
    assert recording_seconds(ebml_sample()) == 0.0  # a header alone: no frame
    assert recording_seconds(b"not a video") == 0.0


@pytest.fixture
def recording_the_room() -> Journey:
    journey = Journey(make_platform())
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    sid = journey.session_id
    assert sid is not None
    proctoring.start_environment_recording(journey.ctx, sid, EnvironmentPart.EARS)
    proctoring.stop_environment_recording(
        journey.ctx, sid, EnvironmentPart.EARS, ebml_sample(), duration_s=6.0
    )
    proctoring.start_environment_recording(journey.ctx, sid, EnvironmentPart.ROOM)
    return journey


@pytest.mark.parametrize(
    ("language", "sentence", "reference"),
    [
        (
            "fr",
            "L'enregistrement de la pièce a duré 0,3 s\N{NO-BREAK SPACE}: filmez au moins "
            "10 secondes, "
            "puis arrêtez l'enregistrement.",
            "L'environnement s'enregistre dans l'ordre",  # the guide's R10, in words
        ),
        (
            "en",
            "The recording of the room lasted 0.3 s: film for at least 10 seconds, "
            "then stop the recording.",
            "The surroundings are recorded in order",  # the guide's R10, in words
        ),
    ],
)
def test_a_room_filmed_for_a_third_of_a_second_is_refused_in_the_pages_language(
    recording_the_room: Journey, language: str, sentence: str, reference: str
) -> None:
    journey = recording_the_room
    platform, sid = journey.platform, journey.session_id
    with TestClient(create_app(platform, secret=b"t" * 32, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, PASSWORD)
        client.get(f"/lang/{language}")
        refused = client.post(
            f"/exams/{sid}/do/env-stop-room",
            files={"recording": ("recording.webm", webm(0.3), "video/webm")},
            headers={**csrf(client), "x-vigie-fragment": "1"},
        )
        assert refused.status_code == 409
        assert sentence in refused.text.replace("&#39;", "'")
        assert reference in refused.text.replace("&#39;", "'")
        assert 'data-rule="R10"' in refused.text and "R10</" not in refused.text
        assert ("lasted" in refused.text) is (language == "en")  # no English on a French page
        session = platform.ctx.store.get(sid, ProctoredSession)
        assert session.recording_part is EnvironmentPart.ROOM  # still filming: try again
        accepted = client.post(
            f"/exams/{sid}/do/env-stop-room",
            files={"recording": ("recording.webm", webm(11), "video/webm")},
            headers=csrf(client),
            follow_redirects=False,
        )
        assert accepted.status_code in (302, 303)
        session = platform.ctx.store.get(sid, ProctoredSession)
        assert session.recording_part is None and session.next_step is not None
        assert session.next_step.value == "desk_recorded"


@pytest.mark.parametrize("part", list(EnvironmentPart))
@pytest.mark.parametrize("shortfall", [0.01, 1.0, math.inf])
def test_the_domain_refuses_any_part_shorter_than_its_minimum(
    part: EnvironmentPart, shortfall: float
) -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    sid = journey.session_id
    assert sid is not None
    for earlier in list(EnvironmentPart)[: list(EnvironmentPart).index(part)]:
        proctoring.start_environment_recording(journey.ctx, sid, earlier)
        proctoring.stop_environment_recording(
            journey.ctx, sid, earlier, ebml_sample(), duration_s=MIN_RECORDING_S[earlier]
        )
    proctoring.start_environment_recording(journey.ctx, sid, part)
    measured = math.nan if shortfall == math.inf else MIN_RECORDING_S[part] - shortfall
    with pytest.raises(RecordingTooShort):
        proctoring.stop_environment_recording(
            journey.ctx, sid, part, ebml_sample(), duration_s=measured
        )
    assert journey.ctx.store.get(sid, ProctoredSession).recording_part is part
