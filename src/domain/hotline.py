"""What the hotline (support role) records when it acts for a candidate: who acted, and why.

Every hotline action is a judgement made on the phone or by mail (R2, R3, R9, R20, R23): the
log keeps the staff member and their words, so an examiner or an auditor reads later why a
session was renewed, a photo waived or a phone allowed."""

from __future__ import annotations

from enum import StrEnum

from domain.bounds import LIMITS
from domain.errors import InvalidArgument

# Long enough for a ticket number and two sentences; short enough to stay a note, not a file.
REASON_LIMIT = LIMITS["hotline_reason"]
# A screen-sharing link (R2) is a URL the candidate opens: https, and no longer than a mail line
# can carry comfortably.
LINK_LIMIT = 500


class MailToResend(StrEnum):
    """The mails the hotline sends again on request."""

    INVITATION = "invitation"  # the centre's invitation, with its link to create the session
    LOG_IN = "log_in"  # the welcome mail, with a new single-use link to choose a password


def check_reason(field: str, text: str | None, *, required: bool = True) -> str:
    """The reason as kept in the log: trimmed, bounded, and present when the action needs one."""
    reason = (text or "").strip()
    if required and not reason:
        raise InvalidArgument(field, "say why (a few words the examiner will read)")
    if len(reason) > REASON_LIMIT:
        raise InvalidArgument(
            field, f"keep it under {REASON_LIMIT} characters ({len(reason)} given)"
        )
    return reason


def check_link(link: str | None) -> str:
    """R2: the screen-sharing tool's address, as the candidate will click it."""
    value = (link or "").strip()
    spaced = any(c.isspace() for c in value)
    if not value.startswith("https://") or len(value) <= len("https://") or spaced:
        raise InvalidArgument("link", "give the tool's full address, starting with https://")
    if len(value) > LINK_LIMIT:
        raise InvalidArgument("link", f"keep the address under {LINK_LIMIT} characters")
    return value
