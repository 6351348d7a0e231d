"""How long a person's text may be, field by field (issue 14: a 10 MiB answer, a 5 MiB resume
reason and an 8 MiB surname were accepted; the surname made a 17 MB mail).

The same table bounds the forms at the edge (their `maxlength`) and the commands here, so a
script that skips the form is refused with the same sentence. The limits are generous for a
person typing and small for a log kept for years."""

from __future__ import annotations

import unicodedata

from domain.errors import NotAName, NotAnEmail, TooLong

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
    return _first_refused(field, text, _NAME_MARKS)


# A place's name (the birth place, printed on the certificate beside the person's): what a
# name holds, and the slash of a bilingual one (« Biel/Bienne »). Not the controls that
# reorder a line (U+202E « Nantes\u202e »): an examiner read the text after it backwards
# (a tester's tour), nor markup (« <script> » was kept as a birth place).
_PLACE_MARKS = _NAME_MARKS | {"/"}


def place_problem(field: str, text: str) -> NotAName | None:
    """Why a place's name (the birth place) cannot be one: as `name_problem`, a slash
    allowed; None when it can."""
    return _first_refused(field, text, _PLACE_MARKS)


def _first_refused(field: str, text: str, marks: frozenset[str]) -> NotAName | None:
    for c in text:
        if c not in marks and unicodedata.category(c) not in _NAME_CATEGORIES:
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


# What an e-mail address holds: letters and digits of any script (with their accents: a
# mailbox may be « zoé@exemple.fr », RFC 6531), and on the left of the `@` the marks RFC 5322
# allows unquoted; on the right, a domain's hyphens and dots. Not control or invisible
# characters, spaces, quotes, `<>`, `()`, `[]`, `,;:` or backslashes: a NUL was enrolled,
# refused by the mail server in the middle of its transaction, and the next mail on the
# platform failed with it (a tester's tour). Quoted local parts (« "a b"@x ») and address
# literals (« x@[127.0.0.1] ») are valid in the RFC and held by no person's mailbox.
_EMAIL_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd"})
_LOCAL_MARKS = frozenset("!#$%&'*+-/=?^_`{|}~.")
_DOMAIN_MARKS = frozenset("-.")


def email_problem(field: str, text: str) -> NotAnEmail | None:
    """Why `text` cannot be an e-mail address: its first character no address holds (named),
    or its shape (one `@`, something before it, a domain of two labels or more, none empty
    or starting or ending with a hyphen, the last not a number); None when it can be one."""
    local, at, domain = text.partition("@")
    for part, marks in ((local, _LOCAL_MARKS), (domain, _DOMAIN_MARKS | {"@"})):
        for c in part:
            if c not in marks and unicodedata.category(c) not in _EMAIL_CATEGORIES:
                return NotAnEmail(field, c, text)
    labels = domain.split(".")
    if (
        not at
        or not local
        or "@" in domain
        or len(labels) < 2
        or any(not label or label[0] == "-" or label[-1] == "-" for label in labels)
        or labels[-1].isdigit()
    ):
        return NotAnEmail(field, None, text)
    return None
