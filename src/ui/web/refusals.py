"""What a refused click says to the person, in the page's language (R25, issue 13).

A refusal is a sentence saying what to do next, then the guide's rule as a discreet
reference: its sentence, its code in a title (`rule_words.rule_reference`; a candidate's page
hides it). The domain's own message is written in English for logs and the API: pages never
repeat it. Tables are marked with `N_` and translated where shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup, escape

from app.media_content import MIB, MediaTooLarge, UnacceptedMedia
from app.passwords import MAX_LENGTH, MIN_LENGTH
from domain.bounds import LIMITS
from domain.errors import (
    DomainError,
    ImplausibleBirthDate,
    InvalidArgument,
    InvalidArguments,
    NotAName,
    NotAnEmail,
    RecordingTooShort,
    Required,
    RuleBroken,
    TooLong,
    TooShort,
    shown_character,
)
from ui.web.edge import KEPT_TIMES
from ui.web.i18n import N_, gettext_for, pgettext_for
from ui.web.rule_words import rule_reference

# One sentence per rule: what the person does next.
_REFUSALS: dict[str, str] = {
    "R1": N_("This link is no longer valid: your enrolment's last day has passed."),
    # A candidate's only R2 refusal: the entry of a session supervised live, outside its slot.
    "R2": N_(
        "This exam is supervised live: it opens only around the slot agreed with the hotline."
    ),
    "R3": N_("Your exam session is no longer valid: ask the hotline to renew it."),
    "R4": N_("The time is over: the proctored session lasts at most 3 hours."),
    "R5": N_("Accept the terms of use first."),
    "R6": N_("To resume the exam, give a reason of at least 10 words."),
    "R7": N_("Tick the box to confirm you have read the rules, then go on."),
    "R8": N_(
        "Finish the equipment checks first: sound, microphone (start then stop the "
        "recording), camera and connection."
    ),
    "R9": N_("Take the photo with “Take a photo” first, then click “Next”."),
    "R10": N_("Record your surroundings in order: ears, room, then desk."),
    "R14": N_(
        "Deferring is possible only before “Start”, and “Validate the exam” only after the exam."
    ),
    "R15": N_("Follow the portal's order: “To start”, “I start now”, then “Start”."),
    "R16": N_("The exam must start and end on the same day: it cannot go on past midnight."),
    "R18": N_("To send your exam, type the displayed code exactly, then “Yes, send”."),
    "R22": N_("You left this certification: there is no coming back."),
    "R23": N_("The exam workspace is already being prepared: wait a few seconds."),
    "R24": N_(
        "This link no longer works: it was used, replaced by a newer one, or it expired. "
        "Ask for a new one with “Forgot your password?”."
    ),
    # Not one of the guide's rules: the domain's (domain.candidate.PersonErased).
    "ERASED": N_("Nothing more can be done for this person: their personal data was erased."),
}
_REFUSED = N_("This action is not possible now.")

# A refused field by the label the person sees.
_FIELDS: dict[str, str] = {
    "birth_date": N_("Birth date"),
    "password": N_("Password"),
    "confirm": N_("I leave for good"),
    "code": N_("Validate the exam"),
    "reason": N_("Resume reason"),
    "photo": N_("Photo"),
    "recording": N_("Recording"),
    "round_trip_ms": N_("Connection test"),
    "upload_kbps": N_("Connection test"),
    "surname": N_("Surname"),
    # A person's (Ms, Mr, Mx), looked up as the form's label is, with its context
    # (_FIELD_CONTEXTS): a plain « Title » would read « Civilité » on any page's title.
    "civility": "Title",
    "birth_place": N_("Birth place"),
    "first_name": N_("First name"),
    "email": N_("E-mail address"),
    "resume_reason": N_("Resume reason"),
    "answer": N_("Your answer"),
    "justification": N_("Justification"),
    # The result page's « Contester » box: « Vos motifs » was a label no form shows.
    "appeal_reason": N_("Why do you contest the decision?"),
    "appeal_answer": N_("Written answer to the candidate"),
    "reassign_reason": N_("Reason"),
    "note": N_("Note"),
    "hotline_reason": N_("Reason"),
    "description": N_("Description"),
    # The centre's integrations page (issue 16).
    "name": N_("Token name"),
    "token_name": N_("Token name"),
    "scopes": N_("What the token may do"),
    "days": N_("Valid for (days)"),
    "url": N_("Receiver's address (URL)"),
    "events": N_("Events to send"),
    "token_id": N_("API token"),
    "subscription_id": N_("Webhook"),
    # Every other field a form posts, by the label it shows (a tour read « Vérifiez le champ
    # « outcome » » on a second decision sent with none chosen): tests/acceptance/
    # test_field_labels.py holds this table to every form of the templates.
    "outcome": N_("Decision"),
    "verdict": N_("Verdict"),
    "phone_excused": N_("Phone exception"),
    "evidence": N_("Evidence of the technical problem"),
    "override": N_("Justification"),
    "examiner": N_("Examiner's e-mail"),
    "slot": N_("Date and time of the slot"),
    "mail": N_("Which mail"),
    "link": N_("Screen-sharing link"),
    "q": N_("E-mail or name"),
    "state": N_("State"),
    "file": N_("CSV file"),
    "language": N_("Language of the mails and pages"),
    "certification_code": N_("Certification"),
    "certification": N_("Certification"),
    "re_enrol": N_("Enrol again even if an enrolment is under way"),
    "extra_time_percent": N_("Extra time"),
    "arrangements": N_("Other arrangements"),
    "current": N_("Current password"),
    "account": N_("Which password?"),
    "attest": N_("Exam instructions"),
    "ready": N_("Rules to follow before starting"),
    "live": N_("Live supervision agreed with the hotline"),
}

# What a refused field must be, where « Check the field » left the person guessing (the
# portal profile, a reviewer's tour): %(field)s is its label.
_FIELD_RULES: dict[str, str] = {
    "birth_date": N_("“%(field)s”: give the day, the month and the year."),
    "civility": N_("“%(field)s”: choose one in the list."),
    # R12: the practice questionnaire sent with no answer (said beside its « Submit »).
    "practice": N_("No question is answered: answer at least one, then press “Submit”."),
}

# R10: the recorded part, as the sentence names it ("the recording of the room").
_PARTS: dict[str, str] = {
    "ears": N_("of the ears"),
    "room": N_("of the room"),
    "desk": N_("of the desk"),
}


_FIELD_CONTEXTS = {"civility": "person"}


def field_name(language: str, field: str) -> str:
    """A form field's name as the person reads it on the form."""
    context = _FIELD_CONTEXTS.get(field)
    if context is not None:
        return pgettext_for(language)(context, _FIELDS[field])
    return gettext_for(language)(_FIELDS.get(field, field))


