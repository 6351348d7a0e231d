"""Every event of every aggregate, and every aggregate's snapshot, survives the msgspec codec
with its values and their types: an id comes back a UUID, a rule set a RuleSet, a Paris time
the same instant on the same local day.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import msgspec
import pytest
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import TopicError, get_topic
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import domain
from adapters.persistence.msgspec_mapper import MsgspecMapper, MsgspecTranscoder
from adapters.persistence.store import _decoded_at_once
from domain.candidate import PortalProfile
from domain.evidence import Evidence, EvidenceKind, FlagKind, MediaSpan
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import CitedReason, Review
from domain.rules import RULES_2025_03, RuleSet
from domain.scoring import Results
from domain.verdict import Recommendation

AssertSame = Callable[..., None]

MAPPER = MsgspecMapper(transcoder=MsgspecTranscoder())
PARIS = ZoneInfo("Europe/Paris")

CODEC = settings(max_examples=20, deadline=None)


# --- discovery: every aggregate of the domain, every event nested in it ------------------------


def _domain_aggregates() -> list[type[Aggregate]]:
    found: set[type[Aggregate]] = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Aggregate)
                and value.__module__ == module.__name__
            ):
                found.add(value)
    return sorted(found, key=lambda cls: cls.__qualname__)


def _nested_events(aggregate: type[Aggregate]) -> list[type[AggregateEvent]]:
    return [
        value
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, AggregateEvent)
    ]


def _all_subclasses(cls: type[Any]) -> set[type[Any]]:
    subclasses = set(cls.__subclasses__())
    for subclass in list(subclasses):
        subclasses |= _all_subclasses(subclass)
    return subclasses


AGGREGATES = _domain_aggregates()
EVENT_CASES = [
    (aggregate, event) for aggregate in AGGREGATES for event in _nested_events(aggregate)
]


def test_discovery_finds_every_aggregate_and_every_event_class_of_the_domain() -> None:
    assert {cls.__name__ for cls in AGGREGATES} >= {
        "Candidate",
        "Enrollment",
        "ExamAttempt",
        "ProctoredSession",
        "Review",
    }
    for aggregate in AGGREGATES:
        own = [
            e for e in _nested_events(aggregate) if e not in (aggregate.Event, aggregate.Created)
        ]
        assert own, f"{aggregate.__name__} has no event of its own"

    # Cross-check from the other side: no domain event lives outside an aggregate's body.
    # By name: eventsourcing rebuilds each nested class, leaving intermediate copies behind
    # (and get_topic() would register those copies in its cache, so it is not used here).
    def name(cls: type[Any]) -> str:
        return f"{cls.__module__}:{cls.__qualname__}"

    domain_events = {
        name(cls) for cls in _all_subclasses(AggregateEvent) if cls.__module__.startswith("domain.")
    }
    assert domain_events == {name(event) for _, event in EVENT_CASES}


# --- strategies ---------------------------------------------------------------------------------

# Zones with whole-minute offsets since 1980, among them odd ones (-03:30, +05:45, +12:45).
_ZONES = st.sampled_from(
    [
        PARIS,
        ZoneInfo("America/St_Johns"),
        ZoneInfo("Asia/Kathmandu"),
        ZoneInfo("Pacific/Chatham"),
        ZoneInfo("America/Los_Angeles"),
        UTC,
    ]
) | st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))

AWARE_DATETIMES = st.datetimes(
    min_value=datetime(1980, 1, 1), max_value=datetime(2100, 12, 31), timezones=_ZONES
)
TEXT = st.text(max_size=12)
FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SPANS = st.tuples(st.floats(0, 1e7, allow_nan=False), st.floats(0, 1e7, allow_nan=False)).map(
    lambda bounds: MediaSpan(*sorted(bounds))
)


def _dataclass_strategy(cls: type[Any], **overrides: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """Every field drawn from its annotation (defaults too), unless overridden."""
    hints = typing.get_type_hints(cls)
    fields = {
        field.name: overrides[field.name]
        if field.name in overrides
        else _strategy_for(hints[field.name])
        for field in dataclasses.fields(cls)
        if field.init
    }
    return st.builds(cls, **fields)


def _evidence() -> SearchStrategy[Evidence]:
    evidence_ids = st.builds(
        lambda stream, version: f"{stream}/{version}", st.uuids(), st.integers(1)
    )
    # Evidence kinds are the event class names, as an enum (issue 12): stored text decodes.
    return _dataclass_strategy(Evidence, id=evidence_ids, kind=st.sampled_from(EvidenceKind))


# Values the domain nests in events, written by hand where the domain gives them meaning.
_VALUES: dict[Any, Callable[[], SearchStrategy[Any]]] = {
    UUID: st.uuids,
    datetime: lambda: AWARE_DATETIMES,
    date: st.dates,
    str: lambda: TEXT,
    int: st.integers,
    float: lambda: FINITE_FLOATS,
    bool: st.booleans,
    MediaSpan: lambda: SPANS,
    RuleSet: lambda: (
        st.just(RULES_2025_03)
        | _dataclass_strategy(
            RuleSet, office_weekdays=st.lists(st.integers(0, 6), unique=True).map(tuple)
        )
    ),
    Evidence: _evidence,
    Recommendation: lambda: _dataclass_strategy(Recommendation),
    Results: lambda: _dataclass_strategy(Results, score=st.integers(0), max_score=st.integers(0)),
    PortalProfile: lambda: _dataclass_strategy(
        PortalProfile, civility=st.sampled_from(["Madame", "Monsieur", "Mx"])
    ),
    CitedReason: lambda: _dataclass_strategy(CitedReason),
}


@cache
def _strategy_for(hint: Any) -> SearchStrategy[Any]:
    if hint in _VALUES:
        return _VALUES[hint]()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy_for(arg) for arg in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(_strategy_for(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*(_strategy_for(arg) for arg in args))
    if origin is dict:
        return st.dictionaries(_strategy_for(args[0]), _strategy_for(args[1]), max_size=3)
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_strategy(hint)
    raise TypeError(f"no strategy for {hint!r}: add one to _VALUES")


def _event_strategy(
    aggregate: type[Aggregate],
    event_class: type[AggregateEvent],
    originator_id: SearchStrategy[UUID] | None = None,
    originator_version: SearchStrategy[int] | None = None,
) -> SearchStrategy[AggregateEvent]:
    fixed = {
        "originator_id": st.uuids() if originator_id is None else originator_id,
        "originator_version": (
            st.integers(1, 2**31 - 1) if originator_version is None else originator_version
        ),
        "originator_topic": st.just(get_topic(aggregate)),
    }
    return _dataclass_strategy(event_class, **fixed)


def test_every_discovered_event_class_has_a_strategy() -> None:
    assert EVENT_CASES
    for aggregate, event_class in EVENT_CASES:
        _event_strategy(aggregate, event_class).validate()


# --- events -------------------------------------------------------------------------------------


def _case_id(case: tuple[type[Aggregate], type[AggregateEvent]]) -> str:
    return case[1].__qualname__


@pytest.mark.parametrize("case", EVENT_CASES, ids=[_case_id(c) for c in EVENT_CASES])
@CODEC
@given(data=st.data())
def test_every_event_decodes_equal_to_itself_with_the_same_field_types(
    case: tuple[type[Aggregate], type[AggregateEvent]],
    data: st.DataObject,
    assert_same_value: AssertSame,
) -> None:
    aggregate, event_class = case
    event = data.draw(_event_strategy(aggregate, event_class), label="event")

    stored = MAPPER.to_stored_event(event)
    if data.draw(st.booleans(), label="id as text"):
        # SQLite hands the originator id back as text.
        stored = dataclasses.replace(stored, originator_id=str(stored.originator_id))
    decoded = MAPPER.to_domain_event(stored)

    assert stored.topic == get_topic(event_class)
    assert type(decoded) is event_class
    assert_same_value(decoded, event, event_class.__qualname__)


# The event types a replay's page decodes in one step (the rest go the general way).
ONE_STEP_CASES = [c for c in EVENT_CASES if MAPPER.one_step(get_topic(c[1])) is not None]


def test_most_event_types_decode_in_one_step_into_a_typed_dict() -> None:
    steps = [MAPPER.one_step(get_topic(event)) for _, event in ONE_STEP_CASES]
    assert sum(not step.mirrored for step in steps if step) > len(steps) // 2


@pytest.mark.parametrize("case", ONE_STEP_CASES, ids=[_case_id(c) for c in ONE_STEP_CASES])
@CODEC
@given(data=st.data())
def test_a_replay_s_page_decodes_each_event_as_the_mapper_does(
    case: tuple[type[Aggregate], type[AggregateEvent]],
    data: st.DataObject,
    assert_same_value: AssertSame,
) -> None:
    """A replay decodes a page's rows in one step (store._decoded_at_once): each type into
    a typed dict, or into its mirror if a field has a default (MsgspecMapper.one_step).
    Either way, the same event with the same field types as the mapper's own decoding."""
    aggregate, event_class = case
    event = data.draw(_event_strategy(aggregate, event_class), label="event")
    stored = MAPPER.to_stored_event(event)
    step = MAPPER.one_step(stored.topic)
    assert step is not None
    (recorded,) = _decoded_at_once(
        [7], [stored.originator_id], [stored.originator_version], [step], [stored.state]
    )
    assert recorded.position == 7 and type(recorded.event) is event_class
    assert_same_value(recorded.event, MAPPER.to_domain_event(stored), event_class.__qualname__)


