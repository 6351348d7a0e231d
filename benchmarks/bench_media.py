"""Live media benchmark: N proctoring streams recorded at once by one server process.

Run: .venv/bin/python -m benchmarks.bench_media [--streams 2,4,8] [--seconds 12] [--client-fps 5]

Clients: N aiortc peers in a separate process (a browser is not in the server's process), each
sending lavfi `testsrc` 320x240 at --client-fps (VP8) and a 440 Hz `sine` (Opus), plus a data
channel with a heartbeat every second. ICE on 127.0.0.1 only (`loopback_ice`), in both processes.
Like a browser, a peer's encoder sends inter frames and a keyframe when asked (`AsCamera`: lavfi
marks every raw frame as a picture to encode whole, which aiortc's VP8 encoder obeys).

Server, two modes per N, same run:
  record     `WebRtcRecorder`: WebM segments holding the peers' own VP8 and Opus frames (not
             re-encoded), detectors on (faces and voice, 1 fps / 1 s windows, in a 2-thread
             pool); the peers are asked for a keyframe about once a second, and only the
             frames the detectors need are decoded (reported: decoded video frames and
             keyframes per stream-second, and the video's bitrate as the segments keep it);
  reference  the same peers whose tracks are only received and decoded, then dropped; no
             keyframe is asked for (its keyframes and video bitrate: what the asks cost).
Figures, over the steady part (after every connection is up): the server process's CPU
(psutil, user+system) as a share of one core, CPU per stream, RSS growth per stream, the
event loop's worst lag (a 100 ms timer), and for `record` whether every stream kept real time:
recorded video frames >= 90 % of 5 fps x its span, audio >= 90 % of its span, and no encode
backlog left growing (worst backlog reported). Streams per core = N / CPU share when real time
holds. `--no-keyframe-asks` records without asking for keyframes (every frame decoded, as
before issue 15's last step), to weigh the CPU saved against the keyframes' bits. Not asserted
anywhere; results go to benchmarks/results/bench_media-*.json.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av
import psutil
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.frame import PictureType

from adapters.clock import SystemClock
from adapters.detectors.voice import SpeechWhileFaceAbsent
from adapters.media.rtp_tap import tap
from adapters.media.webrtc import WebRtcRecorder, loopback_ice
from app.ports.live_media import Detection, LiveEvent, Segment
from benchmarks.harness import (
    arguments,
    command_line,
    finish_facts,
    machine_facts,
    print_machine,
    write_summary,
)

STREAMS = "2,4,8"
QUICK_STREAMS = "1"
SECONDS = 12.0
QUICK_SECONDS = 3.0


# --- the client process ------------------------------------------------------------------------


class AsCamera(MediaStreamTrack):
    """A player's video with its frames' picture type cleared, as a camera's come: lavfi's
    raw frames are all marked I, and FFmpeg's libvpx wrapper then encodes every frame as a
    keyframe; cleared, the encoder makes keyframes only when the receiver asks (PLI)."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source

    async def recv(self) -> Any:
        frame = await self.source.recv()
        frame.pict_type = PictureType.NONE
        return frame


def client_process(conn: Connection, n: int, seconds: float, fps: int) -> None:
    asyncio.run(_clients(conn, n, seconds, fps))


async def _clients(conn: Connection, n: int, seconds: float, fps: int) -> None:
    loop = asyncio.get_running_loop()
    with loopback_ice():
        peers: list[tuple[RTCPeerConnection, list[MediaPlayer], Any]] = []
        for _ in range(n):
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            players = [
                MediaPlayer(f"testsrc=size=320x240:rate={fps}", format="lavfi"),
                MediaPlayer("sine=frequency=440", format="lavfi"),
            ]
            assert players[0].video is not None
            pc.addTrack(AsCamera(players[0].video))
            pc.addTrack(players[1].audio)
            channel = pc.createDataChannel("vigie")
            await pc.setLocalDescription(await pc.createOffer())
            conn.send(pc.localDescription.sdp)
            answer = await loop.run_in_executor(None, conn.recv)
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            peers.append((pc, players, channel))
        conn.send("connected")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for _, _, channel in peers:
                if channel.readyState == "open":
                    channel.send('{"type":"heartbeat"}')
            await asyncio.sleep(1.0)
        for pc, players, _ in peers:
            await pc.close()
            # The players' decoding threads end with their tracks, before this loop closes
            # (they would queue frames on a closed loop: "Event loop is closed" tracebacks).
            for player in players:
                for track in (player.audio, player.video):
                    if track is not None:
                        track.stop()
        conn.send("done")


# --- the server side ---------------------------------------------------------------------------


