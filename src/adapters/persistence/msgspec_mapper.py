"""A msgspec mapper for eventsourcing: fast JSON with types restored on the way back.

eventsourcing's default mapper rebuilds events from plain dicts without validation, so UUIDs,
dates and nested values would come back as strings. This mapper decodes to a dict, puts back
the originator id and version from the stored row, runs the upcasts, then converts the dict
into the event's own dataclass with msgspec, which checks every field's type.
"""

from __future__ import annotations

import typing
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()

# Attributes every eventsourcing aggregate keeps besides its own annotated ones.
_AGGREGATE_BASE_HINTS: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}


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
    """Maps aggregate events and snapshots to stored events with msgspec."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored_state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        try:
            stored_state = stored_event.state
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            event_state: dict[str, Any] = self.transcoder.decode(stored_state)
            class_version = getattr(cls, "class_version", 1)
            from_version = event_state.pop("class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
                from_version += 1
            originator_id = stored_event.originator_id
            event_state["originator_id"] = (
                originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
            )
            event_state["originator_version"] = stored_event.originator_version
            if isinstance(cls, type) and issubclass(cls, CanSnapshotAggregate):
                event_state["state"] = _typed_snapshot_state(
                    event_state["topic"], event_state["state"]
                )
            return typing.cast(DomainEventProtocol[UUID], msgspec.convert(event_state, cls))
        except (msgspec.ValidationError, KeyError, TypeError, ValueError) as error:
            raise MapperDeserialisationError(
                f"cannot decode stored event {stored_event.topic} "
                f"{stored_event.originator_id}/{stored_event.originator_version}: {error}"
            ) from error


def _typed_snapshot_state(aggregate_topic: str, state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's state is a plain dict: convert each attribute to its annotated type."""
    hints = _aggregate_hints(aggregate_topic)
    typed: dict[str, Any] = {}
    for name, value in state.items():
        hint = hints.get(name)
        typed[name] = value if hint is None else msgspec.convert(value, hint)
    return typed
