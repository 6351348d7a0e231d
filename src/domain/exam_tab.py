"""When the exam tab is lost (R17, R23): its signs of life judged, never its absence alone.

The exam tab beats every few seconds while it is open and says when it is closing. A loss
is evidence the examiner reads, so the product must record one only when the tab is really
gone (« the product never creates evidence against an honest candidate », product.md):

- a tab never opened since its workspace was provisioned is waiting for her, not lost (she
  may press « Commencer » before opening it; the exam's time runs out on its own);
- a tab that said it is closing and came back within `RELOAD_GRACE_S` was reloaded (F5) or
  closed and reopened at once: nothing is recorded;
- a tab that said it is closing and stayed away longer, or fell silent without a word
  (a crash, a dead network) for longer than the launcher's silence grace, is lost.

Pure: the moment of judgement comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.rules import utc

# A reload (F5) or a tab closed and opened again from the proctoring tab says « closing »,
# then comes back: the new page's first request is at once, its first beat within the tab's
# beat period (5 s), a reopening by hand takes a few seconds more. 15 s covers them all with
# room for a slow machine, and stays well inside the verdict's WORKSPACE_LOSS_NOTICE_S (60 s),
# so R23's « exam tab first, then the proctoring window » is still recognised. (Chosen in a
# user's tour where an honest candidate's F5 was recorded as a lost tab.)
RELOAD_GRACE_S = 15.0


class TabState(StrEnum):
    """What the exam tab last said of itself."""

    NOT_OPENED = "not_opened"  # provisioned, never opened since (or since its reopening)
    OPEN = "open"  # it beat (or was served) at `TabSighting.at`
    CLOSING = "closing"  # its page was going away at `TabSighting.at` (closed, or reloaded)


@dataclass(frozen=True)
class TabSighting:
    """The exam tab's last word: its state and when it said it."""

    state: TabState
    at: datetime


def tab_lost(sighting: TabSighting | None, now: datetime, *, silence_grace_s: float) -> bool:
    """Whether the exam tab is lost at `now` (None: no workspace open, nothing to lose is
    judged lost, as before: its attempt records the loss and can reopen it, R23)."""
    if sighting is None:
        return True
    if sighting.state is TabState.NOT_OPENED:
        return False
    quiet = (utc(now) - utc(sighting.at)).total_seconds()
    if sighting.state is TabState.CLOSING:
        return quiet > RELOAD_GRACE_S
    return quiet > silence_grace_s