@CODEC
@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(PARIS)
    )
)
def test_a_paris_time_keeps_its_instant_and_its_local_date(moment: datetime) -> None:
    # R16 (same day) reads the local date: an offset lost on the way would move midnight.
    event = ExamAttempt.ExamBegun(
        originator_id=uuid4(), originator_version=5, timestamp=moment, ends_at=moment
    )

    decoded = MAPPER.to_domain_event(MAPPER.to_stored_event(event))

    assert isinstance(decoded, ExamAttempt.ExamBegun)
    for value in (decoded.timestamp, decoded.ends_at):
        assert value.astimezone(UTC) == moment.astimezone(UTC)
        assert value.utcoffset() == moment.utcoffset()
        assert value.date() == moment.date()
        assert value.time() == moment.time()


def _refused_or_round_trips(event: AggregateEvent, assert_same_value: AssertSame) -> None:
    """A value the codec cannot keep must stop the save, never be stored changed or unreadable."""
    try:
        stored = MAPPER.to_stored_event(event)
    except (ValueError, TypeError, OverflowError, msgspec.MsgspecError):
        return
    assert_same_value(MAPPER.to_domain_event(stored), event)


def _flag(span: MediaSpan, confidence: float = 0.5) -> ProctoredSession.FlagRaised:
    return ProctoredSession.FlagRaised(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=datetime(2025, 3, 3, 10, tzinfo=PARIS),
        flag_id="f",
        kind=FlagKind.PHONE,
        span=span,
        confidence=confidence,
    )


