"""R2: a session created « avec surveillance en direct » is first entered only around the slot
the hotline booked (a user's tour: nothing stopped a candidate from taking and sending the
whole exam at once, unsupervised). From rules-2026-12-live-slot: from 15 minutes before the
slot to 30 minutes after, both ends included; a refused entry records nothing. Sessions whose
frozen rule set came before it enter as they always did.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from adapters.persistence.msgspec_mapper import MsgspecMapper, MsgspecTranscoder
from domain.errors import RuleBroken
from domain.proctored_session import ProctoredSession
from domain.rules import (
    CURRENT_RULES,
    RULE_SETS,
    RULES_2025_03,
    RULES_2026_12,
    RULES_2026_12_FLAG_HINT,
    RULES_2026_12_LIVE_SLOT,
    LiveEntry,
    RuleSet,
    live_entry_window,
    rule_set,
)
from tests.property.aggregate_checks import expect_refusal, expect_success

# The window, written again here so the model does not borrow it from the code.
BEFORE = timedelta(minutes=15)
AFTER = timedelta(minutes=30)
TEN_WORDS = "suite à plantage, je dois reprendre mon examen en me reconnectant"
TIME_ZONES = ("Europe/Paris", "UTC", "America/Cayenne", "Pacific/Noumea")
OLDER = (RULES_2025_03, RULES_2026_12)


def _session(rules: RuleSet, *, live: bool, at: datetime) -> ProctoredSession:
    session = ProctoredSession.open(
        session_id=uuid4(),
        enrollment_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="ENI-ACCESS",
        exam_duration_minutes=90,
        rules=rules,
        live_supervision=live,
        at=at,
    )
    session.collect_events()
    return session


def expected_refusal(rules: RuleSet, live: bool, slot: datetime | None, at: datetime) -> bool:
    """The model: only a live session under the new rule set waits, for a slot, then for
    its window (compared as instants, whatever the zones)."""
    if not live or rules.live_entry_minutes_before is None:
        return False
    if slot is None:
        return True
    return not (slot - BEFORE <= at <= slot + AFTER)


def test_sessions_created_from_now_on_get_the_live_slot_rule_set() -> None:
    assert CURRENT_RULES is RULES_2026_12_FLAG_HINT  # the window, and FLAG-HINT besides
    assert CURRENT_RULES.live_entry_minutes_before == 15
    assert CURRENT_RULES.live_entry_minutes_after == 30
    # Every older set is kept as it was frozen: no window, readable by its version.
    for older in OLDER:
        assert older.live_entry_minutes_before is older.live_entry_minutes_after is None
        assert rule_set(older.version) is older
    assert rule_set("rules-2026-12-live-slot") is RULES_2026_12_LIVE_SLOT
    assert RULE_SETS[RULES_2026_12_FLAG_HINT.version] is CURRENT_RULES


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(TIME_ZONES),
    rules=st.sampled_from([RULES_2026_12_FLAG_HINT, RULES_2026_12_LIVE_SLOT, *OLDER]),
    live=st.sampled_from([True, True, True, False]),
    slot_minute=st.none() | st.integers(9 * 60, 18 * 60 - 1),
    offset=st.one_of(
        st.integers(-10_000, 10_000),  # seconds from the slot, around both edges
        st.sampled_from([-15 * 60 - 1, -15 * 60, 0, 30 * 60, 30 * 60 + 1]),
        st.integers(-3 * 86_400, 3 * 86_400),
    ),
)
def test_the_first_entry_of_a_live_session_opens_only_around_its_booked_slot_r2(
    zone: str, rules: RuleSet, live: bool, slot_minute: int | None, offset: int
) -> None:
    tz = ZoneInfo(zone)
    day = datetime(2027, 1, 12, tzinfo=tz)
    slot = None if slot_minute is None else day + timedelta(minutes=slot_minute)
    at = ((slot or day + timedelta(hours=10)) + timedelta(seconds=offset)).astimezone(tz)
    session = _session(rules, live=live, at=day - timedelta(days=2))

    def enter() -> str:
        return session.enter(at=at, terms_accepted=True, supervision_slot=slot)

    refused = expected_refusal(rules, live, slot, at)
    event("refused" if refused else "entered")
    if refused:
        expect_refusal(session, enter, "R2")  # nothing recorded, nothing changed
        assert session.entries == 0 and session.started_at is None
    else:
        log: list[object] = []
        assert expect_success(session, enter, log) == "Examen"
        assert session.entries == 1 and session.started_at == at


@settings(max_examples=100, deadline=None)
@given(
    minutes_before_slot=st.integers(0, 15),
    resumed_after=st.integers(31, 150),
)
def test_a_resumption_is_bounded_by_the_3_hours_not_by_the_slot_r2_r4(
    minutes_before_slot: int, resumed_after: int
) -> None:
    """A blocked screen at 10:40 after an entry at her 10:00 slot: « Reprendre l'examen »
    works after the window closed (R23 then R6), within the 3-hour budget (R4)."""
    slot = datetime(2027, 1, 12, 10, tzinfo=ZoneInfo("Europe/Paris"))
    session = _session(RULES_2026_12_LIVE_SLOT, live=True, at=slot - timedelta(days=1))
    session.enter(
        at=slot - timedelta(minutes=minutes_before_slot),
        terms_accepted=True,
        supervision_slot=slot,
    )
    session.leave(at=slot + timedelta(minutes=resumed_after - 1), cause="blocked screen")
    at = slot + timedelta(minutes=resumed_after)
    assert (
        session.enter(at=at, terms_accepted=True, resume_reason=TEN_WORDS, supervision_slot=slot)
        == "Reprendre l'examen"
    )


@pytest.mark.parametrize(
    ("seconds", "state"),
    [
        (-15 * 60 - 1, LiveEntry.TOO_EARLY),
        (-15 * 60, LiveEntry.OPEN),
        (0, LiveEntry.OPEN),
        (30 * 60, LiveEntry.OPEN),
        (30 * 60 + 1, LiveEntry.MISSED),
    ],
)
def test_the_window_runs_from_15_minutes_before_the_slot_to_30_after_both_included(
    seconds: int, state: LiveEntry
) -> None:
    slot = datetime(2027, 1, 12, 14, tzinfo=ZoneInfo("Europe/Paris"))
    at = (slot + timedelta(seconds=seconds)).astimezone(UTC)  # another zone, the same instant
    window = live_entry_window(
        live_supervision=True, slot=slot, at=at, rules=RULES_2026_12_LIVE_SLOT
    )
    assert window.state is state
    assert window.opens_at == slot - BEFORE and window.closes_at == slot + AFTER


def test_no_slot_and_no_window_are_said_as_such() -> None:
    at = datetime(2027, 1, 12, 14, tzinfo=UTC)
    no_slot = live_entry_window(live_supervision=True, slot=None, at=at, rules=CURRENT_RULES)
    assert no_slot.state is LiveEntry.NO_SLOT and no_slot.opens_at is None
    for live, rules in ((False, CURRENT_RULES), (True, RULES_2026_12)):
        window = live_entry_window(live_supervision=live, slot=None, at=at, rules=rules)
        assert window.state is LiveEntry.NOT_REQUIRED


def test_a_slot_without_its_time_zone_is_refused_naming_it() -> None:
    session = _session(CURRENT_RULES, live=True, at=datetime(2027, 1, 11, tzinfo=UTC))

    def enter() -> str:
        return session.enter(
            at=datetime(2027, 1, 12, 10, tzinfo=UTC),
            terms_accepted=True,
            supervision_slot=datetime(2027, 1, 12, 10),
        )

    expect_refusal(session, enter, "invalid:supervision_slot")


def test_a_session_frozen_before_the_window_is_read_back_without_it_and_enters_as_before() -> None:
    """A rules-2026-12 session stored before the two numbers existed: its stored rule set has
    no such keys; it decodes with the defaults and enters at any time, slot or none."""
    mapper = MsgspecMapper(transcoder=MsgspecTranscoder())
    opened = ProctoredSession.SessionOpened(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris")),
        originator_topic="domain.proctored_session:ProctoredSession",
        enrollment_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="ENI-ACCESS",
        exam_duration_minutes=90,
        rules=RULES_2026_12,
        live_supervision=True,
    )
    stored = mapper.to_stored_event(opened)
    state = json.loads(stored.state)
    for key in ("live_entry_minutes_before", "live_entry_minutes_after"):
        del state["rules"][key]  # as written before the rule set had them
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    decoded = mapper.to_domain_event(old)
    assert isinstance(decoded, ProctoredSession.SessionOpened)
    assert decoded.rules == RULES_2026_12
    session = decoded.mutate(None)
    assert isinstance(session, ProctoredSession)
    # Sunday night, no slot: the session of old enters, as it did.
    assert session.enter(at=datetime(2026, 12, 6, 23, tzinfo=UTC), terms_accepted=True)
    assert session.entries == 1


def test_a_refused_entry_under_the_new_rules_says_why_in_its_message() -> None:
    slot = datetime(2027, 1, 12, 10, tzinfo=ZoneInfo("Europe/Paris"))
    session = _session(CURRENT_RULES, live=True, at=slot - timedelta(days=1))
    for at, slot_given, words in (
        (slot, None, "books a slot first"),
        (slot - timedelta(hours=1), slot, "it opens at 2027-01-12T09:45:00+01:00"),
        (slot + timedelta(hours=1), slot, "entry closed at 2027-01-12T10:30:00+01:00"),
    ):
        with pytest.raises(RuleBroken) as refused:
            session.enter(at=at, terms_accepted=True, supervision_slot=slot_given)
        assert refused.value.rule == "R2" and words in refused.value.message
    assert session.collect_events() == []