class Reference:
    """Peers whose tracks are received and decoded, nothing else (no keyframe asked for);
    the video they were sent is counted (`rtp_tap`, every frame passed on to the decoder)."""

    def __init__(self) -> None:
        self.pcs: list[RTCPeerConnection] = []
        self.frames = 0
        self.video: dict[int, list[float]] = {}  # per peer: first, last arrival, bytes, keys
        self.drains: list[asyncio.Future[None]] = []

    async def open(self, session_id: uuid.UUID, offer: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)

        async def drain(track: Any) -> None:
            try:
                while True:
                    await track.recv()
                    self.frames += 1
            except MediaStreamError:
                return

        def count(codec: Any, frame: Any) -> bool:
            now = time.monotonic()
            seen = self.video.setdefault(id(pc), [now, now, 0, 0])
            seen[1], seen[2], seen[3] = (
                now,
                seen[2] + len(frame.data),
                seen[3] + (not frame.data[0] & 1),
            )
            return True

        def on_track(track: Any) -> None:
            if track.kind == "video":
                receiver = next(
                    t.receiver for t in pc.getTransceivers() if t.receiver.track is track
                )
                tap(receiver, count)
            self.drains.append(asyncio.ensure_future(drain(track)))

        pc.on("track", on_track)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def sent_video(self) -> tuple[float, float]:
        """Video kbit/s and keyframes/s, per stream, over each stream's span."""
        span = sum(max(last - first, 1e-9) for first, last, _, _ in self.video.values())
        size = sum(b for _, _, b, _ in self.video.values())
        keys = sum(k for _, _, _, k in self.video.values())
        return size * 8 / 1000 / max(span, 1e-9), keys / max(span, 1e-9)

    async def aclose(self) -> None:
        for pc in self.pcs:
            await pc.close()


async def loop_lag(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.1)
        worst[0] = max(worst[0], time.perf_counter() - before - 0.1)


async def run_mode(
    mode: str, n: int, seconds: float, fps: int, root: Path, ask_keyframes: bool = True
) -> dict[str, Any]:
    process = psutil.Process()
    events: list[LiveEvent] = []
    server: Any
    if mode == "record":
        server = WebRtcRecorder(
            root,
            SystemClock(),
            events.append,
            [SpeechWhileFaceAbsent()],
            ask_keyframes=ask_keyframes,
        )
    else:
        server = Reference()
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=client_process, args=(theirs, n, seconds, fps), daemon=True)
    rss_before = process.memory_info().rss
    child.start()
    loop = asyncio.get_running_loop()
    sessions = [uuid.uuid4() for _ in range(n)]
    for session in sessions:
        offer = await loop.run_in_executor(None, ours.recv)
        ours.send(await server.open(session, offer))
    assert await loop.run_in_executor(None, ours.recv) == "connected"
    await asyncio.sleep(1.0)  # let every connection settle before measuring
    stop, worst = asyncio.Event(), [0.0]
    lag = asyncio.ensure_future(loop_lag(stop, worst))
    cpu0, wall0 = process.cpu_times(), time.perf_counter()
    rss_peak = 0
    while child.is_alive() and not ours.poll():
        rss_peak = max(rss_peak, process.memory_info().rss)
        await asyncio.sleep(0.5)
    cpu1, wall1 = process.cpu_times(), time.perf_counter()
    stop.set()
    await lag
    assert await loop.run_in_executor(None, ours.recv) == "done"
    child.join(10)
    result: dict[str, Any] = {"mode": mode, "streams": n}
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (wall1 - wall0)
    result |= {
        "cpu_share_of_one_core": round(cpu, 3),
        "cpu_per_stream": round(cpu / n, 4),
        "rss_growth_mb": round((rss_peak - rss_before) / 2**20, 1),
        "rss_per_stream_mb": round((rss_peak - rss_before) / 2**20 / n, 2),
        "worst_loop_lag_ms": round(worst[0] * 1000, 1),
    }
    if mode == "record":
        backlog = server.max_encode_backlog
        for session in sessions:
            await server.close(session)
        await server.aclose()
        segments = [e for e in events if isinstance(e, Segment)]
        ok = 0
        for segment in segments:
            span = (segment.ended_at - segment.started_at).total_seconds()
            video_ok = segment.video_frames >= 0.9 * 5 * min(fps, 5) / 5 * span
            audio_ok = segment.audio_seconds >= 0.9 * span
            ok += video_ok and audio_ok
        spans = [max((s.ended_at - s.started_at).total_seconds(), 1e-9) for s in segments]
        stream_s = max(sum(spans), 1e-9)
        result |= {
            "worst_video_ratio": round(
                min(s.video_frames / (5 * span) for s, span in zip(segments, spans, strict=True)), 3
            ),
            "worst_audio_ratio": round(
                min(s.audio_seconds / span for s, span in zip(segments, spans, strict=True)), 3
            ),
            "segments": len(segments),
            "segments_in_real_time": ok,
            "worst_encode_backlog_frames": backlog,
            "detections": sum(isinstance(e, Detection) for e in events),
            "skipped_detector_samples": server.skipped_detections,
            "decoded_video_frames_per_s": round(server.video_frames_decoded / stream_s, 2),
            "keyframes_per_s": round(server.keyframes_received / stream_s, 2),
            "video_kbit_per_s": round(
                recorded_video_bytes(server, segments) * 8 / 1000 / stream_s, 1
            ),
            "real_time": ok == n and len(segments) == n,
            "mean_video_fps": round(
                sum(
                    s.video_frames / max((s.ended_at - s.started_at).total_seconds(), 1e-9)
                    for s in segments
                )
                / max(len(segments), 1),
                2,
            ),
        }
        if result["real_time"]:
            result["streams_per_core"] = round(n / max(cpu, 1e-9), 1)
    else:
        await server.aclose()
        result["streams_per_core"] = round(n / max(cpu, 1e-9), 1)
        kbit, keys = server.sent_video()
        result |= {"keyframes_per_s": round(keys, 2), "video_kbit_per_s": round(kbit, 1)}
    return result


