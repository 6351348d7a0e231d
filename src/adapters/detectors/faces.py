"""Face count with OpenCV's Haar cascade (shipped in opencv-python-headless, nothing downloaded).

Thresholds, on a 320x240 frame sampled once a second:
- `detectMultiScale(scaleFactor=1.1, minNeighbors=5, minSize=40x40)` after histogram
  equalisation. A face at webcam distance is 60-160 px high here; 40 px keeps a candidate
  leaning back, and minNeighbors=5 keeps false faces rare on posters and textures.
- FACE_ABSENT once no face is seen for `min_absent_s` (3 s): the frontal cascade misses faces
  turned more than ~30 degrees, looking down at a keyboard or in dim light, so single misses
  are expected and not reported. Expected false flags: long glances at notes on the desk (which
  is itself worth a look), a dark room, a camera pointed too high.
- SEVERAL_FACES once two or more faces are seen for `min_several_s` (2 s): a photograph or a
  face-like poster behind the candidate will be flagged too; the examiner judges.
Confidence is the share of supporting detections: 0.6 for a bare decision, up to 0.9 when the
cascade's neighbours agree strongly (averaged over the span).
"""

from __future__ import annotations

import threading
from uuid import UUID

import cv2
import numpy as np

from adapters.detectors.spans import SpanMerger
from app.ports.live_media import AudioWindow, Detection, VideoSample
from domain.evidence import FlagKind

CASCADE = "haarcascade_frontalface_default.xml"
SAMPLE_PERIOD_S = 1.0


class FaceCounter:
    """`Detector` counting frontal faces; reports absent and several-faces spans."""

    def __init__(
        self,
        *,
        min_absent_s: float = 3.0,
        min_several_s: float = 2.0,
        min_size_px: int = 40,
        min_neighbors: int = 5,
    ) -> None:
        self.min_size_px = min_size_px
        self.min_neighbors = min_neighbors
        self.absent = SpanMerger(FlagKind.FACE_ABSENT, min_absent_s)
        self.several = SpanMerger(FlagKind.SEVERAL_FACES, min_several_s)
        self._local = threading.local()  # a cascade is not safe to share between threads

    def _cascade(self) -> cv2.CascadeClassifier:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)  # type: ignore[attr-defined]
            if cascade.empty():
                raise RuntimeError(f"OpenCV could not load {CASCADE}")
            self._local.cascade = cascade
        return cascade

    def faces(self, sample: VideoSample) -> tuple[int, float]:
        """How many faces the frame shows, and how sure the cascade is (0.6-0.9)."""
        bgr = np.frombuffer(sample.bgr, np.uint8).reshape(sample.height, sample.width, 3)
        gray = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        boxes, _, weights = self._cascade().detectMultiScale3(
            gray,
            scaleFactor=1.1,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size_px, self.min_size_px),
            outputRejectLevels=True,
        )
        if len(boxes) == 0:
            return 0, 0.6
        # levelWeights above ~2 are strong; map the weakest face's weight to 0.6-0.9.
        weakest = float(np.min(weights)) if len(weights) else 0.0
        return len(boxes), round(0.6 + 0.3 * min(max(weakest, 0.0) / 4.0, 1.0), 3)

    def absent_since(self, session_id: UUID) -> float | None:
        """Media time since which no face is seen (even before it is reported), if so."""
        return self.absent.current_start(session_id)

    def frame(self, session_id: UUID, t_s: float, sample: VideoSample) -> list[Detection]:
        count, confidence = self.faces(sample)
        hits = self.absent.observe(
            session_id, t_s, SAMPLE_PERIOD_S, confidence if count == 0 else None
        )
        hits += self.several.observe(
            session_id, t_s, SAMPLE_PERIOD_S, confidence if count >= 2 else None
        )
        return hits

    def audio(self, session_id: UUID, t_s: float, window: AudioWindow) -> list[Detection]:
        return []

    def finish(self, session_id: UUID, t_s: float) -> list[Detection]:
        return self.absent.finish(session_id) + self.several.finish(session_id)