def _connection_test(round_trip_ms: float) -> ProctoredSession.ConnectionTested:
    return ProctoredSession.ConnectionTested(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=datetime(2025, 3, 3, 10, tzinfo=PARIS),
        round_trip_ms=round_trip_ms,
        upload_kbps=100.0,
        passed=True,
    )


def _begun_at(moment: datetime) -> ExamAttempt.ExamBegun:
    return ExamAttempt.ExamBegun(
        originator_id=uuid4(), originator_version=5, timestamp=moment, ends_at=moment
    )


def _unchecked_span(start_s: float, end_s: float) -> MediaSpan:
    """A span the domain would refuse, as a corrupted caller could still hand it over."""
    span = object.__new__(MediaSpan)
    object.__setattr__(span, "start_s", start_s)
    object.__setattr__(span, "end_s", end_s)
    return span


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(_connection_test(float("inf")), id="infinite-round-trip"),
        pytest.param(_flag(_unchecked_span(0.0, float("inf"))), id="infinite-span"),
        pytest.param(_connection_test(float("nan")), id="nan-round-trip"),
        pytest.param(_begun_at(datetime(1900, 1, 1, 12, tzinfo=PARIS)), id="paris-1900"),
        pytest.param(
            _begun_at(datetime(2025, 3, 3, 10, tzinfo=timezone(timedelta(hours=1, seconds=30)))),
            id="offset-with-seconds",
        ),
        pytest.param(_begun_at(datetime(2025, 3, 3, 10, tzinfo=PARIS)), id="paris-2025"),
    ],
)
def test_a_value_the_codec_cannot_keep_is_refused_rather_than_stored_changed(
    event: AggregateEvent, assert_same_value: AssertSame
) -> None:
    _refused_or_round_trips(event, assert_same_value)


