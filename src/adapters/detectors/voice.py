"""Voice activity on the microphone, by energy and loudness modulation (no model to download).

Each audio window (about one second of int16 mono PCM) is cut into 20 ms frames:
- a frame is *loud* when its RMS exceeds `max(min_rms, 4 x noise floor)`; `min_rms` = 600
  (about -35 dBFS, a voice at 50 cm from a laptop microphone lands at -30 to -15 dBFS); the
  noise floor is the session's 10th percentile of frame RMS (the last minute), so a fan
  raises the bar, and a sound present from the session's first second is the floor itself;
- a window is *speech* when at least 20 % of its frames are loud and, with
  `require_modulation` (the default), the loudness varies the way syllables do: the
  coefficient of variation of the frames' RMS is at least 0.35. A steady tone, a fan or a hum
  is loud but flat (CV near 0) and is not flagged; speech, a radio or music with pauses is.
VOICE is reported for runs of speech windows lasting `min_voice_s` (1 s). Expected false flags:
the candidate reading questions aloud, coughs and keyboard bursts close to the microphone,
music or a TV in the room. Missed: whispering under -35 dBFS.

`SpeechWhileFaceAbsent` combines this with a `FaceCounter`: speech heard while no face is seen
is reported again as VOICE with the note "speech while face absent" (someone else talking, or
the candidate away from the camera talking).
"""

from __future__ import annotations

from collections import deque
from uuid import UUID

import numpy as np

from adapters.detectors.faces import FaceCounter
from adapters.detectors.spans import SpanMerger
from app.ports.live_media import AudioWindow, Detection, VideoSample
from domain.evidence import FlagKind

FRAME_S = 0.02
SPEECH_WHILE_FACE_ABSENT = "speech while face absent"


class VoiceActivity:
    """`Detector` flagging speech-like sound in audio windows."""

    def __init__(
        self,
        *,
        min_rms: float = 600.0,
        floor_factor: float = 4.0,
        min_loud_share: float = 0.2,
        min_modulation: float = 0.35,
        require_modulation: bool = True,
        min_voice_s: float = 1.0,
    ) -> None:
        self.min_rms = min_rms
        self.floor_factor = floor_factor
        self.min_loud_share = min_loud_share
        self.min_modulation = min_modulation
        self.require_modulation = require_modulation
        self.spans = SpanMerger(FlagKind.VOICE, min_voice_s)
        self.history: dict[UUID, deque[float]] = {}

    def speech(self, session_id: UUID, window: AudioWindow) -> float | None:
        """The window's confidence of speech (0.5-0.95), or None when it is not speech."""
        samples = np.frombuffer(window.pcm, np.int16).astype(np.float64)
        size = max(int(window.sample_rate * FRAME_S), 1)
        usable = len(samples) // size * size
        if usable == 0:
            return None
        rms = np.sqrt(np.mean(samples[:usable].reshape(-1, size) ** 2, axis=1))
        history = self.history.setdefault(session_id, deque(maxlen=3000))  # ~1 min of frames
        history.extend(rms.tolist())
        floor = float(np.percentile(np.fromiter(history, float), 10))
        threshold = max(self.min_rms, self.floor_factor * floor)
        loud_share = float(np.mean(rms > threshold))
        if loud_share < self.min_loud_share:
            return None
        modulation = float(np.std(rms) / (np.mean(rms) + 1e-9))
        if self.require_modulation and modulation < self.min_modulation:
            return None
        return round(min(0.95, 0.5 + 0.5 * loud_share), 3)

    def frame(self, session_id: UUID, t_s: float, sample: VideoSample) -> list[Detection]:
        return []

    def audio(self, session_id: UUID, t_s: float, window: AudioWindow) -> list[Detection]:
        return self.spans.observe(session_id, t_s, window.seconds, self.speech(session_id, window))

    def finish(self, session_id: UUID, t_s: float) -> list[Detection]:
        self.history.pop(session_id, None)
        return self.spans.finish(session_id)


class SpeechWhileFaceAbsent:
    """`Detector` running faces and voice together, adding "speech while face absent" spans.

    It owns both detectors: register it instead of them (not beside them).
    """

    def __init__(self, faces: FaceCounter | None = None, voice: VoiceActivity | None = None):
        self.faces = faces or FaceCounter()
        self.voice = voice or VoiceActivity()
        self.both = SpanMerger(FlagKind.VOICE, 1.0, note=SPEECH_WHILE_FACE_ABSENT)

    def frame(self, session_id: UUID, t_s: float, sample: VideoSample) -> list[Detection]:
        return self.faces.frame(session_id, t_s, sample)

    def audio(self, session_id: UUID, t_s: float, window: AudioWindow) -> list[Detection]:
        confidence = self.voice.speech(session_id, window)
        hits = self.voice.spans.observe(session_id, t_s, window.seconds, confidence)
        absent = self.faces.absent_since(session_id)
        both = confidence if confidence is not None and absent is not None else None
        return hits + self.both.observe(session_id, t_s, window.seconds, both)

    def finish(self, session_id: UUID, t_s: float) -> list[Detection]:
        return (
            self.faces.finish(session_id, t_s)
            + self.voice.finish(session_id, t_s)
            + self.both.finish(session_id)
        )
