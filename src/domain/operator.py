"""Who acts from the machine (an administrator's command: a staff reset, an erasure): the log
says who, at the least the machine's account the command ran as."""

from __future__ import annotations

import unicodedata

from domain.bounds import LIMITS
from domain.errors import InvalidArgument, TooLong


def check_operator(by: str, system_account: str) -> tuple[str, str]:
    """Who acts as an administrator: the name they gave (may be empty) and the machine's
    account they act as (required: the log always says who, at the least that)."""
    by, system_account = by.strip(), system_account.strip()
    limit = LIMITS["operator"]
    for field, text in (("by", by), ("system_account", system_account)):
        if len(text) > limit:
            raise TooLong(field, limit, len(text))
        if any(unicodedata.category(c) == "Cc" for c in text):
            # A line break would forge a line of `vigie history` (a name is one line).
            raise InvalidArgument(field, "one line of text, without control characters")
    if not system_account:
        raise InvalidArgument("system_account", "required: the account the command ran as")
    return by, system_account