# --- snapshots ----------------------------------------------------------------------------------


def _created_event(aggregate: type[Aggregate]) -> type[AggregateEvent]:
    created = [
        event
        for event in _nested_events(aggregate)
        if issubclass(event, AggregateCreated) and event is not aggregate.Created
    ]
    assert len(created) == 1, f"{aggregate.__name__}: which event creates it? {created}"
    return created[0]


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=[a.__name__ for a in AGGREGATES])
@CODEC
@given(data=st.data())
def test_a_snapshot_of_any_history_rebuilds_the_same_aggregate(
    aggregate: type[Aggregate], data: st.DataObject, assert_same_value: AssertSame
) -> None:
    # Appliers do not re-check rules, so any sequence of well-typed events folds: that
    # reaches states (every optional attribute set) that commands would take long to reach.
    aggregate_id = uuid4()
    created = _created_event(aggregate)
    later = [e for e in _nested_events(aggregate) if not issubclass(e, AggregateCreated)]
    kinds = data.draw(st.lists(st.sampled_from(later), max_size=12), label="events")
    state: Any = None
    for version, event_class in enumerate([created, *kinds], start=1):
        event = data.draw(
            _event_strategy(aggregate, event_class, st.just(aggregate_id), st.just(version))
        )
        state = event.mutate(state)
    assert isinstance(state, aggregate)

    snapshot = aggregate.Snapshot.take(state)
    decoded = MAPPER.to_domain_event(MAPPER.to_stored_event(snapshot))

    assert type(decoded) is type(snapshot)
    assert_same_value(decoded.state, snapshot.state, "snapshot.state")
    rebuilt = decoded.mutate(None)
    assert type(rebuilt) is aggregate
    assert_same_value(_state(rebuilt), _state(state), aggregate.__name__)


# --- corruption ---------------------------------------------------------------------------------


def _valid_state() -> dict[str, Any]:
    stored = MAPPER.to_stored_event(_flag(MediaSpan(1.0, 2.0)))
    state: dict[str, Any] = msgspec.json.decode(stored.state)
    return state


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(b'{"flag_id": "f", "kind": "pho', id="truncated"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(msgspec.json.encode({**_valid_state(), "kind": "laser"}), id="unknown-enum"),
        pytest.param(msgspec.json.encode({**_valid_state(), "flag_id": 7}), id="wrong-type"),
        pytest.param(
            msgspec.json.encode({**_valid_state(), "span": {"start_s": 1.0}}), id="nested-missing"
        ),
        pytest.param(
            msgspec.json.encode({k: v for k, v in _valid_state().items() if k != "confidence"}),
            id="missing-field",
        ),
        pytest.param(
            msgspec.json.encode({**_valid_state(), "timestamp": "yesterday"}), id="bad-datetime"
        ),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"flag"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(
            msgspec.json.encode({**_valid_state(), "span": {"start_s": 5.0, "end_s": 1.0}}),
            id="span-inverted",
        ),
    ],
)
def test_a_corrupted_stored_event_raises_a_deserialisation_error_naming_its_topic(
    state: bytes,
) -> None:
    topic = get_topic(ProctoredSession.FlagRaised)
    originator_id = uuid4()

    with pytest.raises(MapperDeserialisationError) as error:
        MAPPER.to_domain_event(StoredEvent(originator_id, 3, topic, state))

    assert topic in str(error.value)
    assert f"{originator_id}/3" in str(error.value)


def test_an_unknown_topic_raises_an_error_naming_it() -> None:
    # A renamed event class without its old topic registered: TopicError, as in eventsourcing.
    with pytest.raises((MapperDeserialisationError, TopicError)) as error:
        MAPPER.to_domain_event(StoredEvent(uuid4(), 1, "domain.gone:Gone.Happened", b"{}"))

    assert "domain.gone:Gone.Happened" in str(error.value)


def test_the_uncorrupted_state_used_above_decodes() -> None:
    topic = get_topic(ProctoredSession.FlagRaised)
    state = msgspec.json.encode(_valid_state())

    assert isinstance(
        MAPPER.to_domain_event(StoredEvent(uuid4(), 3, topic, state)), ProctoredSession.FlagRaised
    )


