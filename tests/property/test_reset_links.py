"""R24, issue 14: of the reset links of one account, only the newest unused one works.
Issuing a link, or using one, voids every older link of that account (not the other
account's); a refused reset records nothing and changes nothing; replay rebuilds the same
tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.candidate import Account, Candidate
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Each step: ask for a link for an account, or use the link number k (any issued so far).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.sampled_from(list(Account))),
        st.tuples(st.just("use"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=12,
)


@given(plan=steps)
def test_only_the_newest_unused_link_of_an_account_works(plan: list[tuple[str, Any]]) -> None:
    candidate = Candidate.register(
        candidate_id=uuid4(), email="camille@exemple.fr", surname="Martin",
        first_name="Camille", at=START,
    )  # fmt: skip
    log: list[Any] = list(candidate.collect_events())
    issued: list[tuple[str, Account]] = []
    newest: dict[Account, str | None] = {account: None for account in Account}
    at = START
    for kind, value in plan:
        at += timedelta(minutes=1)
        if kind == "ask":
            token_id = f"t{len(issued)}"

            def ask(token_id: str = token_id, account: Account = value, at: datetime = at) -> None:
                candidate.request_password_reset(
                    at=at, account=account, token_id=token_id,
                    expires_at=at + timedelta(hours=1), purpose="reset",
                )  # fmt: skip

            expect_success(candidate, ask, log)
            issued.append((token_id, value))
            newest[value] = token_id
            continue
        if not issued:
            continue
        token_id, account = issued[value % len(issued)]

        def use(token_id: str = token_id, account: Account = account, at: datetime = at) -> None:
            candidate.reset_password(
                at=at, account=account, token_id=token_id, password_hash="$argon2id$x"
            )

        if newest[account] == token_id:
            expect_success(candidate, use, log)
            newest[account] = None  # used: nothing of that account works until asked again
        else:
            expect_refusal(candidate, use, "R24")
    assert state_of(replay(log)) == state_of(candidate)
