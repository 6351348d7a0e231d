"""Issue 15: read models kept in the store with their position. A process starts from the
newest saved state and replays only the tail; the result equals a full replay; a state that
does not decode, or that another projection code saved, is ignored (the log is replayed); on
PostgreSQL an append by one process is announced to the others' listeners; and no write
decision rests on a lagging read model (the store refuses the duplicate)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Platform, read_model_store
from app.parked import ParkedReactions
from app.ports.event_store import EventStore, Recorded
from app.ports.read_model_store import SavedReadModels
from app.privacy import erase_candidate
from app.read_model_checkpoint import (
    NAME,
    PROJECTED,
    ReadModelState,
    decode,
    encode,
    restore,
)
from app.read_models import Projections
from app.use_cases import accounts, appeals, enrolment, reviewing
from domain.candidate import Candidate
from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review
from domain.staff import Role
from ui.journey import Journey, make_platform

CENTRE = UUID("00000000-0000-4000-8000-00000000ce17")


def a_busy_log(platform: Platform) -> None:
    """Two candidates: one decided and released, appealed and decided again; one erased."""
    examiner = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER
    )
    second = accounts.register_staff(
        platform.ctx, email="yann@example.org", name="Yann", role=Role.EXAMINER
    )
    first = Journey(platform, email="first@example.org")
    review = platform.ctx.store.get(first.sent_for_review(), Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    first.decided(
        examiner, Verdict.INVALIDATED, (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    )
    assert first.review_id is not None and first.candidate_id is not None
    reviewing.release_results(platform.ctx, first.review_id, released_by=examiner)
    platform.settle()
    appeals.lodge_appeal(
        platform.ctx,
        first.review_id,
        candidate_id=first.candidate_id,
        reason="je portais des bouchons d'oreille prescrits",
    )
    appeals.take_appeal(platform.ctx, first.review_id, second)
    platform.settle()
    gone = Journey(platform, email="gone@example.org")
    gone.enrol()
    assert gone.candidate_id is not None
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        gone.candidate_id,
        reason="test",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    platform.settle()


@pytest.fixture(scope="module")
def busy() -> Iterator[Platform]:
    platform = make_platform()
    a_busy_log(platform)
    yield platform
    platform.close()


def state_of(projections: Projections, parked: ParkedReactions | None = None) -> ReadModelState:
    return decode(encode(projections, parked or ParkedReactions())[2])


def test_the_saved_state_holds_every_read_model() -> None:
    assert set(PROJECTED) == set(vars(Projections())) - {"lock", "head"}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_saved_state_and_the_tail_equal_a_full_replay(
    busy: Platform, data: st.DataObject
) -> None:
    store = busy.ctx.store
    head = store.head()
    split = data.draw(st.integers(0, head), label="saved at")
    full = Projections()
    full.catch_up(store)
    before = Projections()
    for recorded in store.read(0, split) if split else ():
        before.apply(recorded)
    assert before.position == split
    _, _, saved = encode(before, ParkedReactions())
    started = Projections()
    restore(decode(saved), started, ParkedReactions())
    applied = started.catch_up(store)
    assert applied == head - split
    assert state_of(started) == state_of(full)
    assert started.find_by_email("gone@example.org") is None  # the erasure holds either way


def test_a_second_start_reads_only_the_tail(postgres_url: str) -> None:
    first = make_platform(postgres_url)
    try:
        Journey(first, email="early@example.org").enrol()
        assert first.keeper is not None and first.keeper.save()
        saved_at = first.projections.position
        Journey(first, email="late@example.org").enrol()
        head = first.store.head()
        assert head > saved_at
        second = make_platform(postgres_url)
        try:
            assert second.started is not None
            assert second.started.loaded_position == saved_at
            assert second.started.applied == head - saved_at
            first.projections.catch_up(first.store)
            assert state_of(second.projections) == state_of(first.projections)
            assert second.projections.find_by_email("early@example.org") is not None
        finally:
            second.close()
    finally:
        first.close()


def test_a_worker_pass_saves_once_enough_happened(tmp_path: Path) -> None:
    platform = make_platform(f"sqlite:///{tmp_path / 'vigie.sqlite'}")
    try:
        keeper = platform.keeper
        assert keeper is not None
        keeper.every_events = 5
        Journey(platform).enrol()  # settles: a worker pass
        assert keeper.saved_position == platform.projections.position > 0
    finally:
        platform.close()


def corrupt(platform: Platform, state: bytes) -> None:
    keeper = platform.keeper
    assert keeper is not None
    keeper.saved.save(SavedReadModels(NAME, keeper.code, platform.store.head() + 1, state))


@pytest.mark.parametrize("garbage", [b"", b"\x00not msgpack", b"\x81\xa8position\x07"])
def test_a_saved_state_that_does_not_decode_is_ignored(tmp_path: Path, garbage: bytes) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    platform = make_platform(url)
    Journey(platform).enrol()
    corrupt(platform, garbage)
    head = platform.store.head()
    platform.close()
    again = make_platform(url)
    try:
        assert again.started is not None
        assert again.started.ignored.startswith("undecodable")
        assert again.started.loaded_position == 0 and again.started.applied == head
        assert again.projections.find_by_email("camille.martin@example.org") is not None
    finally:
        again.close()


def test_a_state_saved_by_another_projection_code_is_not_loaded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    platform = make_platform(url)
    Journey(platform).enrol()
    assert platform.keeper is not None and platform.keeper.save()
    head = platform.store.head()
    platform.close()
    kept = read_model_store(platform_settings(url))
    older = kept.load(NAME, platform.keeper.code)
    assert older is not None
    kept.clear(NAME)
    kept.save(SavedReadModels(NAME, "another-code", older.position, older.state))
    again = make_platform(url)
    try:
        assert again.started is not None
        assert again.started.loaded_position == 0 and again.started.applied == head
    finally:
        again.close()


def platform_settings(url: str) -> Any:
    from adapters.bootstrap import Settings

    return Settings(database_url=url, media_root=None)


class CountingReads:
    """The store, counting the reads of the log a catch-up makes."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.reads = 0

    def read(self, after: int, limit: int) -> Sequence[Recorded]:
        self.reads += 1
        return self.store.read(after, limit)


