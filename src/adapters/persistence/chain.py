"""The tamper-evident store: every stored event carries the previous event's hash.

Layout of a chained stored state (what the `state` column holds)::

    b"\\x00vc1" | prev_hash (32 bytes) | own_hash (32 bytes) | payload (msgspec JSON, after
                                                             compressor and cipher, if any)

    own_hash = sha256(prev_hash | originator_id (16 bytes) | version (8 bytes, big-endian)
                      | len(topic) (2 bytes) | topic (UTF-8) | payload)

`prev_hash` is the own hash of the event before it in the same stream (32 zero bytes for
version 1). Altering any stored byte of event *n* (payload, header, topic, version) breaks
its own hash, so `verify-store` names that stream and version; rewriting event *n* and its own
hash breaks event *n+1*'s `prev_hash`. Only the last event of a stream can be rewritten
consistently by someone who can write the database: keep the heads (`verify-store` prints a
digest of them) somewhere else to close that gap.

Events written before the chain existed have no header ("unchained"): they still decode, and
their hash is computed the same way over the whole stored state, chained from the previous
one, so the first chained event of an old stream seals the unchained history before it. An
unchained event *after* a chained one is a failure (someone stripped a header), and so is
any unchained event placed in the log after the first chained one, even in a new stream: the
history written before the chain always comes first in the log.

Snapshots are not chained: they are derived, and may be deleted and taken again.

The write path stays cheap: the hash of a stream's last event is remembered when an event is
decoded or saved (`HeadCache`, exact version only), so a save after a load costs one sha256
per event and no read; on a miss, one small read of the stream's last event.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from app.hash_chain import GENESIS, HASH_BYTES, stored_event_hash
from app.ports.audit_log import ChainBreak, ChainReport

MAGIC = b"\x00vc1"
HEADER_BYTES = len(MAGIC) + 2 * HASH_BYTES
HEAD_CACHE_SIZE = 100_000


def _as_uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def event_hash(
    prev_hash: bytes, originator_id: UUID | str, version: int, topic: str, payload: bytes
) -> bytes:
    """The stored event's own hash (`app.hash_chain.stored_event_hash`)."""
    return stored_event_hash(prev_hash, _as_uuid(originator_id), version, topic, payload)


def is_chained(state: bytes) -> bool:
    return state[:4] == MAGIC and len(state) >= HEADER_BYTES


def seal(prev_hash: bytes, originator_id: UUID, version: int, topic: str, payload: bytes) -> bytes:
    """The stored state: header, then payload."""
    own = event_hash(prev_hash, originator_id, version, topic, payload)
    return MAGIC + prev_hash + own + payload


def payload_of(state: bytes) -> bytes | memoryview:
    """The msgspec payload (what the mapper decodes), with or without a header."""
    if is_chained(state):
        return memoryview(state)[HEADER_BYTES:]
    return state


def own_hash_of(state: bytes) -> bytes:
    return state[len(MAGIC) + HASH_BYTES : HEADER_BYTES]


def prev_hash_of(state: bytes) -> bytes:
    return state[len(MAGIC) : len(MAGIC) + HASH_BYTES]


@dataclass
class StreamCheck:
    """The running check of one stream, event after event (oldest first)."""

    stream: UUID
    last_version: int = 0
    last_hash: bytes = GENESIS
    seen_chained: bool = False
    broken: bool = False

    def check(self, stored: StoredEvent, report: ChainReport, *, chain_began: bool) -> None:
        """`chain_began`: a chained event came earlier in the log, so every event written
        since carries a header; an unchained one is a forgery (issue 14: a garbage row
        inserted as a new stream at version 1 used to pass as pre-chain history)."""
        version = stored.originator_version
        state = bytes(stored.state)
        report.events += 1
        if self.broken:
            return  # the first break of a stream is the one to name
        if version != self.last_version + 1:
            self.fail(report, version, f"follows version {self.last_version}: a gap")
            return
        if is_chained(state):
            report.chained += 1
            payload = state[HEADER_BYTES:]
            prev, own = prev_hash_of(state), own_hash_of(state)
            computed = event_hash(prev, self.stream, version, stored.topic, payload)
            if computed != own:
                self.fail(report, version, "altered: its content does not match its hash")
                return
            if prev != self.last_hash:
                self.fail(
                    report,
                    version,
                    f"previous hash does not match version {version - 1}: "
                    f"version {version - 1} or this header was altered",
                )
                return
            self.seen_chained = True
            self.last_hash = own
        else:
            report.unchained += 1
            if self.seen_chained:
                self.fail(report, version, "unchained event after chained ones (header removed)")
                return
            if chain_began:
                self.fail(
                    report,
                    version,
                    "unchained event written after the chain began (inserted, or header removed)",
                )
                return
            self.last_hash = event_hash(self.last_hash, self.stream, version, stored.topic, state)
        self.last_version = version

    def fail(self, report: ChainReport, version: int, problem: str) -> None:
        """The stream's first break: named, and its later rows no longer checked."""
        self.broken = True
        report.breaks.append(ChainBreak(self.stream, version, problem))


