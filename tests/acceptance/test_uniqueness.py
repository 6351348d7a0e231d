"""Issue 12, item 6: uniqueness in the store, not in a read model. One account per e-mail
(candidates and staff), one enrolment per centre, candidate and certification unless the
centre re-enrols, a CSV import recorded once: checked on PostgreSQL with writers that really
run at the same time (one platform each, as `vigie serve --workers N` has), and as a property
over every interleaving of the writers' read and save steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import AggregateEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.persistence.store import EventsourcingStore
from app.catalogue import Catalogue, default_catalogue
from app.claiming import Unit
from app.ports.event_store import ConcurrencyConflict, EventStore
from app.privacy import erase_candidate
from app.use_cases import accounts, enrolment
from domain.candidate import Candidate
from domain.claims import Claim, ClaimKind, Handover, email_claim_id
from domain.enrollment import Enrollment
from domain.imports import CsvImport, lines_digest
from domain.rules import CURRENT_RULES
from domain.staff import Role, StaffMember
from ui.journey import PARIS

EMAIL = "Ines.Lemaire@Example.org"
CENTRE = UUID("00000000-0000-4000-8000-00000000c0de")
WRITERS = 6
START = datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)


def two_certifications() -> Catalogue:
    """The shipped Access certification, and an Excel one like it."""
    access = default_catalogue().get("ENI-ACCESS")
    return Catalogue(access, replace(access, code="ENI-EXCEL", title="Excel"))


def platform_on(database_url: str, clock: ManualClock | None = None) -> Platform:
    return bootstrap(
        Settings(
            database_url=database_url, media_root=None, launcher="memory", secret_key="u" * 32
        ),
        clock=clock or ManualClock(START),
        catalogue=two_certifications(),
    )


@pytest.fixture
def platforms(postgres_url: str) -> Iterator[list[Platform]]:
    """Several platforms on one PostgreSQL schema: writers that share nothing but the store."""
    opened = [platform_on(postgres_url) for _ in range(WRITERS)]
    yield opened
    for platform in opened:
        platform.close()


def events_of(store: EventStore, kind: type[AggregateEvent]) -> list[AggregateEvent]:
    found: list[AggregateEvent] = []
    position = 0
    while page := store.read(position, 1000):
        found += [r.event for r in page if isinstance(r.event, kind)]
        position = page[-1].position
    return found


def enrol(platform: Platform, email: str = EMAIL, **options: Any) -> enrolment.Enrolled:
    values: dict[str, Any] = {
        "centre_id": CENTRE,
        "email": email,
        "surname": "Lemaire",
        "first_name": "Inès",
        "certification_code": "ENI-ACCESS",
    }
    values.update(options)
    return enrolment.enrol_candidate(platform.ctx, platform.projections, **values)


def at_once(platforms: list[Platform], work: Callable[[Platform], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(platforms)) as pool:
        return list(pool.map(work, platforms))


def test_the_same_new_address_enrolled_by_six_writers_at_once_makes_one_account(
    platforms: list[Platform],
) -> None:
    results = at_once(platforms, enrol)
    store = platforms[0].ctx.store
    assert len(events_of(store, Candidate.CandidateRegistered)) == 1
    assert len(events_of(store, Enrollment.Enrolled)) == 1
    assert len({r.candidate_id for r in results}) == 1
    assert len({r.enrollment_id for r in results}) == 1
    assert sorted(r.already_enrolled for r in results) == [False] + [True] * (WRITERS - 1)


def test_one_address_enrolled_for_two_certifications_at_once_is_one_account_with_two_enrolments(
    platforms: list[Platform],
) -> None:
    codes = ["ENI-ACCESS", "ENI-EXCEL"]
    results = at_once(
        platforms, lambda p: enrol(p, certification_code=codes[platforms.index(p) % 2])
    )
    store = platforms[0].ctx.store
    assert len(events_of(store, Candidate.CandidateRegistered)) == 1
    assert len({r.candidate_id for r in results}) == 1
    assert len(events_of(store, Enrollment.Enrolled)) == 2


def test_a_staff_address_registered_by_six_writers_at_once_makes_one_staff_account(
    platforms: list[Platform],
) -> None:
    ids = at_once(
        platforms,
        lambda p: accounts.register_staff(
            p.ctx, email="Eve@Example.org", name="Eve", role=Role.EXAMINER, password="p4ss-eve"
        ),
    )
    assert len(set(ids)) == 1
    assert len(events_of(platforms[0].ctx.store, StaffMember.StaffRegistered)) == 1


def test_an_erased_person_can_be_enrolled_again_and_the_address_then_has_one_account(
    platforms: list[Platform],
) -> None:
    """Issue 8 and 12: erasure frees the address; the claim passes to the new account (the
    erased one keeps its history, under its id), and concurrent re-enrolments make one."""
    first = enrol(platforms[0])
    platform = platforms[0]
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        first.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    again = at_once(platforms, enrol)
    newcomers = {r.candidate_id for r in again}
    assert len(newcomers) == 1 and first.candidate_id not in newcomers
    store = platform.ctx.store
    claim = store.get(email_claim_id(ClaimKind.CANDIDATE_EMAIL, EMAIL), Claim)
    assert (claim.holder_id, claim.generation) == (newcomers.pop(), 2)
    handed = events_of(store, Claim.HandedOver)
    assert [e.handover for e in handed if isinstance(e, Claim.HandedOver)] == [
        Handover.HOLDER_ERASED
    ]
    assert len(events_of(store, Candidate.CandidateRegistered)) == 2


def test_an_expired_enrolment_is_followed_by_a_new_one_and_a_live_one_only_on_request(
    postgres_url: str,
) -> None:
    """R1: after the 90 days a new enrolment is made; before, only an explicit re-enrolment."""
    clock = ManualClock(START)
    platform = platform_on(postgres_url, clock)
    try:
        first = enrol(platform)
        assert enrol(platform).already_enrolled
        explicit = enrol(platform, re_enrol=True)
        assert explicit.re_enrolled and explicit.enrollment_id != first.enrollment_id
        clock.advance(days=CURRENT_RULES.enrollment_days + 1)
        later = enrol(platform)
        assert later.re_enrolled and later.candidate_id == first.candidate_id
        assert later.candidate_id == first.candidate_id
        assert len(events_of(platform.ctx.store, Enrollment.Enrolled)) == 3
    finally:
        platform.close()


def csv_lines(count: int) -> list[enrolment.Enrolment]:
    return [
        enrolment.Enrolment(f"c{n}@example.org", f"Nom{n}", f"Prénom{n}", "ENI-ACCESS")
        for n in range(count)
    ]


def test_the_same_csv_imported_by_two_writers_at_once_enrols_everyone_once(
    platforms: list[Platform],
) -> None:
    lines = csv_lines(40)
    digest = lines_digest([(w.email, w.surname) for w in lines])
    outcomes = at_once(
        platforms[:2],
        lambda p: enrolment.import_enrolments(
            p.ctx,
            p.projections,
            centre_id=CENTRE,
            imported_by=uuid4(),
            digest=digest,
            lines=lines,
        ),
    )
    assert sorted(o.already_imported for o in outcomes) == [False, True]
    store = platforms[0].ctx.store
    assert len(events_of(store, CsvImport.CsvImported)) == 1
    assert len(events_of(store, Candidate.CandidateRegistered)) == 40
    assert len(events_of(store, Enrollment.Enrolled)) == 40


# --- the property: every interleaving of the writers' steps ----------------------------------


@dataclass
class Writer:
    """One enrolment of the address, alone or as a line of a CSV file (two lines: the address
    and a colleague), split into the two steps another writer can come between: decide (read
    the claims, make the aggregates) and save."""

    certification_code: str
    by_file: bool
    unit: Unit | None = None
    candidate_id: UUID | None = None
    done: bool = False

    def step(self, platform: Platform) -> None:
        if self.done:
            return
        if self.unit is None:
            self.unit = Unit(platform.ctx.store)
            self.candidate_id = self._decide(platform, self.unit)
            return
        try:
            self.unit.save()
        except ConcurrencyConflict:  # another writer saved first: decide again
            self.unit = None
            return
        self.done = True

    def _decide(self, platform: Platform, unit: Unit) -> UUID | None:
        ctx, at = platform.ctx, platform.ctx.now()
        mine = enrolment.Enrolment(EMAIL, "Lemaire", "Inès", self.certification_code)
        if not self.by_file:
            return enrolment.enrol_in(
                unit, ctx, platform.projections, mine, CENTRE, CURRENT_RULES, at
            ).candidate_id
        lines = [mine, enrolment.Enrolment("colleague@example.org", "Roy", "Léa", "ENI-ACCESS")]
        file = enrolment.FileOfEnrolments(
            CENTRE, CENTRE, lines_digest([(w.email, w.certification_code) for w in lines]), lines
        )
        outcome = enrolment.import_in(unit, ctx, platform.projections, file, CURRENT_RULES, at)
        return outcome.lines[0].candidate_id if outcome.lines else None


@settings(max_examples=60, deadline=None)
@given(
    writers=st.lists(
        st.tuples(st.sampled_from(["ENI-ACCESS", "ENI-EXCEL"]), st.booleans()),
        min_size=2,
        max_size=5,
    ),
    schedule=st.lists(st.integers(0, 4), max_size=30),
)
def test_any_interleaving_of_enrolments_of_one_address_yields_one_account(
    writers: list[tuple[str, bool]], schedule: list[int]
) -> None:
    """Issue 12: single enrolments and CSV imports of the same address, their reads and
    saves interleaved in any order: one account, one enrolment per certification, one
    import per distinct file."""
    platform = platform_on("memory:")
    try:
        running = [Writer(code, by_file) for code, by_file in writers]
        for index in schedule:
            running[index % len(running)].step(platform)
        while not all(w.done for w in running):  # then each runs to its end, in turn
            for writer in running:
                writer.step(platform)
        store = platform.ctx.store
        registered = events_of(store, Candidate.CandidateRegistered)
        colleague = any(by_file for _, by_file in writers)
        assert len(registered) == 1 + colleague
        assert len({w.candidate_id for w in running if w.candidate_id}) == 1
        enrolled = [
            e for e in events_of(store, Enrollment.Enrolled) if isinstance(e, Enrollment.Enrolled)
        ]
        by_code = Counter(e.certification_code for e in enrolled)
        expected = Counter({code: 1 for code, _ in writers})
        assert by_code == expected + Counter({"ENI-ACCESS": 1} if colleague else {})
        files = {code for code, by_file in writers if by_file}
        assert len(events_of(store, CsvImport.CsvImported)) == len(files)
    finally:
        platform.close()


def test_many_claims_are_read_at_once_with_absent_ids_and_other_kinds_left_out(
    store: EventsourcingStore,
) -> None:
    """The CSV import reads every line's claim in one query (`get_many`), on every store."""
    first, second, absent = (
        email_claim_id(ClaimKind.CANDIDATE_EMAIL, f"{n}@example.org") for n in "abc"
    )
    held = Claim.stake(claim_id=first, kind=ClaimKind.CANDIDATE_EMAIL, holder_id=uuid4(), at=START)
    moved = Claim.stake(
        claim_id=second, kind=ClaimKind.CANDIDATE_EMAIL, holder_id=uuid4(), at=START
    )
    moved.hand_over(holder_id=uuid4(), handover=Handover.HOLDER_ERASED, at=START)
    staff = StaffMember.register(
        staff_id=uuid4(), email="s@example.org", name="S", role=Role.CENTRE, at=START
    )
    store.save(held, moved, staff)
    found = store.get_many([first, second, absent, staff.id], Claim)
    assert set(found) == {first, second}
    assert (found[second].holder_id, found[second].generation) == (moved.holder_id, 2)
    assert found[first].holder_id == held.holder_id


def test_a_person_logs_in_through_the_claim_even_where_the_read_models_lag_and_not_once_erased(
    platforms: list[Platform],
) -> None:
    """Accounts are found by their address's claim in the store: a second process whose read
    models have not caught up finds them; an erased person is nobody."""
    first, other = platforms[0], platforms[1]
    enrolled = enrol(first)
    accounts.register_staff(
        first.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="p4ss-eve"
    )
    assert other.projections.find_by_email(EMAIL) is None  # never caught up
    assert enrolment.find_candidate(other.ctx, other.projections, EMAIL) == enrolled.candidate_id
    eve = accounts.authenticate_staff(other.ctx, {}, email="EVE@example.org ", password="p4ss-eve")
    assert eve is not None and eve.name == "Eve"
    erase_candidate(
        first.ctx,
        first.keys,
        first.projections,
        enrolled.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert enrolment.find_candidate(other.ctx, other.projections, EMAIL) is None
