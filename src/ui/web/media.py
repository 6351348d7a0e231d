"""Live proctoring media on the web (issue 7): the proctoring tab's WebRTC connection, live
supervision for examiners and support (R2), and the recorded segments for playback.

The recorder lives in the web process's event loop (aiortc has no other way); what it reports
is recorded on the session through `app.live_recording`, in a worker thread (the store has no
asyncio API). A connection is recorded by the node its offer reached, which records itself as
the connection's holder (`app.live_connections`); a live view that reaches another node is sent
to the holder (a 307 with `?node=<holder>`, which deploy/haproxy.cfg routes: docs/deploy.md).
Both peers use the platform's ICE servers; the pages ask for them, with fresh TURN
credentials, before each connection.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.types import Message, Scope

from adapters.bootstrap import Platform
from adapters.media.ice import IceServers
from adapters.media.still import still_jpeg
from app.context import Context
from app.live_connections import holder_of, record_holder
from app.live_recording import closed_among, media_origin, record_live_event
from app.media_views import record_view, starts_playback
from app.person_names import name_in_text
from app.ports.live_media import (
    CAMERA,
    SCREEN,
    SOURCES,
    BadOffer,
    LiveEvent,
    LiveRecorder,
    NotLive,
    Segment,
)
from app.ports.media_capture import MediaUnavailable
from app.sessions import TOUCH_EVERY, session_key
from app.tenancy import media_viewer
from domain.access import Actor
from domain.candidate import Candidate
from domain.errors import InvalidArgument, RuleBroken
from domain.media_view import LIVE, ViewedMedia
from domain.proctored_session import ProctoredSession
from domain.staff import Role
from ui.web.edge import (
    candidate_guard,
    context,
    own_session,
    platform_of,
    staff_guard,
    staff_id,
)
from ui.web.ranges import ranged_media
from ui.web.sessions import COOKIE, cookie_of

log = logging.getLogger(__name__)

# What a thumbnail shows when the recording has no picture at that second: a grey frame
# with a crossed-out camera, rather than a broken image in the examiner's list.
NO_STILL = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90" viewBox="0 0 160 90">'
    b'<rect width="160" height="90" fill="#e9ecf2"/>'
    b'<rect x="58" y="33" width="34" height="24" rx="3" fill="none" stroke="#55596a" '
    b'stroke-width="3"/>'
    b'<path d="M92 40l12-7v24l-12-7z" fill="#55596a"/>'
    b'<path d="M52 62L108 28" stroke="#55596a" stroke-width="3"/></svg>'
)
WATCHERS = (Role.EXAMINER, Role.SUPPORT)  # R2: the hotline supervises live
PLAYERS = (Role.EXAMINER, Role.SUPPORT, Role.AUDITOR)


NODE_HEADER = "x-vigie-node"


class Sdp(msgspec.Struct):
    """A WebRTC session description (the whole SDP: no trickle ICE)."""

    sdp: str


class NotLiveNow(msgspec.Struct):
    """Why a live view has no picture to show: `waiting` (409), the candidate's camera is not
    connected at the moment, or (503) the node that held it is down; the page tries again.
    `ended` (409), the session is closed."""

    state: str


WAITING, ENDED = NotLiveNow("waiting"), NotLiveNow("ended")


class MediaOffer(msgspec.Struct):
    """The proctoring page's offer: its camera's connection, or (issue 16) its shared
    screen's, when the session's certification requires screen capture."""

    sdp: str
    source: str = CAMERA


class IceServer(msgspec.Struct, omit_defaults=True):
    """One STUN or TURN server, as `RTCPeerConnection` takes it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfiguration(msgspec.Struct, rename="camel"):
    """The ICE servers a page's peer connection uses; TURN credentials expire (coturn's REST
    scheme), so a page asks again before each connection."""

    ice_servers: list[IceServer]