def test_a_strategy_exists_for_each_kind_of_value_an_aggregate_keeps() -> None:
    # Snapshots carry aggregate attributes, not only event fields: cover their hints too.
    for aggregate in AGGREGATES:
        for name, hint in typing.get_type_hints(aggregate).items():
            if typing.get_origin(hint) is typing.ClassVar or name.startswith("_"):
                continue
            _strategy_for(hint).validate()


def test_review_events_stored_before_issue_12_still_decode_with_the_new_defaults() -> None:
    """A recommendation without interruptions, evidence without a waived step and a decision
    without overrides, as stored before verdict-2026-12, decode with the fields' defaults."""
    evidence = {
        "id": f"{uuid4()}/7",
        "kind": "PhotoWaived",
        "at": "2025-03-12T14:00:00+01:00",
        "span": None,
        "flag": None,
        "confidence": None,
        "during_exam": False,
        "note": "id_photo: webcam HS",
    }
    gathered = MAPPER.to_domain_event(
        StoredEvent(
            uuid4(),
            2,
            get_topic(Review.EvidenceGathered),
            msgspec.json.encode({"timestamp": "2025-03-12T14:00:00+01:00", "items": [evidence]}),
        )
    )
    assert isinstance(gathered, Review.EvidenceGathered)
    (item,) = gathered.items
    assert item.kind is EvidenceKind.PHOTO_WAIVED and item.waived_step is None
    recommendation = {
        "version": "verdict-2025-03",
        "verdict": "invalidated",
        "grounds": [],
        "hints": [],
    }
    recommended = MAPPER.to_domain_event(
        StoredEvent(
            uuid4(),
            3,
            get_topic(Review.VerdictRecommended),
            msgspec.json.encode(
                {"timestamp": "2025-03-12T14:00:00+01:00", "recommendation": recommendation}
            ),
        )
    )
    assert isinstance(recommended, Review.VerdictRecommended)
    assert recommended.recommendation.interruptions == ()
    decided = MAPPER.to_domain_event(
        StoredEvent(
            uuid4(),
            5,
            get_topic(Review.ReviewDecided),
            msgspec.json.encode(
                {
                    "timestamp": "2025-03-14T10:00:00+01:00",
                    "examiner_id": str(uuid4()),
                    "verdict": "validated",
                    "reasons": [],
                    "excused": [],
                    "recommendation_version": "verdict-2025-03",
                    "overdue": False,
                }
            ),
        )
    )
    assert isinstance(decided, Review.ReviewDecided)
    assert decided.overrides == ()


def test_an_attempt_opened_before_r4s_budget_was_frozen_into_it_still_decodes() -> None:
    # AttemptOpened gained `budget_ends_at` and `enrollment_id` (R4, R1/R3): a payload stored
    # without them decodes with their defaults, and the attempt it opens has no budget bound.
    opened = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="ENI-ACCESS",
        duration_minutes=90,
        practice_offered=False,
        rules=RULES_2025_03,
        at=datetime(2025, 3, 3, 9, 30, tzinfo=PARIS),
        budget_ends_at=datetime(2025, 3, 3, 12, 20, tzinfo=PARIS),
        enrollment_id=uuid4(),
    ).collect_events()[0]
    stored = MAPPER.to_stored_event(opened)
    payload = msgspec.json.decode(stored.state)
    assert {"budget_ends_at", "enrollment_id"} <= set(payload)
    old = {k: v for k, v in payload.items() if k not in ("budget_ends_at", "enrollment_id")}

    decoded = MAPPER.to_domain_event(dataclasses.replace(stored, state=msgspec.json.encode(old)))
    step = MAPPER.one_step(stored.topic)
    assert step is not None and step.mirrored  # a replay's page fills the defaults in too
    (replayed,) = _decoded_at_once(
        [1], [stored.originator_id], [1], [step], [msgspec.json.encode(old)]
    )
    assert replayed.event == decoded

    assert isinstance(decoded, ExamAttempt.AttemptOpened)
    assert decoded.budget_ends_at is None and decoded.enrollment_id is None
    attempt = decoded.mutate(None)
    assert isinstance(attempt, ExamAttempt)
    assert attempt.budget_ends_at is None and attempt.enrollment_id is None