def refusal_sentence(language: str, rule: str | None, field: str | None, detail: str) -> str:
    """The sentence alone (plain text), for a rule or a field; `detail` is the domain's
    English message, kept for the logs and not repeated to the person."""
    _ = gettext_for(language)
    if field is not None:
        return _("Check the field “%(field)s”.", field=field_name(language, field))
    if rule is None:
        return _(_REFUSED)
    return _(_REFUSALS.get(rule, _REFUSED))


def action_refusal(
    language: str,
    table: Mapping[tuple[str, str], str],
    action: str,
    error: DomainError,
    **values: Any,
) -> str:
    """What a page's refused `action` says (plain text), from the page's own table keyed by
    (action, rule or refused field), "*" standing for any: the field's sentence first, then
    the action's for the rule, any action's for the rule, the action's own, and ("*", "*").
    `values` fill in the sentence's %(name)s."""
    field = error.field if isinstance(error, InvalidArgument) else ""
    rule = error.rule if isinstance(error, RuleBroken) else ""
    text = (
        table.get(("*", field))
        or table.get((action, rule))
        or table.get(("*", rule))
        or table.get((action, "*"))
        or table[("*", "*")]
    )
    return gettext_for(language)(text, **values)


def edge_sentence(language: str, key: str, limit: int | None, path: str = "") -> str:
    """A form or API field the edge refused (issue 14), named as the person sees it: too long
    for its bound (`limit`, from the domain's table), or not of its kind. `path`: the address
    the form was sent to, which tells apart two fields of one name and bound."""
    _ = gettext_for(language)
    # The table's name of the field: the form's own (`surname`), or one it ends with (a
    # form's `reason`), bounded at its limit or at KEPT_TIMES it (`kept_bound`, and
    # `within_kept_bound`, which names the table's field itself). Said with the table's
    # limit, the rule the form keeps to: a surname past 400 read « under 400 characters ».
    named, rule = (key, limit)
    matching = [
        (f, n)
        for f, n in LIMITS.items()
        if limit in (n, n * KEPT_TIMES) and (f == key or f.endswith(f"_{key}"))
    ]
    if matching:
        # `appeal_reason` and `resume_reason` are both a form's `reason` of 2,000: the one
        # whose first word is in the address (…/appeal), where the table's first one named
        # an appeal « Motif de reprise » (a helper's tour).
        named, rule = next(
            ((f, n) for f, n in matching if f.split("_")[0] in path.split("/")), matching[0]
        )
    field = field_name(language, named)
    if rule is None:
        return _("Check the field “%(field)s”.", field=field)
    return _(
        "“%(field)s” is too long: keep it under %(limit)s characters.",
        field=field,
        limit=format_decimal(rule, locale=language),
    )


def password_refusal(language: str, password: str) -> str:
    """Why a new password is refused (`app.passwords.check_password`), said beside its field
    in `language`; "" when it is accepted. The log-in forms take MAX_LENGTH characters: a
    longer one was accepted here and locked its owner out (a tester's tour)."""
    _ = gettext_for(language)
    if len(password) < MIN_LENGTH:
        return _("Choose a password of at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _(
            "Choose a password of at most %(n)s characters: this one has %(given)s, more "
            "than the log-in page takes.",
            n=format_decimal(MAX_LENGTH, locale=language),
            given=format_decimal(len(password), locale=language),
        )
    return ""