def node_header(node_id: str) -> Callable[[Message, Scope], Any]:
    """A `before_send` hook: every answer names the node that gave it (X-Vigie-Node), so an
    operator, HAProxy's log and the tests see where a request went."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message)[NODE_HEADER] = node_id

    return before_send


def node_of(request: Request[Any, Any, Any]) -> str:
    node: str = request.app.state.node_id
    return node


def ice_for(request: Request[Any, Any, Any], who: str) -> IceConfiguration:
    ice: IceServers = request.app.state.ice
    now = platform_of(request).ctx.clock.now()
    return IceConfiguration([IceServer(**server) for server in ice.for_peer(who, now)])


def recorder_of(request: Request[Any, Any, Any]) -> LiveRecorder:
    recorder: LiveRecorder | None = getattr(request.app.state, "recorder", None)
    if recorder is None:
        raise NotFoundException("live media is not enabled on this server")
    return recorder


def live_root(request_or_app: Request[Any, Any, Any] | Litestar) -> Path:
    app = request_or_app if isinstance(request_or_app, Litestar) else request_or_app.app
    root: Path = app.state.live_media_root
    return root


async def start_recorder(app: Litestar) -> None:
    """on_startup: the aiortc recorder with its detectors, reporting into the log (segments
    under `app.state.live_media_root`, a folder per session)."""
    from adapters.detectors.faces import FaceCounter
    from adapters.detectors.voice import SpeechWhileFaceAbsent
    from adapters.media.webrtc import WebRtcRecorder

    platform: Platform = app.state.platform
    loop = asyncio.get_running_loop()
    recorder: WebRtcRecorder | None = None
    pending: set[asyncio.Future[bool]] = set()
    hanging_up: set[asyncio.Future[None]] = set()

    def sink(event: LiveEvent) -> None:
        future = loop.run_in_executor(None, record_live_event, platform.ctx, event)
        pending.add(future)
        future.add_done_callback(lambda done: _after(done, event))

    def _after(done: asyncio.Future[bool], event: LiveEvent) -> None:
        pending.discard(done)
        if done.exception() is not None:
            log.error("live event %r not recorded", event, exc_info=done.exception())
        elif done.result() is False and recorder is not None and event.session_id is not None:
            # The session takes no more facts (closed): hang up its connection.
            hang_up = asyncio.ensure_future(recorder.close(event.session_id))
            hanging_up.add(hang_up)
            hang_up.add_done_callback(hanging_up.discard)

    detectors = [SpeechWhileFaceAbsent(FaceCounter())]
    # Finished segments go to the media store (an object store uploads them: issue 15).
    recorder = WebRtcRecorder(
        live_root(app),
        platform.ctx.clock,
        sink,
        detectors,
        keep=platform.ctx.media.keep_live_segment,
        ice=app.state.ice,
        node=app.state.node_id,
    )
    app.state.recorder = recorder
    app.state.recorder_pending = pending
    app.state.closed_check = asyncio.ensure_future(_hang_up_closed(platform, recorder))
    app.state.salvage = asyncio.ensure_future(
        _salvage(recorder, functools.partial(_record_salvaged, platform.ctx))
    )


# How often a node looks for segments a dead process of its own left half-written (at start,
# then now and then: one of its web workers may die and be replaced while the others run).
SALVAGE_EVERY_S = 300.0


def _record_salvaged(ctx: Context, segment: Segment) -> None:
    """A recovered segment into the log, before its leftover files go (raises if the store
    cannot take it: the next look tries again). A session gone (unknown) is said once."""
    record_live_event(ctx, segment)


async def _salvage(recorder: Any, record: Callable[[Segment], None]) -> None:
    """The recorder's `salvage` (webrtc.py), at start and every SALVAGE_EVERY_S."""
    while True:
        try:
            await recorder.salvage(record)
        except Exception:  # the folder unreadable for a moment: looked at again next time
            log.exception("could not look for leftover live segments")
        await asyncio.sleep(SALVAGE_EVERY_S)


# How often a node looks whether the sessions it holds a connection of have closed, and
# whether the agents watching them live are still logged in.
CLOSED_CHECK_S = 2.0


