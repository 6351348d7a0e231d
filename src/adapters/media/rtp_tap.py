"""The encoded frames of an aiortc receiver, taken before its decoder (aiortc 1.16.0, pinned).

Why a hook at all: aiortc offers a remote track only as decoded frames, and decoding every
frame (then re-encoding it for the segment) was most of a recording's cost. `RTCRtpReceiver`
depayloads RTP and reassembles whole frames in its jitter buffer on the event loop, then puts
`(codec, JitterFrame)` on a `queue.Queue` that its decoder thread reads; the thread is started
by `receive()`, once DTLS is up, with that queue as its argument. `tap` swaps the queue, before
`receive()`, for one that shows each frame to the recorder first and passes on to the decoder
only what the recorder says (a supervisor watching, for instance). Packet loss, NACKs, RTX and
the jitter buffer stay aiortc's.

This is the only module that reaches into aiortc's private attributes (`__decoder_queue`,
`__decoder_thread`, `__decoder_error`). `tests/property/test_rtp_tap.py` fails if they change.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

# (codec, frame) -> whether aiortc's decoder should decode it too
OnFrame = Callable[[RTCRtpCodecParameters, JitterFrame], bool]

_QUEUE = "_RTCRtpReceiver__decoder_queue"
_THREAD = "_RTCRtpReceiver__decoder_thread"
_ERROR = "_RTCRtpReceiver__decoder_error"


class TapUnavailable(RuntimeError):
    """The receiver is not the aiortc this module was written for, or has already started."""


class _TapQueue(queue.Queue[Any]):
    def __init__(self, on_frame: OnFrame) -> None:
        super().__init__()
        self.on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        # None is the receiver's stop sentinel: always through, the decoder thread must end.
        if item is None or self.on_frame(*item):
            super().put(item, block, timeout)


def tap(receiver: RTCRtpReceiver, on_frame: OnFrame) -> None:
    """Show every encoded frame `receiver` reassembles to `on_frame` (on the event loop).

    Call it before the receiver starts (in the peer connection's "track" event)."""
    current = getattr(receiver, _QUEUE, None)
    if type(current) is not queue.Queue or getattr(receiver, _THREAD, 0) is not None:
        raise TapUnavailable(f"cannot tap {receiver!r}: aiortc's receiver changed or started")
    setattr(receiver, _QUEUE, _TapQueue(on_frame))


def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the sender for a keyframe (a PLI), as aiortc does after a frame fails to decode."""
    error = getattr(receiver, _ERROR, None)
    if not isinstance(error, threading.Event):
        raise TapUnavailable(f"cannot ask {receiver!r} for a keyframe: aiortc's receiver changed")
    error.set()  # the receiver sends a PLI with its next video packet
