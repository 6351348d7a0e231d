"""Domain errors. A refusal names the guide's rule (R1…R26 in design/product.md)."""

from __future__ import annotations

from datetime import date, datetime


class DomainError(Exception):
    """Base class of every refusal the domain can give."""


class RuleBroken(DomainError):
    """A command broke one of the guide's rules; nothing was recorded."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


class StepOutOfOrder(RuleBroken):
    """A step of the journey was attempted before the steps that must precede it."""


class RecordingTooShort(RuleBroken):
    """R10: an environment recording stopped before its minimum duration (the room filmed
    in 0.3 s shows nothing). Carries the numbers so a page can say them in words."""

    def __init__(self, part: str, seconds: float, minimum: float) -> None:
        super().__init__(
            "R10", f"the {part} recording lasted {seconds:.1f} s, at least {minimum:g} s needed"
        )
        self.part = part
        self.seconds = seconds
        self.minimum = minimum


class InvalidArgument(DomainError, ValueError):
    """A value given to a command is malformed (names the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def require(condition: bool, rule: str, message: str) -> None:
    """Raise `RuleBroken(rule, message)` unless `condition` holds."""
    if not condition:
        raise RuleBroken(rule, message)


def require_aware(field: str, value: object) -> None:
    """Times must carry their time zone: deadlines depend on the local day."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidArgument(field, "a time-zone-aware datetime is required")
    offset = value.utcoffset()
    if offset is not None and offset.seconds % 60:
        # The log keeps offsets to the minute (ISO 8601 as stored); seconds would shift it.
        raise InvalidArgument(field, "the UTC offset must be a whole number of minutes")


class TooLong(InvalidArgument):
    """A person's text longer than its field allows (issue 14). Carries the numbers so a page
    can say them in words."""

    def __init__(self, field: str, limit: int, given: int) -> None:
        super().__init__(field, f"keep it under {limit:,} characters ({given:,} given)")
        self.limit = limit
        self.given = given


class TooShort(InvalidArgument):
    """A text shorter than its field needs (a password of fewer than 8 characters): carries
    the number, so a page says it (« Mot de passe » was only « to check », a reviewer's tour)."""

    def __init__(self, field: str, minimum: int, given: int) -> None:
        super().__init__(field, f"at least {minimum} characters ({given} given)")
        self.minimum = minimum
        self.given = given


class ImplausibleBirthDate(InvalidArgument):
    """R11: a birth date no candidate can have (still to come, or too long ago). Carries the
    bounds, so a page says which one was crossed."""

    def __init__(self, given: date, *, earliest: date, latest: date) -> None:
        super().__init__(
            "birth_date",
            f"R11: {given.isoformat()} is not between {earliest.isoformat()} "
            f"and today, {latest.isoformat()}",
        )
        self.given = given
        self.earliest = earliest
        self.latest = latest

    @property
    def in_the_future(self) -> bool:
        return self.given > self.latest


class NotAName(InvalidArgument):
    """A person's name holding what no name holds (markup, symbols, emoji, control
    characters): it is printed on the certificate and in every mail (a user's tour enrolled
    « <b>Zoé</b> 😀 »). `character` is the first one refused, for the sentence to name."""

    def __init__(self, field: str, character: str) -> None:
        super().__init__(field, f"{shown_character(character)} cannot be in a name")
        self.character = character


class NotAnEmail(InvalidArgument):
    """An e-mail address no mailbox has: a character none holds (a control character, a
    space, markup, quotes), named in `character` for the sentence to show; or, with
    `character` None, a shape that is no address (no `@`, no domain). A NUL in one was
    accepted at enrolment, then refused by the mail server in the middle of its transaction,
    and the next mail on the platform failed for good (a tester's tour)."""

    def __init__(self, field: str, character: str | None, given: str) -> None:
        if character is None:
            message = f"not an e-mail address: {given!r}"
        else:
            message = f"{shown_character(character)} cannot be in an e-mail address"
        super().__init__(field, message)
        self.character = character


def shown_character(character: str) -> str:
    """A character as a sentence can show it: itself, or its code point when it cannot be
    seen (a zero-width space, a control character)."""
    if character.isprintable() and not character.isspace():
        return character
    return f"U+{ord(character):04X}"


class Required(InvalidArgument):
    """A field left empty that must be filled."""

    def __init__(self, field: str) -> None:
        super().__init__(field, "required")


class InvalidArguments(InvalidArgument):
    """Several fields of one form refused at once, each with its own refusal, so the person
    corrects them all in one go (the portal profile said one field per « Créer », a reviewer's
    tour). Named by the first, as a single refusal is."""

    def __init__(self, problems: list[InvalidArgument]) -> None:
        super().__init__(problems[0].field, "; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def refuse_all(problems: list[InvalidArgument]) -> None:
    """Raise the one refusal, or all of them together; nothing when there is none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidArguments(problems)
