"""Harnesses for the live media contract: the in-memory recorder with a manual clock, and the
aiortc recorder with a real client peer (lavfi `testsrc` / `sine`) on loopback ICE or inside a
network namespace the test creates.

Not a test module: `test_live_media_contract.py` and the benchmark import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from adapters.clock import ManualClock, SystemClock
from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer
from adapters.media.webrtc import WebRtcRecorder, loopback_ice
from app.ports.live_media import SCREEN, Detector, LiveEvent, LiveRecorder

CLONE_NEWNET = 0x40000000


class Client(Protocol):
    def send(self, text: str) -> None: ...

    async def hang_up(self) -> None: ...


@dataclass
class Watching:
    """A supervisor's live view: the video frames it received, and whether it was hung up."""

    frames: Callable[[], int]
    ended: Callable[[], bool]


@dataclass
class Harness:
    recorder: LiveRecorder
    events: list[LiveEvent]
    connect: Callable[[UUID], Any]  # async: the page's peer, connected
    play: Callable[[float], Any]  # async: let media flow for that many seconds
    watch: Callable[..., Any]  # async: a supervisor's live view (`Watching`)
    tolerance_s: float  # how far a file's duration may be from its recorded span
    on_the_wall: bool = True  # False: media time is the harness's own clock, not the wall's
    cleanup: list[Callable[[], Any]] = field(default_factory=list)
    # Issue 16: async, the page's shared screen connected beside its camera
    connect_screen: Callable[[UUID], Any] | None = None


# --- in memory -------------------------------------------------------------------------------


class _MemoryClient:
    def __init__(self, peer: MemoryPeer) -> None:
        self.peer = peer

    def send(self, text: str) -> None:
        self.peer.send(text)

    async def hang_up(self) -> None:
        self.peer.hang_up()


def memory_harness(grace_s: float, detectors: tuple[Detector, ...] = ()) -> Harness:
    clock = ManualClock(datetime(2031, 3, 4, 9, 0, tzinfo=UTC))
    events: list[LiveEvent] = []
    recorder = MemoryLiveRecorder(clock, events.append, detectors, grace_s=grace_s)
    peers: list[MemoryPeer] = []
    screens: list[MemoryPeer] = []

    async def connect(session_id: UUID) -> _MemoryClient:
        peer = MemoryPeer(recorder, clock)
        peer.accept(await recorder.open(session_id, peer.offer()))
        peers[:] = [peer]
        return _MemoryClient(peer)

    async def connect_screen(session_id: UUID) -> _MemoryClient:
        peer = MemoryPeer(recorder, clock)
        peer.accept(await recorder.open(session_id, peer.offer(), source=SCREEN))
        screens[:] = [peer]
        return _MemoryClient(peer)

    def live(peer_list: list[MemoryPeer]) -> MemoryPeer | None:
        peer = peer_list[0] if peer_list else None
        return peer if peer is not None and peer.wire is not None and peer.wire.open else None

    async def play(seconds: float) -> None:
        camera, screen = live(peers), live(screens)
        if camera is not None and screen is not None:
            # Each peer's play moves the one clock: both take turns, a tenth of a second each.
            for _ in range(round(seconds / 0.2)):
                camera.play(0.1)
                screen.play(0.1)
        elif camera is not None or screen is not None:
            (camera or screen).play(seconds)  # type: ignore[union-attr]
        else:
            clock.advance(seconds=seconds)
            recorder.poll()

    async def watch(session_id: UUID, viewer: str = "") -> Watching:
        watcher = MemoryPeer(recorder, clock)
        watcher.watching(await recorder.watch(session_id, "vigie-memory-watch", viewer))
        return Watching(lambda: watcher.frames_seen, lambda: watcher.watch_ended)

    return Harness(
        recorder,
        events,
        connect,
        play,
        watch,
        tolerance_s=0.25,
        on_the_wall=False,
        connect_screen=connect_screen,
    )


# --- aiortc ------------------------------------------------------------------------------------