def recorded_video_bytes(server: WebRtcRecorder, segments: list[Segment]) -> int:
    """The video the peers sent, as kept in the segments (their own VP8 frames)."""
    total = 0
    for segment in segments:
        with server.open_segment(segment.media_id) as raw, av.open(raw) as container:
            total += sum(p.size for p in container.demux(video=0))
    return total


async def bench(argv: list[str] | None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--streams", help=f"stream counts ({STREAMS}; quick {QUICK_STREAMS})")
    parser.add_argument("--seconds", type=float, help=f"per run ({SECONDS}; quick {QUICK_SECONDS})")
    parser.add_argument("--client-fps", type=int, default=5)
    parser.add_argument(
        "--no-keyframe-asks",
        action="store_true",
        help="record without asking the peers for keyframes (every frame decoded)",
    )
    args = parser.parse_args(argv)
    streams = args.streams or (QUICK_STREAMS if args.quick else STREAMS)
    seconds = args.seconds or (QUICK_SECONDS if args.quick else SECONDS)
    command = command_line()
    facts = machine_facts(["aiortc", "av"])
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with loopback_ice(), tempfile.TemporaryDirectory(prefix="vigie-bench-media-") as tmp:
        for n in [int(x) for x in streams.split(",")]:
            for mode in ("reference", "record"):
                print(f"  [{mode}] {n} streams, {seconds:.0f} s...", file=sys.stderr)
                rows.append(
                    await run_mode(
                        mode,
                        n,
                        seconds,
                        args.client_fps,
                        Path(tmp) / str(n),
                        ask_keyframes=not args.no_keyframe_asks,
                    )
                )
    finish_facts(facts, started)
    print_machine(facts, command)
    header = (
        f"{'N':>3} {'mode':>9} {'cpu/core':>8} {'cpu/str':>8} {'MB/str':>7} "
        f"{'lag ms':>7} {'rt':>3} {'fps':>5} {'backlog':>7} {'str/core':>8} "
        f"{'dec/s':>5} {'key/s':>5} {'v kb/s':>6}"
    )
    print(f"\nlive media, {os.cpu_count()} CPUs, client {args.client_fps} fps, detectors on")
    print(header)
    for row in rows:
        print(
            f"{row['streams']:>3} {row['mode']:>9} {row['cpu_share_of_one_core']:>8.2f} "
            f"{row['cpu_per_stream']:>8.3f} {row['rss_per_stream_mb']:>7.1f} "
            f"{row['worst_loop_lag_ms']:>7.1f} {str(row.get('real_time', '-'))[:3]:>3} "
            f"{row.get('mean_video_fps', '-')!s:>5} "
            f"{row.get('worst_encode_backlog_frames', '-')!s:>7} "
            f"{row.get('streams_per_core', '-')!s:>8} "
            f"{row.get('decoded_video_frames_per_s', '-')!s:>5} "
            f"{row.get('keyframes_per_s', '-')!s:>5} {row.get('video_kbit_per_s', '-')!s:>6}"
        )
    facts |= {
        "seconds": seconds,
        "client_fps": args.client_fps,
        "keyframe_asks": not args.no_keyframe_asks,
        "note": "clients run in a second process on the same machine and compete for CPU",
    }
    out = write_summary("media", {"command": command, "facts": facts, "rows": rows})
    print(f"\nJSON summary: {out}")
    recorded = [row for row in rows if row["mode"] == "record"]
    return 0 if all(row["segments"] == row["streams"] for row in recorded) else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(bench(argv))


if __name__ == "__main__":
    sys.exit(main())
