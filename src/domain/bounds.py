"""How long a person's text may be, field by field (issue 14: a 10 MiB answer, a 5 MiB resume
reason and an 8 MiB surname were accepted; the surname made a 17 MB mail).

The same table bounds the forms at the edge (their `maxlength`) and the commands here, so a
script that skips the form is refused with the same sentence. The limits are generous for a
person typing and small for a log kept for years."""

from __future__ import annotations

import unicodedata

from domain.errors import NotAName, TooLong

LIMITS: dict[str, int] = {
    "surname": 100,
    "first_name": 100,
    "birth_place": 100,  # the portal profile's, printed on the certificate with the names
    "email": 320,  # RFC 5321's path limit
    "resume_reason": 2_000,
    "answer": 10_000,  # a free-text answer to one question (the exam's, the practice's: R12)
    "justification": 4_000,
    # The candidate's reason to contest (APPEAL-REASON, domain.review): the form said 2,000
    # and the edge allowed 4,000, refused on a page of its own (a reviewer's tour). One number.
    "appeal_reason": 2_000,
    # The second examiner's written answer to it (APPEAL-DECISION, domain.review), sent to
    # the candidate with the decision: it had no bound at all (a user's tour).
    "appeal_answer": 4_000,
    "reassign_reason": 1_000,
    "note": 1_000,
    "hotline_reason": 500,  # why the hotline renewed, resent, unblocked, waived (domain.hotline)
    # An API token's name on the centre's integrations page (domain.integrations), whose
    # form said 80 in a number of its own.
    "token_name": 80,
    # Who an administrator is, as they name themselves (`--by`) or as the machine knows them
    # (« root@vigie-1 »), kept in the log with what they did to a staff account.
    "operator": 200,
    # Hashed, never stored: bounded at the edge so a megabyte of password costs no hash time.
    "password": 1_024,
}


def bounded(field: str, text: str) -> str:
    """The text, if no longer than its field allows; InvalidArgument naming the field."""
    limit = LIMITS[field]
    if len(text) > limit:
        raise TooLong(field, limit, len(text))
    return text


# What a person's name holds besides letters (with their accents) and digits: « Jean-Luc »,
# « O'Brien », « N’Diaye », « St. John », « Le Gall », « Durand, dit Alex », « Martin (née
# Durand) », « Gal·la », « 居里・斯克 », spaces and dashes of every kind (a no-break space
# pasted from a document, « ‐ »), and the joiners some scripts write names with (Persian's
# U+200C). Not markup (« < > & " »), symbols, emoji or control characters: a name goes on
# the certificate and into every mail (a user's tour enrolled « <b>Zoé</b> 😀 »).
_NAME_MARKS = frozenset(" '’‘`.,()·・\u200c\u200d")
_NAME_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Zs", "Pd"})


def name_problem(field: str, text: str) -> NotAName | None:
    """Why a person's name (surname, given name) cannot be one: its first character that is
    none of a letter or its accent, a digit, a space, a dash, or one of « '’‘`.,()·・ » and
    the joiners; None when it can."""
    for c in text:
        if c not in _NAME_MARKS and unicodedata.category(c) not in _NAME_CATEGORIES:
            return NotAName(field, c)
    return None


def as_a_name(text: str, *, otherwise: str = "-") -> str:
    """A name another system gave (a learning platform's launch, an e-mail's local part),
    kept to what a name may hold: the characters `name_problem` refuses left out, and
    `otherwise` when nothing is left. The person corrects it on the portal's profile."""
    kept = "".join(
        c for c in text if c in _NAME_MARKS or unicodedata.category(c) in _NAME_CATEGORIES
    )
    return " ".join(kept.split())[: LIMITS["surname"]].strip() or otherwise
