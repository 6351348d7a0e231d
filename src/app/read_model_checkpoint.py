"""The read models kept with their position (issue 15): a process starts from the newest
saved state and catches up only the tail of the log, whatever the log's size.

The whole state of `Projections` (and of the parked reactions' list) is encoded with msgspec
and saved with the position it reflects, by a worker every few thousand events or seconds,
never by a web request. The state carries a fingerprint of the projection code: a process
whose code differs finds no state of its own and replays the whole log (the read models stay
rebuildable from scratch). A state that does not decode is logged and ignored: the log is
the truth, the saved state only a head start.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

import msgspec

from app import collector
from app import parked as parked_module
from app import read_models as read_models_module
from app.parked import ParkedReactions, ParkedSummary
from app.ports.event_store import EventStore, Quarantine
from app.ports.read_model_store import ReadModelStore, SavedReadModels
from app.read_models import (
    AppealSummary,
    AttemptWatch,
    DeliverySummary,
    EnrollmentSummary,
    MailSummary,
    MediaViewSummary,
    Projections,
    RetentionSummary,
    ReviewSummary,
    ScoreSummary,
    SessionSummary,
)

LOG = logging.getLogger("vigie.read_models")
NAME = "projections"
EVERY_EVENTS = 5000  # a worker saves once this many events were applied since the last save…
EVERY_SECONDS = 60.0  # …or this long after it, if anything was applied


@dataclass
class ReadModelState:
    """Everything `Projections` holds, field for field (a test checks none is missing), and
    the parked reactions' list at its own position."""

    position: int
    erasures: int
    candidates_by_email: dict[str, UUID]
    candidate_names: dict[UUID, tuple[str, str]]
    staff_by_email: dict[str, UUID]
    sessions: dict[UUID, SessionSummary]
    sessions_by_candidate: dict[UUID, list[UUID]]
    enrollment_valid_until: dict[UUID, date]
    session_of_attempt: dict[UUID, UUID]
    reviews: dict[UUID, ReviewSummary]
    enrollments: dict[UUID, EnrollmentSummary]
    attempts_in_progress: dict[UUID, AttemptWatch]
    workspace_of_attempt: dict[UUID, str]
    mails: dict[UUID, MailSummary]
    appeals: dict[UUID, AppealSummary]
    retention: dict[UUID, RetentionSummary]
    media_views: dict[UUID, list[MediaViewSummary]]
    webhook_deliveries: dict[UUID, DeliverySummary] = field(default_factory=dict)
    # Issue 16: score reports to learning platforms (a default: the schema grew).
    scores: dict[UUID, ScoreSummary] = field(default_factory=dict)
    lti_platforms: dict[UUID, str] = field(default_factory=dict)
    # Security finding F1: the names each centre typed, by enrolment; each centre's name.
    enrolment_names: dict[UUID, tuple[str, str]] = field(default_factory=dict)
    centre_names: dict[UUID, str] = field(default_factory=dict)
    parked_position: int = 0
    parked: dict[UUID, ParkedSummary] = field(default_factory=dict)
    # Streams found quarantined while reading the log up to `position`: a process starting
    # from here never reads those rows again, yet must still withhold those streams.
    quarantined: list[Quarantine] = field(default_factory=list)


_NOT_PROJECTED = ("parked_position", "parked", "quarantined")
PROJECTED = tuple(n for n in ReadModelState.__dataclass_fields__ if n not in _NOT_PROJECTED)
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(ReadModelState)


