"""Personal fields sealed with their owner's key (issue 8: erasure that keeps the audit).

The domain names, per event class, the fields that hold a person's data and what they read
as once erased (`domain.candidate.PERSONAL_FIELDS`). On the way into the log those fields are
taken out of the event's state, encoded, and encrypted with AES-256-GCM under the owner's key
(the `KeyStore` port; the owner is the event's aggregate, the candidate); the state keeps the
rest in clear and a `_sealed` blob. On the way back the blob is opened with the key, or, once
the key is destroyed, the placeholders take the fields' place: the event still decodes with
its types, its stored bytes (and so the hash chain) never change, and nothing that decides
ever read those fields.

Events written before sealing existed keep their fields in clear; erasing such a person
makes no difference to those old rows (docs/privacy.md says how to re-seal a store).
"""

from __future__ import annotations

import base64
import contextlib
import os
import threading
from binascii import a2b_base64
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.ports.key_store import KeyStore
from domain.candidate import PERSONAL_FIELDS, Candidate

SEALED = "_sealed"
NONCE_BYTES = 12
_PERSONAL_CLASSES: dict[type[Any], dict[str, object]] = {
    getattr(Candidate, name): fields for name, fields in PERSONAL_FIELDS.items()
}


_PERSONAL_AGGREGATES: tuple[type[Any], ...] = (Candidate,)


class ErasedOwner(ValueError):
    """Personal data for a person whose key was destroyed: refused, never stored in clear."""


class PageKeys:
    """The key store as the log's reads see it: the owners of a page's sealed rows are
    looked up in one query (`prefetched`) rather than one a row (issue 15: on PostgreSQL a
    look-up is a round trip, and a replay meets an enrolment's sealed rows in most pages).
    Only for the length of the page, in the thread decoding it: a key is never kept longer,
    so an erasure on any node holds from the next page on (a page read ahead with its keys
    uses them only within `log_pages.KEYS_FRESH_S` of reading them)."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._page = threading.local()

    @contextlib.contextmanager
    def prefetched(
        self, owners: Collection[UUID], keys: Mapping[UUID, bytes] | None = None
    ) -> Iterator[None]:
        """`keys`: the owners' keys as the page brought them (log_pages.py reads them with
        the page when the keys are in the log's database), an owner without one erased;
        None: looked up here."""
        # Each owner of the page with its key, None for one erased: one look-up a row. (A
        # UUID hashes in Python: `fromkeys` and `update` reuse the hashes the set and dict
        # hold.)
        found = self._keys.existing_keys(owners) if keys is None else keys
        on_page: dict[UUID, bytes | None] = dict.fromkeys(owners)
        on_page.update(found)
        self._page.keys = on_page
        try:
            yield
        finally:
            del self._page.keys

    @contextlib.contextmanager
    def remembered(self, owner: UUID) -> Iterator[None]:
        """While one stream is loaded in this thread, its owner's key is looked up at most
        once, when a first sealed event needs it: a candidate's enrolment, profile and
        password events each asked the key store again (issue 15: a round trip each on
        PostgreSQL). A stream with no sealed event asks nothing."""
        state = self._page.__dict__
        before: dict[str, Any] = {n: state.pop(n) for n in ("loading", "loaded") if n in state}
        state["loading"] = owner  # a load inside another load (none today) restores it after
        try:
            yield
        finally:
            state.pop("loading", None)
            state.pop("loaded", None)
            state.update(before)

    def existing_key(self, owner: UUID) -> bytes | None:
        key: bytes | None = getattr(self._page, "keys", _NO_PAGE).get(owner, _NOT_ON_PAGE)
        if key is not _NOT_ON_PAGE:
            return key
        if owner == getattr(self._page, "loading", None):
            if not hasattr(self._page, "loaded"):
                self._page.loaded = self._keys.existing_key(owner)
            loaded: bytes | None = self._page.loaded
            return loaded
        return self._keys.existing_key(owner)

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        return self._keys.existing_keys(owners)

    def key_for(self, owner: UUID) -> bytes | None:
        return self._keys.key_for(owner)

    def erase(self, owner: UUID) -> bool:
        return self._keys.erase(owner)

    def erased(self, owner: UUID) -> bool:
        return self._keys.erased(owner)


def personal_classes() -> tuple[type[Any], ...]:
    """The event classes that have personal fields (their rows are never read in one step)."""
    return tuple(_PERSONAL_CLASSES)


def may_hold_personal(kind: type[Any]) -> bool:
    """Whether aggregates of `kind` may have sealed events (a load of many then asks for
    their owners' keys at once)."""
    return any(issubclass(aggregate, kind) for aggregate in _PERSONAL_AGGREGATES)


def personal_fields(cls: type[Any]) -> dict[str, object] | None:
    """The class's personal fields and their erased placeholders (None: nothing personal)."""
    return _PERSONAL_CLASSES.get(cls)


def _aad(owner: UUID, version: int) -> bytes:
    # Bound to its row: a sealed blob copied onto another event does not open.
    return f"{owner}/{version}".encode()


def seal(
    keys: KeyStore, cls: type[Any], owner: UUID, version: int, state: dict[str, Any]
) -> dict[str, Any]:
    """The state with its personal fields replaced by one encrypted blob."""
    fields = personal_fields(cls)
    if not fields:
        return state
    key = keys.key_for(owner)
    if key is None:
        raise ErasedOwner(f"{owner} was erased: no personal data is recorded for them again")
    private = {name: state.pop(name) for name in fields if name in state}
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, msgspec.json.encode(private), _aad(owner, version))
    state[SEALED] = base64.b64encode(nonce + sealed).decode()
    return state


def unseal(
    keys: KeyStore | None, cls: type[Any], owner: UUID, version: int, state: dict[str, Any]
) -> dict[str, Any]:
    """The state with its personal fields back, or their placeholders once erased."""
    blob = state.pop(SEALED, None)
    if blob is None or cls not in _PERSONAL_CLASSES:
        return state
    key = keys.existing_key(owner) if keys is not None else None
    if key is None:
        state.update(_ERASED[cls])
        return state
    # (`binascii` directly: what `base64.b64decode` calls, without its checks of the type.)
    raw = a2b_base64(blob)
    opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(owner, version))
    state.update(_decode_json(opened))
    return state


# The placeholders of an erased owner's fields, as they are stored.
_ERASED: dict[type[Any], dict[str, Any]] = {
    cls: {name: msgspec.to_builtins(value) for name, value in fields.items()}
    for cls, fields in _PERSONAL_CLASSES.items()
}
_decode_json = msgspec.json.Decoder().decode
_NO_PAGE: dict[UUID, bytes | None] = {}
_NOT_ON_PAGE: Any = object()