def heard(platform: Platform, position: int, within_s: float = 10.0) -> bool:
    head = platform.projections.head
    assert head is not None
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        known = head.known()
        if known is not None and known >= position:
            return True
        time.sleep(0.02)
    return False


def test_an_append_by_one_process_is_announced_to_another_listening(postgres_url: str) -> None:
    from adapters.bootstrap import Settings, bootstrap

    writer = make_platform(postgres_url)
    listening = bootstrap(
        Settings(database_url=postgres_url, media_root=None, launcher="memory"), listen=True
    )
    try:
        assert heard(listening, writer.store.head())  # the head read when it began listening
        counting = CountingReads(listening.store)
        listening.projections.catch_up(counting)  # type: ignore[arg-type]
        counting.reads = 0
        assert listening.projections.catch_up(counting) == 0  # type: ignore[arg-type]
        assert counting.reads == 0  # at the announced head: no round trip
        Journey(writer, email="new@example.org").enrol()
        assert heard(listening, writer.store.head())
        assert listening.projections.catch_up(counting) > 0  # type: ignore[arg-type]
        assert listening.projections.find_by_email("new@example.org") is not None
        # Read-your-writes: what this process saved is read back before any announcement.
        own = Journey(listening, email="own@example.org")
        own.enrol()
        assert listening.projections.find_by_email("own@example.org") is not None
    finally:
        listening.close()
        writer.close()


def test_a_stale_read_model_never_lets_a_duplicate_through(tmp_path: Path) -> None:
    """Enrolment decides from the store's claims: a directory that lags (here an empty one,
    as a process that has not caught up) still finds the account, and the same file imported
    twice is recorded once."""
    platform = make_platform(f"sqlite:///{tmp_path / 'vigie.sqlite'}")
    try:
        ctx = platform.ctx
        stale = Projections()  # knows nothing of the log
        wanted = dict(
            centre_id=CENTRE,
            email="twice@example.org",
            surname="Deux",
            first_name="Fois",
            certification_code="ENI-ACCESS",
        )
        first = enrolment.enrol_candidate(ctx, platform.projections, **wanted)  # type: ignore[arg-type]
        platform.settle()
        again = enrolment.enrol_candidate(ctx, stale, re_enrol=True, **wanted)  # type: ignore[arg-type]
        assert again.candidate_id == first.candidate_id
        assert stale.find_by_email("twice@example.org") is None  # it really lagged
        registered = [
            r
            for r in ctx.store.read(0, ctx.store.head())
            if isinstance(r.event, Candidate.CandidateRegistered)
        ]
        assert len(registered) == 1
    finally:
        platform.close()