async def _hang_up_closed(platform: Platform, recorder: LiveRecorder) -> None:
    """The connections of a session that closed (the exam validated, on whichever node) are
    hung up within `CLOSED_CHECK_S`: its segment ends, its live views say it is over and the
    candidate's page stops the camera. They went on recording and showing her « live » for
    as long as her tab stayed open (issue 15, a support agent's review). So are the live
    views of an agent whose web session ended (`_hang_up_ended_viewers`)."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(CLOSED_CHECK_S)
        await _hang_up_ended_viewers(platform, recorder)
        held = recorder.held()
        if not held:
            continue
        try:
            closed = await loop.run_in_executor(None, closed_among, platform.ctx, held)
        except Exception:  # the store unreachable for a moment: looked at again next time
            log.warning("could not look whether held sessions closed", exc_info=True)
            continue
        for session_id in closed:
            try:
                await recorder.close(session_id)
            except Exception:  # one session's hang-up failing leaves the check running
                log.exception("could not hang up closed session %s", session_id)


async def _hang_up_ended_viewers(platform: Platform, recorder: LiveRecorder) -> None:
    """The live views of an agent logged out (on whichever node), revoked or past their
    session's end are hung up: a view went on showing her camera to an agent who had
    logged out elsewhere, for as long as her connection lasted (issue 15). The page then
    says « Vous n'êtes plus connecté ». A view's viewer is the key of the web session
    that asked for it (`watch`)."""
    viewers = [v for v in recorder.viewers() if v]
    sessions = platform.sessions
    if not viewers or sessions is None:
        return
    now = platform.ctx.clock.now()
    for viewer in viewers:
        try:
            ended = await sessions.get_async(viewer, now) is None
        except Exception:  # the store unreachable for a moment: looked at again next time
            log.warning("could not look whether a live viewer is logged in", exc_info=True)
            return
        if ended:
            try:
                await recorder.end_views(viewer)
            except Exception:  # one viewer's hang-up failing leaves the check running
                log.exception("could not hang up the live views of an ended session")


async def stop_recorder(app: Litestar) -> None:
    """on_shutdown: every open segment is finished and recorded before the process ends."""
    recorder: LiveRecorder | None = getattr(app.state, "recorder", None)
    for name in ("closed_check", "salvage"):
        task: asyncio.Future[None] | None = getattr(app.state, name, None)
        if task is not None:
            task.cancel()
    if recorder is not None:
        await recorder.aclose()
        pending = list(getattr(app.state, "recorder_pending", ()))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _segment_reference(request: Request[Any, Any, Any], session_id: UUID, name: str) -> str:
    """The media store's reference of a segment the session's log references (staff who play
    recordings: the controller's guard)."""
    platform = platform_of(request)
    media_id = f"{session_id}/{name}"
    try:
        session = platform.ctx.store.get(session_id, ProctoredSession)
    except LookupError:
        raise NotFoundException() from None
    known = {
        event.media_id
        for event in platform.ctx.store.history(session_id)
        if isinstance(
            event, ProctoredSession.SegmentRecorded | ProctoredSession.ScreenSegmentRecorded
        )
    }
    if media_id not in known or session.id != session_id:
        raise NotFoundException()
    return platform.ctx.media.live_segment(media_id)


@lru_cache(maxsize=512)
def _still(load: Callable[[str], bytes], reference: str, offset_ms: int) -> bytes | None:
    """A segment's thumbnail, read from the media store (a file or an object alike)."""
    try:
        segment = load(reference)
    except (KeyError, MediaUnavailable):
        return None
    return still_jpeg(io.BytesIO(segment), offset_ms / 1000)


def _viewer(request: Request[Any, Any, Any], session_id: UUID, *, live: bool) -> Actor:
    """The staff member, if they may look at this session's media (app.tenancy): else 404."""
    return media_viewer(platform_of(request).ctx.store, staff_id(request), session_id, live=live)


def _record(
    request: Request[Any, Any, Any], who: Actor, session_id: UUID, media: str, what: ViewedMedia
) -> None:
    record_view(
        platform_of(request).ctx,
        viewer_id=who.staff_id,
        viewer_role=who.role.value,
        session_id=session_id,
        media=media,
        what=what,
    )


def _closed(request: Request[Any, Any, Any], session_id: UUID) -> bool:
    """Whether the session is closed: nothing of it is live any more (R18)."""
    return bool(closed_among(platform_of(request).ctx, (session_id,)))


def _captures_screen(request: Request[Any, Any, Any], session: ProctoredSession) -> bool:
    """Whether the session's certification requires the screen too (issue 16)."""
    catalogue = platform_of(request).ctx.catalogue
    try:
        return catalogue.get(session.certification_code).screen_capture
    except InvalidArgument:  # a certification the catalogue no longer has
        return False


class CandidateMedia(Controller):
    """The candidate's proctoring tab sends its media (their own session only)."""

    guards = [candidate_guard]

    @post("/api/sessions/{session_id:uuid}/media/offer", status_code=200)
    async def offer(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        data: JSONBody[MediaOffer],
    ) -> Sdp:
        """The proctoring tab connects its camera, microphone and data channel; recorded from
        the first entry until the session closes (R17: the tab must stay open). Issue 16:
        `source` "screen" connects the shared screen, for a certification that requires it."""
        if data.source not in SOURCES:
            raise InvalidArgument("source", f"one of {', '.join(SOURCES)}")
        session = await sync_to_thread(own_session, request, session_id)
        if data.source == SCREEN and not _captures_screen(request, session):
            raise InvalidArgument("source", "this certification does not record the screen")
        if session.entries == 0:
            raise RuleBroken("R6", "enter the session ('Examen') before the recording starts")
        if session.closed_at is not None:
            raise RuleBroken("R18", "the session is closed: nothing more is recorded")
        origin = await sync_to_thread(media_origin, platform_of(request).ctx, session_id)
        try:
            answer = await recorder_of(request).open(session_id, data.sdp, origin, data.source)
        except BadOffer as error:
            raise InvalidArgument("sdp", str(error)) from None
        # This node holds the connection now: live views are sent here (issue 15).
        await sync_to_thread(record_holder, platform_of(request).ctx, session_id, node_of(request))
        return Sdp(answer)

    @get("/api/sessions/{session_id:uuid}/media/ice", sync_to_thread=True)
    def ice(self, request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> IceConfiguration:
        """The ICE servers of the proctoring tab's next connection (fresh TURN credentials)."""
        own_session(request, session_id)
        return ice_for(request, f"session-{session_id}")


class LiveMedia(Controller):
    """R2: watching a session live, for examiners and the hotline."""

    guards = [staff_guard(*WATCHERS)]

    @post("/api/sessions/{session_id:uuid}/media/watch", status_code=200)
    async def watch(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        data: JSONBody[Sdp],
        node: FromQuery[str] = "",
    ) -> Sdp | Redirect | Response[NotLiveNow]:
        """R2: an examiner or support user watches the session live; the recording goes on.
        The look is recorded (issue 14) once the stream is handed to the viewer. Only the
        node holding the candidate's connection can relay it: another node sends the viewer
        there (307, the same request with `?node=<holder>`, which the proxy routes). 409
        while there is nothing live to show (`NotLiveNow`)."""
        who = await sync_to_thread(_viewer, request, session_id, live=True)
        if await sync_to_thread(_closed, request, session_id):
            return Response(ENDED, status_code=409)
        holder = await sync_to_thread(holder_of, platform_of(request).ctx, session_id)
        if holder is not None and holder != node_of(request):
            if node != holder:
                return Redirect(
                    path=f"/api/sessions/{session_id}/media/watch",
                    query_params={"node": holder},
                    status_code=307,
                )
            # The proxy was asked for the holder and sent the request elsewhere: the holder
            # is down (its connection is lost with it; the candidate's page reconnects to
            # another node, and the live view's offers follow). An answer, not a fault: no
            # traceback in the log every 5 s for each open view.
            return Response(WAITING, status_code=503)
        try:
            answer = await recorder_of(request).watch(session_id, data.sdp, _viewer_key(request))
        except NotLive:
            return Response(WAITING, status_code=409)
        except BadOffer:
            raise InvalidArgument(
                "sdp", "a WebRTC offer to receive the candidate's audio and video was expected"
            ) from None
        await sync_to_thread(_record, request, who, session_id, LIVE, ViewedMedia.LIVE)
        return Sdp(answer)

    @get("/api/sessions/{session_id:uuid}/media/watch/ice", sync_to_thread=True)
    def watch_ice(
        self, request: Request[Any, Any, Any], session_id: FromPath[UUID]
    ) -> IceConfiguration:
        """The ICE servers of a live view's connection (fresh TURN credentials)."""
        who = _viewer(request, session_id, live=True)
        return ice_for(request, f"staff-{who.staff_id}")

    @get("/staff/live/{session_id:uuid}", sync_to_thread=True)
    def live_page(self, request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> Template:
        """R2: the live view of a session (camera and microphone), for the hotline and examiners
        (not another examiner's reviewed session: issue 14). A session the store does not know
        is a 404, not an empty live page. The page alone shows no image: the view is recorded
        when its script asks for the stream (`watch`)."""
        ctx = platform_of(request).ctx
        session = ctx.store.get(session_id, ProctoredSession)
        who = _viewer(request, session_id, live=True)
        holder = holder_of(ctx, session_id) or ""
        candidate = ctx.store.get(session.candidate_id, Candidate)
        return Template(
            "live.html",
            context=context(
                request,
                session_id=session_id,
                holder=holder,
                # Whom the agent is watching, and (support) the way back to her file.
                keep_alive_ms=keep_alive_ms(request.app.state.session_policy.staff.idle),
                # The names of the enrolment being sat, the ones her ID is checked against
                # (R9, R20; security finding F1), as on the review.
                candidate_name=name_in_text(*candidate.names_for(session.enrollment_id)),
                certification_code=session.certification_code,
                # A closed session (R18) is said so at once, with no player and no script:
                # the script offered to watch it and got 409 (a user's tour).
                ended=session.closed_at is not None,
                case_file=(
                    f"/hotline/candidates/{session.candidate_id}"
                    if who.role is Role.SUPPORT
                    else None
                ),
            ),
        )


# At most this long between two keep-alive requests of a live view (static/watch.js).
KEEP_ALIVE_AT_MOST = timedelta(minutes=5)


def keep_alive_ms(idle: timedelta) -> int:
    """How often a live view asks for something while it shows her, so that watching keeps
    its agent logged in: twice within the staff's idle time, but more than TOUCH_EVERY apart
    (a session's idle end is written only when it moves by that much). With an idle time
    under about two minutes watching cannot keep the agent in (docs/media.md)."""
    every = min(KEEP_ALIVE_AT_MOST, max(idle / 2, TOUCH_EVERY + timedelta(seconds=5)))
    return int(every.total_seconds() * 1000)


def _viewer_key(request: Request[Any, Any, Any]) -> str:
    """The web session a live view is asked from, as the session store knows it (its id's
    hash): the view is hung up once that session ends (`_hang_up_ended_viewers`)."""
    sent = cookie_of(request.scope, COOKIE)
    return session_key(sent) if sent else ""


class Recordings(Controller):
    """Recorded segments and their stills, for staff who play recordings."""

    path = "/media/sessions"
    guards = [staff_guard(*PLAYERS)]

    @get("/{session_id:uuid}/{name:str}", sync_to_thread=True)
    def segment(
        self, request: Request[Any, Any, Any], session_id: FromPath[UUID], name: FromPath[str]
    ) -> Response[bytes]:
        """A recorded segment, for the examiner's player (only segments the log references);
        a playback is recorded once, not each range the player asks for (issue 14)."""
        who = _viewer(request, session_id, live=False)
        reference = _segment_reference(request, session_id, name)
        media = platform_of(request).ctx.media
        try:
            media.size(reference)
        except KeyError:  # lost from the store, or deleted (retention, erasure)
            raise NotFoundException() from None
        if starts_playback(request.headers.get("range")):
            _record(request, who, session_id, f"{session_id}/{name}", ViewedMedia.SEGMENT)
        headers = {"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"}
        try:
            return ranged_media(
                request.headers.get("range"), media, reference, "video/x-matroska", headers
            )
        except KeyError:
            raise NotFoundException() from None

    @get("/{session_id:uuid}/{name:str}/still/{offset_ms:int}", sync_to_thread=True)
    def still(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        name: FromPath[str],
        offset_ms: FromPath[int],
    ) -> Response[bytes]:
        """A thumbnail of a recorded segment at that millisecond, beside a flag in the
        examiner's list (the segment is checked as for playing it)."""
        who = _viewer(request, session_id, live=False)
        reference = _segment_reference(request, session_id, name)
        # The stills of one segment are one view a minute (a list shows dozens at once).
        _record(request, who, session_id, f"{session_id}/{name}", ViewedMedia.STILL)
        jpeg = _still(platform_of(request).ctx.media.load, reference, offset_ms)
        # Not kept by the browser: a still of the candidate stayed an hour in the examiner's
        # cache, readable after log-out on a shared computer (security finding F4).
        headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        if jpeg is None:  # a segment lost from disk, or no frame at that second
            headers["X-Vigie-Still"] = "unavailable"
            return Response(NO_STILL, media_type="image/svg+xml", headers=headers)
        return Response(jpeg, media_type="image/jpeg", headers=headers)


ROUTES = [CandidateMedia, LiveMedia, Recordings]