class AiortcClient:
    """The proctoring page as an aiortc peer: camera and microphone from lavfi, a data channel."""

    # 320x240 at 5 fps, what the page asks its camera for: the aiortc recorder keeps the
    # frames the page sends, at the page's rate (the in-memory page sends 15 fps, which its
    # recorder re-encodes at 5).
    def __init__(
        self,
        video: str = "testsrc=size=320x240:rate=5",
        configuration: RTCConfiguration | None = None,
    ) -> None:
        self.pc = RTCPeerConnection(configuration or RTCConfiguration(iceServers=[]))
        self.players = [
            MediaPlayer(video, format="lavfi"),
            MediaPlayer("sine=frequency=440", format="lavfi"),
        ]
        self.pc.addTrack(self.players[0].video)
        self.pc.addTrack(self.players[1].audio)
        self.channel = self.pc.createDataChannel("vigie")
        self.opened = asyncio.Event()
        self.channel.on("open", self.opened.set)

    async def connect(self, recorder: LiveRecorder, session_id: UUID) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await recorder.open(session_id, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(self.opened.wait(), 10)

    def send(self, text: str) -> None:
        self.channel.send(text)

    async def hang_up(self) -> None:
        await self.pc.close()
        for player in self.players:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()


class ScreenClient:
    """The page's shared screen as an aiortc peer (issue 16): video only, no data channel."""

    def __init__(self, video: str = "testsrc=size=640x360:rate=5") -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.player = MediaPlayer(video, format="lavfi")
        self.pc.addTrack(self.player.video)
        self.connected = asyncio.Event()

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState == "connected":
                self.connected.set()

    async def connect(self, recorder: LiveRecorder, session_id: UUID) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await recorder.open(session_id, self.pc.localDescription.sdp, source=SCREEN)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(self.connected.wait(), 10)

    async def hang_up(self) -> None:
        await self.pc.close()
        if self.player.video is not None:
            self.player.video.stop()


async def aiortc_watcher(recorder: LiveRecorder, session_id: UUID, viewer: str = "") -> Watching:
    """A supervisor's peer receiving the relayed tracks; counts decoded video frames."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    seen = [0]

    async def count(track: Any) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                seen[0] += 1

    pc.on("track", lambda track: track.kind == "video" and asyncio.ensure_future(count(track)))
    await pc.setLocalDescription(await pc.createOffer())
    answer = await recorder.watch(session_id, pc.localDescription.sdp, viewer)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return Watching(lambda: seen[0], lambda: pc.connectionState in ("closed", "failed"))


def candidate_offer() -> tuple[asyncio.AbstractEventLoop, AiortcClient, str]:
    """The proctoring page's offer, made on a loop of its own (loopback ICE): an offer to
    answer through the web, its connection never completed."""
    loop = asyncio.new_event_loop()

    async def offer() -> tuple[AiortcClient, str]:
        client = AiortcClient()
        await client.pc.setLocalDescription(await client.pc.createOffer())
        return client, client.pc.localDescription.sdp

    with loopback_ice():
        client, sdp = loop.run_until_complete(offer())
    return loop, client, sdp


def watcher_offer(loop: asyncio.AbstractEventLoop) -> str:
    """A live view's offer (receive only), made on `loop`."""

    async def offer() -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp: str = pc.localDescription.sdp
        await pc.close()
        return sdp

    with loopback_ice():
        return loop.run_until_complete(offer())


def aiortc_harness(root: Path, grace_s: float, detectors: tuple[Detector, ...] = ()) -> Harness:
    events: list[LiveEvent] = []
    recorder = WebRtcRecorder(root, SystemClock(), events.append, detectors, grace_s=grace_s)
    clients: list[AiortcClient] = []

    async def connect(session_id: UUID) -> AiortcClient:
        client = AiortcClient()
        clients.append(client)
        await client.connect(recorder, session_id)
        return client

    async def watch(session_id: UUID, viewer: str = "") -> Watching:
        return await aiortc_watcher(recorder, session_id, viewer)

    screens: list[ScreenClient] = []

    async def connect_screen(session_id: UUID) -> ScreenClient:
        client = ScreenClient()
        screens.append(client)
        await client.connect(recorder, session_id)
        return client

    harness = Harness(
        recorder,
        events,
        connect,
        asyncio.sleep,
        watch,
        tolerance_s=0.6,
        connect_screen=connect_screen,
    )
    harness.cleanup.append(lambda: asyncio.gather(*(c.hang_up() for c in clients)))
    harness.cleanup.append(lambda: asyncio.gather(*(c.hang_up() for c in screens)))
    return harness


# --- a network namespace for ICE -------------------------------------------------------------


def namespace_unavailable() -> str | None:
    """Why a namespace cannot be made here (None when it can)."""
    if os.geteuid() != 0:
        return "network namespace tests need root (ip netns add)"
    if shutil.which("ip") is None:
        return "network namespace tests need iproute2's `ip`"
    return None


@contextlib.contextmanager
def inside_namespace(prefix: str = "vigie-t") -> Iterator[tuple[str, str]]:
    """Move this thread into a fresh namespace with a veth pair (198.18.0.1 and .2, both ends
    inside), so ICE gathers real, non-loopback addresses that reach nothing outside.

    setns(2) applies to the calling thread and the threads it starts afterwards; the event
    loop must run on this thread. The namespace is deleted on the way out.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    libc = ctypes.CDLL(None, use_errno=True)

    def ip(*args: str) -> None:
        subprocess.run(["ip", "-n", name, *args], check=True, capture_output=True)

    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
        ip("addr", "add", "198.18.0.1/24", "dev", "va")
        ip("addr", "add", "198.18.0.2/24", "dev", "vb")
        for link in ("lo", "va", "vb"):
            ip("link", "set", link, "up")
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the test namespace failed")
        finally:
            os.close(target)
        try:
            yield "198.18.0.1", "198.18.0.2"
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back home failed")
    finally:
        os.close(home)
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