def fingerprint() -> str:
    """The projection code's identity: its modules' source and the state's schema. Any
    change rebuilds from the log rather than loading a state of another shape or meaning."""
    digest = hashlib.sha256()
    for module in (read_models_module, parked_module):
        source = module.__file__
        digest.update(Path(source).read_bytes() if source else module.__name__.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(msgspec.json.encode(msgspec.json.schema(ReadModelState)))
    return digest.hexdigest()[:32]


def encode(
    projections: Projections, parked: ParkedReactions, quarantined: Sequence[Quarantine] = ()
) -> tuple[int, int, bytes]:
    """The position, the erasures and the state (read under the projections' lock: a
    consistent cut)."""
    with projections.lock:
        state = ReadModelState(
            **{name: getattr(projections, name) for name in PROJECTED},
            parked_position=parked.position,
            parked=parked.by_id,
            quarantined=list(quarantined),
        )
        return projections.position, projections.erasures, _ENCODER.encode(state)


def decode(data: bytes) -> ReadModelState:
    """A saved state; msgspec.DecodeError / ValidationError if it is not one. The collector
    is paused meanwhile: millions of new objects would set off full collections that walk
    them all again and again (measured: 5-10 times the decoding itself)."""
    with collector.paused():
        return _DECODER.decode(data)


def restore(state: ReadModelState, projections: Projections, parked: ParkedReactions) -> None:
    """Put a decoded state into fresh read models."""
    with projections.lock:
        for name in PROJECTED:
            setattr(projections, name, getattr(state, name))
        parked.position = state.parked_position
        parked.by_id = dict(state.parked)


@dataclass(frozen=True)
class StartReport:
    """How a process's read models got current: from which saved position, how many events
    of the tail they applied, and why a saved state was not used (if one was not)."""

    loaded_position: int
    applied: int
    ignored: str = ""


@dataclass
class ReadModelKeeper:
    """Starts the read models from their saved state and saves it now and then."""

    store: EventStore
    saved: ReadModelStore
    projections: Projections
    parked: ParkedReactions
    remember_quarantine: Callable[[Quarantine], None] | None = None
    every_events: int = EVERY_EVENTS
    every_seconds: float = EVERY_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    code: str = field(default_factory=fingerprint)
    saved_position: int = 0
    saved_erasures: int = 0
    _saved_at: float = 0.0

    def start(self) -> StartReport:
        """Load the newest saved state (if any and readable), then catch up the tail."""
        loaded, ignored = 0, ""
        try:
            kept = self.saved.load(NAME, self.code)
        except Exception as error:  # the log is the truth: a start never fails on a head start
            kept, ignored = None, f"unreadable ({type(error).__name__})"
            LOG.warning("read models: saved state not read, replaying the log", exc_info=True)
        if kept is not None:
            # One pause from the decoding to the freeze: turned back on in between, the
            # collector's first young collection would walk every decoded object once
            # (2 million objects: a quarter of a second).
            with collector.paused():
                try:
                    state = decode(kept.state)
                    if state.position != kept.position:
                        raise ValueError(f"state at {state.position}, row at {kept.position}")
                except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
                    ignored = f"undecodable ({type(error).__name__})"
                    LOG.warning(
                        "read models: saved state at position %d does not decode (%s); "
                        "replaying the log",
                        kept.position,
                        error,
                    )
                else:
                    restore(state, self.projections, self.parked)
                    # Long-lived from now on: out of the collector's sight (it would walk them
                    # at each full collection; they are still freed when no longer referenced).
                    gc.freeze()
                    for finding in state.quarantined:
                        if self.remember_quarantine is not None:
                            self.remember_quarantine(finding)
                    loaded = self.saved_position = kept.position
                    self.saved_erasures = state.erasures
        self._saved_at = self.monotonic()
        applied = self._catch_up()
        LOG.info(
            "read models ready at position %d: saved state at %d, %d events of the tail",
            self.projections.position,
            loaded,
            applied,
        )
        return StartReport(loaded, applied, ignored)

    def save_if_due(self) -> bool:
        """A worker's step: save when enough events or time passed since the last save."""
        behind = self.projections.position - self.saved_position
        if behind <= 0:
            return False
        if self.projections.erasures > self.saved_erasures:
            return self.save()  # the saved state still holds an erased person: replace it now
        waited = self.monotonic() - self._saved_at
        if behind < self.every_events and waited < self.every_seconds:
            return False
        return self.save()

    def save(self) -> bool:
        """Save the current state (after catching the parked list up too); False if a state
        at the same or a later position is already saved. A failure is logged, never
        raised: the next pass tries again."""
        self._catch_up()
        position, erasures, data = encode(self.projections, self.parked, self.store.quarantined())
        self._saved_at = self.monotonic()
        try:
            kept = self.saved.save(SavedReadModels(NAME, self.code, position, data, erasures))
        except Exception:
            LOG.warning("read models: state not saved; the next pass tries again", exc_info=True)
            return False
        self.saved_position = max(self.saved_position, position)
        self.saved_erasures = max(self.saved_erasures, erasures)
        if kept:
            LOG.info("read models saved at position %d (%d bytes)", position, len(data))
        return kept

    def _catch_up(self, batch: int = 1000) -> int:
        """The read models and the parked list, from one reading of the log (the parked list
        is otherwise read only when an operator asks: a first save would read it all again)."""
        after = min(self.projections.position, self.parked.position)
        applied = 0
        with collector.Replaying() as replay:  # app/collector.py
            while page := self.store.read(after, batch):
                replay.page(len(page), batch)
                applied += self.projections.apply_page(page)
                self.parked.apply_page(page)
                after = page[-1].position
        return applied

    def rebuild(self) -> StartReport:
        """Forget every saved state, replay the whole log, save the result."""
        self.saved.clear(NAME)
        self.saved_position = self.saved_erasures = 0
        with self.projections.lock:
            self.projections.clear()
            self.parked.position, self.parked.by_id = 0, {}
        applied = self._catch_up()
        self.save()
        return StartReport(0, applied)
