"""Checks shared by the aggregates' state machines: what a command recorded or refused, and
that replaying the collected events rebuilds the live aggregate.

Expected refusals are a rule id ("R5") or "invalid:<field>" for a malformed argument.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from domain.errors import InvalidArgument, RuleBroken


def state_of(aggregate: Any) -> dict[str, Any]:
    """What replay must rebuild: everything but the events waiting to be collected."""
    return {k: v for k, v in aggregate.__dict__.items() if k != "_pending_events"}


def replay(log: Iterable[Any]) -> Any:
    """The aggregate rebuilt from its stored events, oldest first."""
    replayed = None
    for stored in log:
        replayed = stored.mutate(replayed)
    assert replayed is not None
    return replayed


def expect_success(
    aggregate: Any, command: Callable[[], object], log: list[Any], events: int = 1
) -> Any:
    """Run `command`, check it recorded `events` events (and, recording none, changed
    nothing), add them to `log` and return what the command returned."""
    assert aggregate is not None
    before = copy.deepcopy(state_of(aggregate)) if not events else None
    result = command()
    new = aggregate.collect_events()
    assert len(new) == events, new
    if not events:
        assert state_of(aggregate) == before
    log.extend(new)
    return result


def expect_refusal(aggregate: Any, command: Callable[[], object], expected: str) -> BaseException:
    """Check `command` is refused for `expected`, records nothing and changes nothing;
    returns the refusal."""
    assert aggregate is not None
    before = copy.deepcopy(state_of(aggregate))
    if expected.startswith("invalid:"):
        with pytest.raises(InvalidArgument) as bad:
            command()
        assert bad.value.field == expected.removeprefix("invalid:"), bad.value
        refused: BaseException = bad.value
    else:
        with pytest.raises(RuleBroken) as refusal:
            command()
        assert refusal.value.rule == expected, refusal.value
        refused = refusal.value
    assert aggregate.collect_events() == []
    assert state_of(aggregate) == before
    return refused