def refusal_message(language: str, error: DomainError) -> Markup:
    """What the page shows for a refusal: the sentence, then the rule as a reference."""
    _ = gettext_for(language)
    rule = error.rule if isinstance(error, RuleBroken) else None
    if isinstance(error, RecordingTooShort):
        sentence = _(
            "The recording %(part)s lasted %(seconds)s s: film for at least %(minimum)s "
            "seconds, then stop the recording.",
            part=_(_PARTS.get(error.part, error.part)),
            seconds=format_decimal(round(error.seconds, 1), locale=language),
            minimum=format_decimal(error.minimum, locale=language),
        )
    elif isinstance(error, UnacceptedMedia):  # a photo or recording that is none (issue 12)
        field = field_name(language, error.field)
        sentence = _("%(field)s: %(problem)s", field=field, problem=error.in_language(language))
    elif isinstance(error, MediaTooLarge):  # issue 14: a 50 MiB "photo"
        sentence = _(
            "“%(field)s” is too large: send a file of at most %(limit)s MiB (%(given)s MiB sent).",
            field=field_name(language, error.field),
            limit=format_decimal(round(error.limit / MIB, 1), locale=language),
            given=format_decimal(round(error.given / MIB, 1), locale=language),
        )
    elif isinstance(error, TooLong):
        sentence = _(
            "“%(field)s” is too long: keep it under %(limit)s characters (%(given)s given).",
            field=field_name(language, error.field),
            limit=format_decimal(error.limit, locale=language),
            given=format_decimal(error.given, locale=language),
        )
    elif isinstance(error, InvalidArguments):  # every field at once, each its sentence
        return Markup(" ").join(message for _field, message in field_refusals(language, error))
    elif isinstance(error, TooShort) or (
        isinstance(error, InvalidArgument) and error.field == "password"
    ):
        sentence = _(
            "“%(field)s”: at least %(minimum)s characters.",
            field=field_name(language, error.field),
            minimum=format_decimal(
                error.minimum if isinstance(error, TooShort) else MIN_LENGTH, locale=language
            ),
        )
    elif isinstance(error, Required):
        sentence = _("“%(field)s” is required.", field=field_name(language, error.field))
    elif isinstance(error, ImplausibleBirthDate) and error.in_the_future:
        sentence = _(
            "“%(field)s” cannot be in the future: give the one on your ID.",
            field=field_name(language, error.field),
        )
    elif isinstance(error, ImplausibleBirthDate):
        sentence = _(
            "“%(field)s”: a year from %(year)s on, as on your ID.",
            field=field_name(language, error.field),
            year=str(error.earliest.year),
        )
    elif isinstance(error, NotAName) and error.field == "birth_place":  # a place's name
        sentence = _(
            "“%(field)s”: “%(character)s” cannot be in a place's name; write letters, with "
            "spaces, hyphens, apostrophes or a slash if the name has them.",
            field=field_name(language, error.field),
            character=shown_character(error.character),
        )
    elif isinstance(error, NotAName):  # printed on the certificate and in every mail
        sentence = _(
            "“%(field)s”: “%(character)s” cannot be in a name; write letters, with spaces, "
            "hyphens or apostrophes if the name has them.",
            field=field_name(language, error.field),
            character=shown_character(error.character),
        )
    elif isinstance(error, NotAnEmail):  # every mail goes there (F5, a tester's tour)
        sentence = email_refusal(language, error)
    elif isinstance(error, InvalidArgument) and error.field in _FIELD_RULES:
        sentence = _(_FIELD_RULES[error.field], field=field_name(language, error.field))
    elif isinstance(error, InvalidArgument):
        sentence = refusal_sentence(language, None, error.field, error.message)
    else:
        sentence = refusal_sentence(language, rule, None, str(error))
    if rule is None:
        return escape(sentence)
    return escape(sentence) + Markup(" ") + rule_reference(language, rule)


def email_refusal(language: str, error: NotAnEmail) -> str:
    """Why an e-mail address is refused, naming its field and, when one is the reason, the
    character no address holds (shown by its code point when it cannot be seen: a NUL)."""
    _ = gettext_for(language)
    if error.character is None:
        return _(
            "“%(field)s”: this is not an e-mail address; write it whole, as "
            "camille.martin@example.org.",
            field=field_name(language, error.field),
        )
    return _(
        "“%(field)s”: “%(character)s” cannot be in an e-mail address; write the address "
        "alone, as camille.martin@example.org.",
        field=field_name(language, error.field),
        character=shown_character(error.character),
    )


def field_refusals(language: str, error: DomainError) -> list[tuple[str, Markup]]:
    """Each refused form field with its sentence, for the page to show beside it: all of a
    form's at once, or the one a refusal names; none for a refusal that names no field."""
    if isinstance(error, InvalidArguments):
        return [(p.field, refusal_message(language, p)) for p in error.problems]
    if isinstance(error, InvalidArgument):
        return [(error.field, refusal_message(language, error))]
    return []