def test_the_listener_gives_up_vouching_while_its_connection_is_down(postgres_url: str) -> None:
    import psycopg

    from adapters.bootstrap import Settings, bootstrap
    from adapters.log_listener import PostgresLogHead

    listening = bootstrap(
        Settings(database_url=postgres_url, media_root=None, launcher="memory"), listen=True
    )
    try:
        assert heard(listening, 0)
        head = listening.projections.head
        assert isinstance(head, PostgresLogHead) and head.backend_pid is not None
        base = postgres_url.split("?", maxsplit=1)[0]
        with psycopg.connect(base, autocommit=True) as admin:  # the connection drops
            admin.execute("SELECT pg_terminate_backend(%s)", (head.backend_pid,))
        # Down (None: catch-ups ask the store), then back within a few seconds.
        deadline = time.monotonic() + 10
        saw_down = False
        while time.monotonic() < deadline:
            saw_down = saw_down or head.known() is None
            if saw_down and head.known() is not None:
                break
            time.sleep(0.02)
        assert saw_down and head.known() is not None
    finally:
        listening.close()


def test_an_operator_rebuilds_the_saved_state_and_reads_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    platform = make_platform(url)
    Journey(platform).enrol()
    head = platform.store.head()
    platform.close()
    assert main(["--database-url", url, "read-models", "status"]) == 0
    assert "none for this code" in capsys.readouterr().out
    assert main(["--database-url", url, "read-models", "rebuild"]) == 0
    assert f"{head:,} events" in capsys.readouterr().out
    assert main(["--database-url", url, "read-models", "status"]) == 0
    assert f"position {head:,}" in capsys.readouterr().out


def test_an_erasure_destroys_the_key_of_every_state_saved_before_it(tmp_path: Path) -> None:
    """The saved states hold e-mails and names once opened: they are sealed with a key per
    generation (erasures applied), and the worker pass after an erasure saves a new
    generation and destroys the old key, so a copy of the old state (a dead row, a free page,
    a backup) no longer opens."""
    from adapters.read_model_store import (
        MemoryReadModelStore,
        SealedReadModelStore,
        SealedStateUnreadable,
        SqliteReadModelStore,
        generation_owner,
    )

    database = tmp_path / "vigie.sqlite"
    platform = make_platform(f"sqlite:///{database}")
    try:
        journey = Journey(platform, email="forget.me@example.org")
        journey.enrol()
        keeper = platform.keeper
        assert keeper is not None and keeper.save()
        copy = SqliteReadModelStore(database).load(NAME, keeper.code)  # a backup, say
        assert copy is not None and b"forget.me" not in copy.state  # sealed at rest
        assert journey.candidate_id is not None
        erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            journey.candidate_id,
            reason="t",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        platform.settle()  # the worker pass saves at once after an erasure
        assert keeper.saved_erasures == 1
        assert platform.keys.erased(generation_owner(0))
        backup = MemoryReadModelStore()
        backup.save(copy)
        with pytest.raises(SealedStateUnreadable):
            SealedReadModelStore(backup, platform.keys).load(NAME, keeper.code)
    finally:
        platform.close()
    again = make_platform(f"sqlite:///{database}")
    try:
        assert again.started is not None and again.started.loaded_position > 0
        assert again.projections.find_by_email("forget.me@example.org") is None
    finally:
        again.close()


class HeardNothingSince:
    """A LogHead whose announcements stopped arriving at `position` (a slow listener)."""

    def __init__(self, position: int) -> None:
        self.position = position

    def known(self) -> int | None:
        return self.position

    def close(self) -> None:
        pass


def test_a_page_after_a_command_reads_at_least_what_the_command_wrote_in_another_process(
    tmp_path: Path,
) -> None:
    """The cookie of the command's answer (read_your_writes) names the position written; the
    next page, served by a process that did not hear of it yet, still reads that far."""
    from litestar import Litestar, get, post
    from litestar.testing import TestClient

    from app.read_models import SEEN
    from ui.web.read_your_writes import COOKIE, read_your_writes

    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    writer, reader = make_platform(url), make_platform(url)
    try:
        reader.projections.head = HeardNothingSince(reader.store.head())

        @post("/enrol", sync_to_thread=True)
        def enrol() -> str:
            Journey(writer, email="seen@example.org").enrol()
            return "ok"

        @get("/found", sync_to_thread=True)
        def found() -> str:
            reader.projections.catch_up(reader.store)
            return str(reader.projections.find_by_email("seen@example.org") is not None)

        with TestClient(
            Litestar([enrol], middleware=[read_your_writes(writer, secure=False)])
        ) as a:
            answer = a.post("/enrol")
            assert int(answer.cookies[COOKIE]) == writer.store.last_saved > 0
        pages = Litestar([found], middleware=[read_your_writes(reader, secure=False)])
        with TestClient(pages) as b:
            assert b.get("/found").text == "False"  # no cookie: the slow listener's head
            b.cookies.set(COOKIE, answer.cookies[COOKIE])
            assert b.get("/found").text == "True"
        assert SEEN.get() == 0  # the request's value does not leak
    finally:
        writer.close()
        reader.close()
