"""One contract body per port, run against every adapter of that port."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import ManualClock, SystemClock
from adapters.ids import RandomIds, SeededIds
from adapters.mail.memory import MemoryMailer
from adapters.media.memory import FileMedia, MemoryMedia
from app.ports.clock import Clock
from app.ports.ids import Ids
from app.ports.mailer import Mail, Mailer, MailRefused
from app.ports.media_capture import MediaCapture

# --- Clock -------------------------------------------------------------------------------

CLOCKS: dict[str, Callable[[], Clock]] = {
    "system": SystemClock,
    "manual": lambda: ManualClock(datetime(2025, 1, 27, 9, tzinfo=UTC)),
}


@pytest.mark.parametrize("make", CLOCKS.values(), ids=CLOCKS.keys())
def test_a_clock_tells_aware_time_that_never_goes_backwards(make: Callable[[], Clock]) -> None:
    clock = make()
    readings = [clock.now() for _ in range(50)]
    assert all(r.tzinfo is not None and r.utcoffset() is not None for r in readings)
    assert readings == sorted(readings)


def test_a_manual_clock_moves_only_forward_when_told() -> None:
    clock = ManualClock(datetime(2025, 1, 27, 9, tzinfo=UTC))
    assert clock.advance(days=1, hours=2) == datetime(2025, 1, 28, 11, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2025, 1, 1))  # naive: refused


# --- Ids ---------------------------------------------------------------------------------

IDS: dict[str, Callable[[], Ids]] = {"random": RandomIds, "seeded": lambda: SeededIds(3)}


@pytest.mark.parametrize("make", IDS.values(), ids=IDS.keys())
def test_ids_are_unique_uuids_and_codes_are_four_digits(make: Callable[[], Ids]) -> None:
    ids = make()
    made = [ids.new_id() for _ in range(2000)]
    assert all(isinstance(i, UUID) for i in made)
    assert len(set(made)) == len(made)
    codes = [ids.validation_code() for _ in range(200)]
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    assert len(set(codes)) > 1


def test_seeded_ids_repeat_for_the_same_seed() -> None:
    first, again = SeededIds(5), SeededIds(5)
    assert [first.new_id() for _ in range(5)] == [again.new_id() for _ in range(5)]
    assert SeededIds(5).new_id() != SeededIds(6).new_id()


# --- Mailer ------------------------------------------------------------------------------

MAILERS: dict[str, Callable[[], Mailer]] = {"memory": MemoryMailer}


@pytest.mark.parametrize("make", MAILERS.values(), ids=MAILERS.keys())
def test_a_mailer_delivers_once_per_mail_id_and_refuses_a_bad_address(
    make: Callable[[], Mailer],
) -> None:
    mailer = make()
    mail = Mail("m-1", "camille@example.org", "Bienvenue", "Bonjour")
    mailer.send(mail)
    mailer.send(mail)  # a retried delivery
    with pytest.raises(MailRefused):
        mailer.send(Mail("m-2", "not-an-address", "x", "y"))
    if isinstance(mailer, MemoryMailer):
        assert mailer.to("camille@example.org") == [mail]


# --- Media capture -----------------------------------------------------------------------


def _file_media(tmp_path: Path) -> MediaCapture:
    return FileMedia(tmp_path / "media")


MEDIA: dict[str, Callable[[Path], MediaCapture]] = {
    "memory": lambda _: MemoryMedia(),
    "files": _file_media,
}


@pytest.mark.parametrize("make", MEDIA.values(), ids=MEDIA.keys())
def test_stored_media_come_back_byte_for_byte_with_their_sha256(
    make: Callable[[Path], MediaCapture], tmp_path: Path
) -> None:
    media = make(tmp_path)
    session = uuid4()

    @settings(max_examples=25, deadline=timedelta(seconds=2))
    @given(st.binary(max_size=4096), st.sampled_from(["face-photo", "id-photo", "environment"]))
    def round_trip(data: bytes, kind: str) -> None:
        stored = media.store(session, kind, data)
        assert stored.content_hash == f"sha256:{hashlib.sha256(data).hexdigest()}"
        assert stored.size == len(data)
        assert media.load(stored.media_id) == data

    round_trip()
    with pytest.raises(KeyError):
        media.load(f"{session}/unknown")


@pytest.mark.parametrize("make", MEDIA.values(), ids=MEDIA.keys())
def test_deleted_media_are_gone_and_deleting_twice_says_so(
    make: Callable[[Path], MediaCapture], tmp_path: Path
) -> None:
    media = make(tmp_path)
    session = uuid4()
    kept = media.store(session, "id-photo", b"other person")
    gone = media.store(session, "face-photo", b"camille's face")
    assert media.delete(gone.media_id) is True
    with pytest.raises(KeyError):
        media.load(gone.media_id)
    assert media.delete(gone.media_id) is False
    assert media.load(kept.media_id) == b"other person"


def test_file_media_leave_no_partial_file_and_refuse_paths_outside_the_root(
    tmp_path: Path,
) -> None:
    media = FileMedia(tmp_path / "media")
    stored = media.store(uuid4(), "face-photo", b"jpeg")
    assert not list((tmp_path / "media").rglob(".partial-*"))
    assert (tmp_path / "media" / stored.media_id).read_bytes() == b"jpeg"
    (tmp_path / "secret").write_bytes(b"x")
    with pytest.raises(KeyError):
        media.load("../secret")
    with pytest.raises(KeyError):
        media.delete("../secret")
    assert (tmp_path / "secret").exists()
