"""The platform's mails as a page shows them: every personal link hidden (security finding F2).

A mail's link to the platform carries the person's single-use secret after its `?` (`?t=…`:
the welcome mail's and a reset's link to set the password, the log-in link the hotline
resends, the invitation's link to create the exam session). Whoever reads one can set the
candidate's password and be her: the hotline read them on its mailbox page, resent a log-in
mail to anyone and took the account over (a security tester's tour). So no page shows that
part of a link, whoever reads it: from the `?` (or `#`) on, a link is replaced by words
saying it is hidden; where it goes (`…/password/reset`) stays, so support can tell which
mail it was. The same for a bare `?name=value` or `&name=value` outside a link.

The full mail is read where the platform runs, with `vigie mailbox --full`: whoever runs it
holds the store and the key already (the developer on `make run` follows the demo's links
there, as the README says).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

# A link (absolute, or a path starting a word), or a query parameter standing alone.
_LINK_OR_PARAMETER = re.compile(
    r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|(?<![\w/.~-])/)[^\s<>\"']+"
    r"|[?&#][A-Za-z_][\w.-]*=[^\s<>\"']*"
)
# Punctuation ending a sentence after a link is the sentence's, not the link's.
_TRAILING = ".,;:!)]»\"'"


@dataclass(frozen=True)
class Piece:
    """A run of a mail's text, or (hidden) the place of a link's secret part."""

    text: str
    hidden: bool = False


def hide_personal_links(text: str) -> list[Piece]:
    """The text in pieces, every link's query and fragment (and any bare `?name=value`)
    replaced by a hidden piece; joining the shown pieces gives the text without them."""
    pieces: list[Piece] = []
    kept = 0
    for found in _LINK_OR_PARAMETER.finditer(text):
        run = found.group().rstrip(_TRAILING)
        start = found.start()
        if run[:1] in "?&#":
            cut = 0
        else:
            cut = min((i for i in (run.find("?"), run.find("#")) if i >= 0), default=-1)
            if cut < 0:
                continue
        if start + cut > kept:
            pieces.append(Piece(text[kept : start + cut]))
        pieces.append(Piece("", hidden=True))
        kept = start + len(run)
    if kept < len(text):
        pieces.append(Piece(text[kept:]))
    return pieces


@dataclass(frozen=True)
class ShownMail:
    """One captured mail as the mailbox page lists it: to whom, its subject, when, and its
    text with the personal links hidden."""

    to: str
    subject: str
    sent: str
    body: list[Piece]


def shown(message: EmailMessage) -> ShownMail:
    """A captured mail for the page: its plain text part (none: an empty body)."""
    part = message.get_body(preferencelist=("plain",))
    text = str(part.get_content()) if part is not None else ""
    return ShownMail(
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        sent=str(message["Date"] or ""),
        body=hide_personal_links(text),
    )
