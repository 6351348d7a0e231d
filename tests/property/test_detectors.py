"""Detectors on generated frames and sound: drawn faces (the Haar cascade finds them), a
moving test pattern, silence, a steady tone, tone and noise bursts; then the same detectors fed
through the in-memory live recorder, where their hints come out in media time."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.clock import ManualClock
from adapters.detectors.faces import FaceCounter
from adapters.detectors.spans import SpanMerger
from adapters.detectors.voice import SPEECH_WHILE_FACE_ABSENT, SpeechWhileFaceAbsent, VoiceActivity
from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer, moving_pattern
from app.ports.live_media import AudioWindow, Detection, LiveEvent, VideoSample
from domain.evidence import FlagKind, MediaSpan

RATE = 48_000
SESSION = uuid.UUID(int=7)


def draw_face(image: np.ndarray, cx: int, cy: int, size: int) -> None:
    """A soft, frontal cartoon face: light oval, dark hair, eye sockets, brows, nose, mouth.

    The frontal cascade keys on dark eyes over lighter cheeks and a light nose bridge; these
    proportions are detected from 60 to 160 px high on a grey background.
    """
    layer = np.zeros(image.shape[:2], np.float32)
    s = size

    def ellipse(cx_: float, cy_: float, ax: float, ay: float, value: int, half: bool = False):
        start, end = (180, 360) if half else (0, 360)
        cv2.ellipse(layer, (int(cx_), int(cy_)), (int(ax), int(ay)), 0, start, end, value, -1)

    ellipse(cx, cy, 0.40 * s, 0.52 * s, 190)
    ellipse(cx, cy - 0.42 * s, 0.44 * s, 0.22 * s, 50, half=True)
    for side in (-1, 1):
        ex, ey = cx + side * 0.24 * s, cy - 0.08 * s
        ellipse(ex, ey, 0.12 * s, 0.08 * s, 60)
        ellipse(ex, ey - 0.12 * s, 0.13 * s, 0.03 * s, 60)
    ellipse(cx, cy + 0.15 * s, 0.08 * s, 0.03 * s, 120)
    ellipse(cx, cy + 0.29 * s, 0.15 * s, 0.045 * s, 80)
    k = int(0.1 * s) | 1
    layer = cv2.GaussianBlur(layer, (k, k), 0)
    mask = cv2.GaussianBlur((layer > 0).astype(np.float32), (k, k), 0)
    for channel in range(3):
        blended = image[..., channel] * (1 - mask) + layer * mask
        image[..., channel] = blended.clip(0, 255).astype(np.uint8)


def picture(*faces: tuple[int, int, int]) -> np.ndarray:
    image = np.full((240, 320, 3), 120, np.uint8)
    for cx, cy, size in faces:
        draw_face(image, cx, cy, size)
    return image


ONE_FACE = picture((160, 120, 110))
TWO_FACES = picture((80, 120, 90), (240, 125, 90))
NOBODY = moving_pattern(320, 240, 3)


def sample(image: np.ndarray) -> VideoSample:
    return VideoSample(image.shape[1], image.shape[0], image.tobytes())


def window(samples: np.ndarray) -> AudioWindow:
    return AudioWindow(RATE, samples.astype(np.int16).tobytes())


def sine(seconds: float, amplitude: float = 0.3, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return amplitude * 32767 * np.sin(2 * np.pi * frequency * t)


def bursts(seconds: float, source: np.ndarray, per_second: float = 4.0) -> np.ndarray:
    """On for half of each period, off for the other half: syllable-like loudness changes."""
    t = np.arange(len(source)) / RATE
    return source * ((t * per_second) % 1 < 0.5)


def silence(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.normal(0, 20, int(seconds * RATE))  # a quiet room, about -64 dBFS


def feed_frames(detector: FaceCounter, images: list[np.ndarray]) -> list[Detection]:
    hits = [h for t, im in enumerate(images) for h in detector.frame(SESSION, t, sample(im))]
    return hits + detector.finish(SESSION, len(images))


@pytest.mark.parametrize(
    ("image", "count"), [(NOBODY, 0), (ONE_FACE, 1), (TWO_FACES, 2)], ids=["0", "1", "2"]
)
def test_the_face_counter_counts_drawn_faces(image: np.ndarray, count: int) -> None:
    assert FaceCounter().faces(sample(image))[0] == count


def test_two_faces_for_two_seconds_make_a_several_faces_flag() -> None:
    hits = feed_frames(FaceCounter(), [ONE_FACE, TWO_FACES, TWO_FACES, TWO_FACES, ONE_FACE])
    [flag] = hits
    assert flag.kind is FlagKind.SEVERAL_FACES and flag.span == MediaSpan(1.0, 4.0)
    assert 0.6 <= flag.confidence <= 0.9


def test_no_face_for_three_seconds_makes_a_face_absent_flag() -> None:
    hits = feed_frames(FaceCounter(), [ONE_FACE, NOBODY, NOBODY, NOBODY, NOBODY, ONE_FACE])
    assert [(h.kind, h.span) for h in hits] == [(FlagKind.FACE_ABSENT, MediaSpan(1.0, 5.0))]


def test_a_face_missed_once_or_twice_is_not_flagged() -> None:
    assert feed_frames(FaceCounter(), [ONE_FACE, NOBODY, NOBODY, ONE_FACE, TWO_FACES]) == []


def test_silence_makes_no_voice_flag() -> None:
    voice = VoiceActivity()
    assert voice.audio(SESSION, 0.0, window(silence(1))) == []
    assert voice.speech(SESSION, window(silence(1))) is None
    assert voice.finish(SESSION, 2.0) == []


def test_a_steady_tone_is_loud_but_not_speech_unless_modulation_is_waived() -> None:
    assert VoiceActivity().speech(SESSION, window(sine(1))) is None
    energy_only = VoiceActivity(require_modulation=False)
    # Energy alone: loud against the room's floor, so a tone after silence counts...
    assert energy_only.speech(SESSION, window(silence(3))) is None
    assert energy_only.speech(SESSION, window(sine(1))) is not None
    # ...but a sound present from the start is the floor itself (a fan is not a voice).
    assert VoiceActivity(require_modulation=False).speech(SESSION, window(sine(1))) is None


@pytest.mark.parametrize(
    "source",
    [sine(1, 0.2, 300), np.random.default_rng(2).normal(0, 4000, RATE)],
    ids=["tone-bursts", "noise-bursts"],
)
def test_bursts_of_sound_for_two_seconds_make_a_voice_flag(source: np.ndarray) -> None:
    voice = VoiceActivity()
    hits = voice.audio(SESSION, 0.0, window(silence(1)))
    for start in (1.0, 2.0):
        hits += voice.audio(SESSION, start, window(bursts(1, source)))
    hits += voice.audio(SESSION, 3.0, window(silence(1)))
    [flag] = hits + voice.finish(SESSION, 4.0)
    assert flag.kind is FlagKind.VOICE and flag.span == MediaSpan(1.0, 3.0)
    assert 0.5 <= flag.confidence <= 0.95


def test_speech_while_the_face_is_absent_is_flagged_with_a_note() -> None:
    detector = SpeechWhileFaceAbsent()
    hits: list[Detection] = []
    for t in range(5):
        hits += detector.frame(SESSION, t, sample(ONE_FACE if t < 2 else NOBODY))
        hits += detector.audio(SESSION, t, window(bursts(1, sine(1, 0.2, 300))))
    hits += detector.finish(SESSION, 5.0)
    by_note = {(h.kind, h.note): h.span for h in hits}
    assert by_note == {
        (FlagKind.FACE_ABSENT, ""): MediaSpan(2.0, 5.0),
        (FlagKind.VOICE, ""): MediaSpan(0.0, 5.0),
        (FlagKind.VOICE, SPEECH_WHILE_FACE_ABSENT): MediaSpan(2.0, 5.0),
    }


def test_the_live_recorder_reports_detector_hints_in_media_time() -> None:
    clock = ManualClock(datetime(2031, 3, 4, 9, 0, tzinfo=UTC))
    events: list[LiveEvent] = []
    recorder = MemoryLiveRecorder(clock, events.append, [SpeechWhileFaceAbsent()])
    peer = MemoryPeer(recorder, clock)

    async def run() -> None:
        peer.accept(await recorder.open(SESSION, peer.offer()))
        peer.play(2.0, image=ONE_FACE, amplitude=0.0)
        peer.play(3.0, image=TWO_FACES, amplitude=0.0)
        peer.play(1.0, image=ONE_FACE, amplitude=0.0)
        await recorder.close(SESSION)

    asyncio.run(run())
    flags = [e for e in events if isinstance(e, Detection)]
    assert [(f.kind, f.span, f.session_id) for f in flags] == [
        (FlagKind.SEVERAL_FACES, MediaSpan(2.0, 5.0), SESSION)
    ]


def test_a_face_absent_until_the_exam_is_sent_is_flagged_while_it_lasts() -> None:
    """A run was reported only when it ended: absent until the exam was sent, it ended after
    the session closed, where a flag is refused (R18), and a face absent for the whole exam
    was never flagged (a user's review). Reported every 30 s while it lasts."""
    detector = FaceCounter()
    hits = [h for t in range(35) for h in detector.frame(SESSION, t, sample(NOBODY))]
    assert [(h.kind, h.span) for h in hits] == [(FlagKind.FACE_ABSENT, MediaSpan(0.0, 30.0))]
    assert detector.absent_since(SESSION) is not None  # still absent: speech is still « while »


@given(
    seconds=st.integers(min_value=1, max_value=200),
    every=st.sampled_from([5.0, 30.0]),
)
def test_a_long_run_is_reported_in_parts_that_tile_it_the_last_at_its_end(
    seconds: int, every: float
) -> None:
    merger = SpanMerger(FlagKind.FACE_ABSENT, 3.0, report_every_s=every)
    while_going = [d for t in range(seconds) for d in merger.observe(SESSION, t, 1.0, 0.8)]
    at_end = merger.finish(SESSION)
    spans = [d.span for d in while_going + at_end]
    assert all(s.end_s - s.start_s <= every for s in spans)
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(spans))  # no hole, no overlap
    assert len(while_going) == int(seconds // every)  # each full part while it lasts
    covered = spans[-1].end_s if spans else 0.0
    left = seconds - int(seconds // every) * every
    assert covered == (seconds if left >= 3.0 or not left else seconds - left)
    assert all(d.confidence == 0.8 for d in while_going + at_end)
