"""The KeyStore contract: one key per owner, made once and kept; erasure is for ever.

The `adapter` is an empty key store.
"""

from __future__ import annotations

from uuid import uuid4

from app.ports.key_store import KEY_BYTES, KeyStore

__all__ = [
    "test_a_key_is_made_once_per_owner_and_kept",
    "test_an_erased_owner_never_gets_a_key_again",
    "test_the_keys_of_several_owners_come_in_one_look_up",
]


def test_a_key_is_made_once_per_owner_and_kept(adapter: KeyStore) -> None:
    keys = adapter
    alice, bob = uuid4(), uuid4()
    assert keys.existing_key(alice) is None
    key = keys.key_for(alice)
    assert key is not None and len(key) == KEY_BYTES
    assert keys.key_for(alice) == key == keys.existing_key(alice)
    assert keys.key_for(bob) not in (None, key)
    assert not keys.erased(alice)


def test_an_erased_owner_never_gets_a_key_again(adapter: KeyStore) -> None:
    keys = adapter
    alice, bob = uuid4(), uuid4()
    keys.key_for(alice)
    bob_key = keys.key_for(bob)
    assert keys.erase(alice) is True
    assert keys.erased(alice)
    assert keys.key_for(alice) is None and keys.existing_key(alice) is None
    assert keys.erase(alice) is False  # nothing left to destroy
    assert keys.key_for(bob) == bob_key  # others untouched
    never = uuid4()
    assert keys.erase(never) is False and keys.key_for(never) is None


def test_the_keys_of_several_owners_come_in_one_look_up(adapter: KeyStore) -> None:
    keys = adapter
    alice, bob, erased, never = uuid4(), uuid4(), uuid4(), uuid4()
    alice_key, bob_key = keys.key_for(alice), keys.key_for(bob)
    keys.key_for(erased)
    keys.erase(erased)
    assert dict(keys.existing_keys([alice, bob, erased, never])) == {alice: alice_key, bob: bob_key}
    assert dict(keys.existing_keys({bob})) == {bob: bob_key}
    assert dict(keys.existing_keys([])) == {}
