"""A msgspec mapper for eventsourcing: fast JSON with types restored on the way back.

eventsourcing's default mapper rebuilds events from plain dicts without validation, so UUIDs,
dates and nested values would come back as strings. This mapper decodes to a dict, puts back
the originator id and version from the stored row, runs the upcasts, then converts the dict
into the event's own dataclass with msgspec, which checks every field's type.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, TypedDict
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from msgspec import NODEFAULT
from msgspec.structs import fields

from adapters.persistence import sealing
from adapters.persistence.chain import (
    HEADER_BYTES,
    MAGIC,
    HeadCache,
    event_hash,
    own_hash_of,
    prev_hash_of,
    seal,
)
from adapters.persistence.sealing import personal_fields
from app.ports.key_store import KeyStore

_ENCODER = msgspec.json.Encoder()
# A mirror struct's values as a dict, in C (the mirror's fields are its event's, in order).
_as_dict = msgspec.structs.asdict
_DECODER = msgspec.json.Decoder()

# Attributes every eventsourcing aggregate keeps besides its own annotated ones.
_AGGREGATE_BASE_HINTS: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}


class UndecodableRow(MapperDeserialisationError):
    """A stored row that does not decode into its event (corrupt, or forged behind the
    store's back): it names where it is, never its bytes (they may hold personal data)."""

    def __init__(self, stored: StoredEvent, error: Exception) -> None:
        self.stream = (
            stored.originator_id
            if isinstance(stored.originator_id, UUID)
            else UUID(str(stored.originator_id))
        )
        self.version = stored.originator_version
        self.problem = f"{type(error).__name__} decoding {stored.topic!r}"
        super().__init__(
            f"cannot decode stored event {stored.topic} {self.stream}/{self.version}: {error}"
        )


# What a row that is not what its topic says raises on its way through the mapper.
_DECODING_ERRORS = (
    msgspec.ValidationError,
    msgspec.DecodeError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    TopicError,
    InvalidTag,
)


class MsgspecTranscoder(Transcoder):
    """Bytes to plain Python data and back (types are restored by the mapper)."""

    def encode(self, obj: Any) -> bytes:
        return _ENCODER.encode(obj)

    def decode(self, data: bytes) -> Any:
        return _DECODER.decode(data)


@cache
def _aggregate_hints(aggregate_topic: str) -> dict[str, Any]:
    cls = resolve_topic(aggregate_topic)
    hints = dict(_AGGREGATE_BASE_HINTS)
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("eventsourcing"):
            continue
        module_globals = vars(__import__(klass.__module__, fromlist=["_"]))
        hints.update(typing.get_type_hints(klass, globalns=module_globals, localns=vars(klass)))
    return hints


class MsgspecMapper(Mapper[UUID]):
    """Maps aggregate events and snapshots to stored events with msgspec.

    With a `chain` (the store sets one), each aggregate event's stored state starts with the
    hash header of `adapters.persistence.chain`; snapshots never do. Without one (codec tests,
    tools), states are plain payloads. Both kinds decode.
    """

    chain: HeadCache | None = None
    keys: KeyStore | None = None  # with a key store, personal fields are sealed (sealing.py)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        event_state = dict(vars(domain_event))
        _check_storable(event_state, type(domain_event).__qualname__)
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        if self.keys is not None and personal_fields(type(domain_event)):
            event_state = sealing.seal(
                self.keys, type(domain_event), originator_id, originator_version, event_state
            )
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        topic = get_topic(type(domain_event))
        chain = self.chain
        if chain is not None and not isinstance(domain_event, CanSnapshotAggregate):
            prev = chain.prev_hash(originator_id, originator_version)
            stored_state = seal(prev, originator_id, originator_version, topic, stored_state)
            chain.encoded(originator_id, originator_version, own_hash_of(stored_state))
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=stored_state,
        )

    def reads_in_one_step(self) -> bool:
        """Whether a chained row's payload is its event's JSON as it is: no hash check to
        make for a load (`chain`), nothing to decrypt or decompress."""
        return self.chain is None and not self.cipher and not self.compressor

    @property
    def one_step(self) -> Callable[[str], OneStep | None]:
        """topic -> how an event of that topic decodes in one step (`OneStep`: a current
        class version, no sealed fields); None otherwise, or if the topic names no event
        class (the general way then says why). A cached function; the store keeps its
        answers by topic (`EventsourcingStore._step`)."""
        return _one_step

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.decode(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )

    def decode(
        self, originator_id: UUID | str, version: int, topic: str, state: Any
    ) -> DomainEventProtocol[UUID]:
        """One stored row's columns into its domain event (the store's bulk reads call this
        with a row's values, without building a StoredEvent first: issue 15)."""
        stored_state = state
        try:
            if (
                self.chain is None
                and not self.cipher
                and not self.compressor
                and state[:4] == MAGIC
                and len(state) >= HEADER_BYTES
            ):
                # The bulk reads' common case, in as few steps as it takes (issue 15): a
                # chained row read without a load's hash check, of a current event type.
                plan = _plan(topic)
                if plan.decoder is not None:
                    owner = (
                        originator_id if type(originator_id) is UUID else UUID(str(originator_id))
                    )
                    if plan.personal:  # an enrolment's: its sealed fields opened, then typed
                        values = sealing.unseal(
                            self.keys,
                            plan.cls,
                            owner,
                            version,
                            _DECODER.decode(state[HEADER_BYTES:]),
                        )
                        event_state = _as_dict(msgspec.convert(values, plan.mirror, strict=False))
                    else:
                        event_state = _as_dict(plan.decoder.decode(state[HEADER_BYTES:]))
                    event_state["originator_id"] = owner
                    event_state["originator_version"] = version
                    event: DomainEventProtocol[UUID] = object.__new__(plan.cls)
                    object.__setattr__(event, "__dict__", event_state)
                    return event
            if not isinstance(originator_id, UUID):
                originator_id = UUID(str(originator_id))
            chained = stored_state[:4] == MAGIC and len(stored_state) >= HEADER_BYTES
            if chained:
                if self.chain is not None:
                    # A load checks the row against its own hash (one sha256): an altered
                    # row is not decided upon (issue 14); `verify-store` checks the links.
                    if not _matches_own_hash(originator_id, version, topic, stored_state):
                        raise ValueError("altered: its content does not match its hash")
                    self.chain.seen(originator_id, version, own_hash_of(stored_state))
                stored_state = memoryview(stored_state)[HEADER_BYTES:]
                if self.cipher or self.compressor:
                    stored_state = bytes(stored_state)
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            plan = _plan(topic)
            if not chained and self.chain is not None and not plan.is_snapshot:
                # Old history, or a row written behind the store's back: the store decides.
                self.chain.unchained(originator_id, version)
            if plan.personal:
                event_state = self.transcoder.decode(stored_state)
                event_state = sealing.unseal(
                    self.keys, plan.cls, originator_id, version, event_state
                )
                event_state = plan.as_dict(msgspec.convert(event_state, plan.mirror, strict=False))
            elif plan.decoder is not None:
                # Fast path: one typed decode straight from the bytes into a mirror struct.
                event_state = plan.as_dict(plan.decoder.decode(stored_state))
            else:
                event_state = self._decode_with_upcasts(plan, stored_state)
            event_state["originator_id"] = originator_id
            event_state["originator_version"] = version
            event = object.__new__(plan.cls)
            object.__setattr__(event, "__dict__", event_state)
            return event
        except _DECODING_ERRORS as e:
            raise UndecodableRow(StoredEvent(originator_id, version, topic, state), e) from e

    def _decode_with_upcasts(self, plan: _Plan, stored_state: Any) -> dict[str, Any]:
        """Old versions and snapshots: decode to a dict, upcast, then convert with types."""
        event_state: dict[str, Any] = self.transcoder.decode(stored_state)
        class_version = getattr(plan.cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(plan.cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        if plan.is_snapshot:
            event_state["state"] = _typed_snapshot_state(event_state["topic"], event_state["state"])
        # Validate against the event's own field types (ids and versions are filled after).
        return plan.as_dict(msgspec.convert(event_state, plan.mirror, strict=False))


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How to decode one event class: its mirror struct without the originator fields."""

    cls: type[Any]
    mirror: type[msgspec.Struct]
    fields: tuple[str, ...]
    decoder: msgspec.json.Decoder[Any] | None
    is_snapshot: bool
    personal: bool = False  # sealed fields: decoded through a dict (sealing.py)

    def as_dict(self, values: msgspec.Struct) -> dict[str, Any]:
        """The mirror's values as the event's `__dict__`, in the event's field order."""
        return _as_dict(values)


_ORIGINATOR_FIELDS = ("originator_id", "originator_version")


@cache
def _plan(topic: str) -> _Plan:
    cls = resolve_topic(topic)
    hints = typing.get_type_hints(cls)  # each base resolved in its own module
    own = [f for f in dataclasses.fields(cls) if f.name not in _ORIGINATOR_FIELDS]
    fields = tuple(f.name for f in own)
    is_snapshot = issubclass(cls, CanSnapshotAggregate)
    spec: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in own:
        hint = Any if is_snapshot and field.name == "state" else hints[field.name]
        # A field added later carries a default, so events stored before it still decode.
        if field.default is not dataclasses.MISSING:
            spec.append((field.name, hint, field.default))
        elif field.default_factory is not dataclasses.MISSING:
            spec.append((field.name, hint, msgspec.field(default_factory=field.default_factory)))
        else:
            spec.append((field.name, hint))
    # gc=False: a mirror lives only while its event is built and never holds a cycle.
    mirror = msgspec.defstruct(f"{cls.__qualname__}State", spec, kw_only=True, gc=False)
    assert mirror.__struct_fields__ == fields, f"{topic}: the mirror reorders its fields"
    fast = not is_snapshot and getattr(cls, "class_version", 1) == 1
    decoder = msgspec.json.Decoder(mirror) if fast else None
    return _Plan(cls, mirror, fields, decoder, is_snapshot, bool(personal_fields(cls)))


class OneStep(NamedTuple):
    """How a topic's payloads decode in one step: `decoder` makes each one's values, as the
    event's `__dict__` save its stream and version (in the order stored, which is the field
    order of the class that wrote it), or as a mirror struct (`mirrored`), whose values
    `msgspec.structs.asdict` takes out in the class's field order."""

    cls: type[Any]
    decoder: msgspec.json.Decoder[Any]
    mirrored: bool


@cache
def _one_step(topic: str) -> OneStep | None:
    try:
        plan = _plan(topic)
    except Exception:  # an unknown or broken topic: rows of it go the general way
        return None
    if plan.decoder is None or plan.personal:
        return None
    if any(
        f.default is not NODEFAULT or f.default_factory is not NODEFAULT
        for f in fields(plan.mirror)
    ):
        # A field added later, with a default: a typed dict would leave it out of an event
        # stored before it, where the mirror fills it in.
        return OneStep(plan.cls, plan.decoder, mirrored=True)
    # Straight into a dict, typed as the mirror (issue 15: a tenth of a replay's decoding
    # went on making the mirror and taking its values out again).
    hints = {f.name: f.type for f in fields(plan.mirror)}
    values = TypedDict(f"{plan.cls.__qualname__}Values", hints)  # type: ignore[misc]
    return OneStep(plan.cls, msgspec.json.Decoder(values), mirrored=False)


def _matches_own_hash(originator_id: UUID, version: int, topic: str, state: bytes) -> bool:
    payload = memoryview(state)[HEADER_BYTES:]
    computed = event_hash(prev_hash_of(state), originator_id, version, topic, bytes(payload))
    return computed == own_hash_of(state)


class UnstorableValueError(ValueError):
    """A value JSON cannot keep exactly: refused before it reaches the log."""


# Exact types JSON keeps as they are: a save skips them at once (most of an event's values).
_KEPT_AS_IS = frozenset({str, int, bool, type(None), UUID, bytes})


def _check_storable(value: object, path: str) -> None:
    """Refuse what would be stored changed: NaN and infinities become null in JSON, and ISO
    offsets keep whole minutes only."""
    if type(value) in _KEPT_AS_IS:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableValueError(f"{path}: {value} cannot be stored")
    elif isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and offset.seconds % 60:
            raise UnstorableValueError(f"{path}: UTC offset {offset} has seconds")
    elif isinstance(value, dict):
        for key, item in value.items():
            if type(item) not in _KEPT_AS_IS:  # the path is worth building only then
                _check_storable(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if type(item) not in _KEPT_AS_IS:
                _check_storable(item, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _check_storable(getattr(value, field.name), f"{path}.{field.name}")


def _typed_snapshot_state(aggregate_topic: str, state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's state is a plain dict: convert each attribute to its annotated type."""
    hints = _aggregate_hints(aggregate_topic)
    typed: dict[str, Any] = {}
    for name, value in state.items():
        hint = hints.get(name)
        typed[name] = value if hint is None else msgspec.convert(value, hint)
    return typed