def check_streams(
    rows: Iterable[StoredEvent],
    progress: Callable[[int], None] | None = None,
    *,
    decode: Callable[[StoredEvent], object] | None = None,
) -> ChainReport:
    """Check stored rows read in log order (any interleaving of streams). Pre-chain history
    comes first in the log: once one chained event has been read, every later one must be
    chained too. With `decode`, every row must also decode into its event (issue 14: a row
    with a well-formed header can still be garbage)."""
    report = ChainReport()
    streams: dict[UUID, StreamCheck] = {}
    chain_began = False
    for n, stored in enumerate(rows, start=1):
        stream = _as_uuid(stored.originator_id)
        check = streams.get(stream)
        if check is None:
            check = streams[stream] = StreamCheck(stream)
        check.check(stored, report, chain_began=chain_began)
        if decode is not None and not check.broken:
            try:
                decode(stored)
            except Exception as error:  # any failure: the row is not a fact the store can hand
                check.fail(
                    report,
                    stored.originator_version,
                    f"does not decode as {stored.topic!r} ({type(error).__name__})",
                )
        chain_began = chain_began or is_chained(bytes(stored.state))
        if progress is not None and n % 10_000 == 0:
            progress(n)
    report.streams = len(streams)
    heads = hashlib.sha256()
    for stream in sorted(streams):
        check = streams[stream]
        heads.update(stream.bytes + check.last_version.to_bytes(8, "big") + check.last_hash)
    report.heads_digest = heads.hexdigest()
    return report


def chain_of(rows: Sequence[StoredEvent]) -> bytes:
    """The hash of a stream's last event, from the whole stream (unchained history)."""
    last = GENESIS
    for stored in rows:
        state = bytes(stored.state)
        if is_chained(state):
            last = own_hash_of(state)
        else:
            last = event_hash(
                last,
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                state,
            )
    return last


class HeadCache:
    """The last known (version, hash) of each stream, as committed in the store.

    Entries come only from events decoded out of the store or saved successfully, and are
    used only for the exact next version, so a stale entry costs a read, never a wrong hash.
    Events being encoded for a save wait in a per-thread pending map until the save commits.
    """

    def __init__(
        self,
        read_stream: Callable[[UUID, int | None], Sequence[StoredEvent]],
        maxsize: int = HEAD_CACHE_SIZE,
    ) -> None:
        # read_stream(id, lte) -> stored events of the stream up to `lte`; with lte set, the
        # caller wants only the last one (it passes limit 1, newest first).
        self._read_stream = read_stream
        self._heads: dict[UUID, tuple[int, bytes]] = {}
        self._maxsize = maxsize
        self._local = threading.local()

    # --- reads ---------------------------------------------------------------------------

    def seen(self, originator_id: UUID, version: int, own_hash: bytes) -> None:
        """A chained event read from the store."""
        known = self._heads.get(originator_id)
        if known is None or known[0] < version:
            self._put(originator_id, version, own_hash)

    def unchained(self, originator_id: UUID | str, version: int) -> None:
        """An unchained event decoded for a load: noted for the loading thread, which asks
        the store whether it is history from before the chain or written after (issue 14)."""
        noted: list[tuple[UUID, int]] | None = getattr(self._local, "unchained", None)
        if noted is not None:
            noted.append((_as_uuid(originator_id), version))

    def watch_unchained(self) -> list[tuple[UUID, int]]:
        """Start noting the unchained events this thread decodes; the list fills as it goes."""
        noted: list[tuple[UUID, int]] = []
        self._local.unchained = noted
        return noted

    def stop_watching(self) -> None:
        self._local.unchained = None

    # --- writes --------------------------------------------------------------------------

    def begin(self) -> None:
        self._local.pending = {}

    def prev_hash(self, originator_id: UUID, version: int) -> bytes:
        """The hash of event `version - 1` of the stream (genesis for the first)."""
        if version <= 1:
            return GENESIS
        pending: dict[UUID, tuple[int, bytes]] | None = getattr(self._local, "pending", None)
        for source in (pending or {}, self._heads):
            known = source.get(originator_id)
            if known is not None and known[0] == version - 1:
                return known[1]
        return self._read_prev(originator_id, version)

    def encoded(self, originator_id: UUID, version: int, own_hash: bytes) -> None:
        pending: dict[UUID, tuple[int, bytes]] | None = getattr(self._local, "pending", None)
        if pending is not None:
            pending[originator_id] = (version, own_hash)

    def commit(self) -> None:
        pending: dict[UUID, tuple[int, bytes]] = getattr(self._local, "pending", None) or {}
        for originator_id, (version, own_hash) in pending.items():
            self.seen(originator_id, version, own_hash)
        self._local.pending = None

    def abort(self) -> None:
        self._local.pending = None

    # --- internals -----------------------------------------------------------------------

    def _read_prev(self, originator_id: UUID, version: int) -> bytes:
        last = self._read_stream(originator_id, version - 1)
        if not last or last[-1].originator_version != version - 1:
            # No such event: the save will conflict or fail anyway; chain to genesis.
            return GENESIS
        state = bytes(last[-1].state)
        if is_chained(state):
            return own_hash_of(state)
        # An old, unchained stream: fold its whole history once.
        return chain_of(self._read_stream(originator_id, None))

    def _put(self, originator_id: UUID, version: int, own_hash: bytes) -> None:
        if len(self._heads) >= self._maxsize:
            # Another thread may evict at the same time: losing an entry costs a read only.
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                del self._heads[next(iter(self._heads))]
        self._heads[originator_id] = (version, own_hash)
