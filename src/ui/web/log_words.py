"""The log's facts in words for staff (a reviewer's finding): the details of each fact of a
session's full log, the differences of a replay and the media someone looked at read in the
page's language, where the pages showed the log's own fields (« kind=phone, span=…,
ended_by=candidate »), the command line's English and media ids.

Tables hold English messages marked with `N_`; the French is in
`locale/fr/LC_MESSAGES/examiner.po`. What is only the machine's (ids, hashes, references)
stays out of the words: the pages keep the raw fields in a `title` for the curious."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from babel.numbers import format_decimal
from eventsourcing.domain import AggregateEvent
from markupsafe import Markup

from app.context import Context
from app.media_views import staff_name
from app.recording import session_media
from app.replay import Difference, Mismatch
from app.time_format import TimeFormatter
from domain.errors import InvalidArgument
from domain.evidence import Evidence, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.review import AppealOutcome, CitedReason, Override
from domain.scoring import Results
from domain.verdict import Recommendation
from ui.web.check_steps import CHECK_LABEL
from ui.web.i18n import N_, gettext_for
from ui.web.own_text import isolated
from ui.web.review_words import (
    ENDED_BY_WORDS,
    ENVIRONMENT_WORDS,
    FLAG_WORDS,
    MEDIA_WORDS,
    VERDICT_WORDS,
    evidence_words,
    fact_moments,
    reason_words,
    span_words,
    version_words,
)


@dataclass(frozen=True)
class Reader:
    """Who reads, and what the words need beside the log: the page's language, the centre's
    clock, people's names by their id, certifications by their code, and the number each
    question had in the exam (its id is the bank's)."""

    lang: str
    times: TimeFormatter
    names: Callable[[UUID], str] = str
    certification: Callable[[str], str] = str
    questions: Mapping[str, int] = field(default_factory=dict)

    def _(self, message: str, /, **values: Any) -> str:
        return gettext_for(self.lang)(message, **values)

    def time(self, value: datetime | date, style: str = "exact") -> str:
        return self.times.format(value, self.lang, style)


def reader_of(ctx: Context, lang: str, events: Iterable[AggregateEvent] = ()) -> Reader:
    """A page's reader: staff named by their account, certifications by their title, the
    questions numbered from `events` (the full log's)."""
    names: dict[UUID, str] = {}

    def name(staff_id: UUID) -> str:
        if staff_id not in names:
            names[staff_id] = staff_name(ctx.store, staff_id)
        return names[staff_id]

    def certification(code: str) -> str:
        try:
            return ctx.catalogue.get(code).title
        except InvalidArgument:  # a certification the catalogue no longer has
            return code

    return Reader(lang, ctx.times, name, certification, question_numbers(events))


def question_numbers(events: Iterable[AggregateEvent]) -> dict[str, int]:
    """Each question's number in the exam, as the candidate met them (the order drawn at
    « Commencer », else the bank's)."""
    order: tuple[str, ...] = ()
    for event in events:
        if isinstance(event, ExamAttempt.ExamBegun) and event.question_order:
            order = tuple(event.question_order)
        elif isinstance(event, ExamAttempt.AttemptOpened) and not order:
            order = tuple(event.question_ids)
    return {question: n for n, question in enumerate(order, start=1)}


def span_clock_words(span: MediaSpan, lang: str) -> str:
    """« 16:50 – 17:06 de l'enregistrement »: as the moments beside the player say it
    (review_words.span_words, the one way staff pages say a span of the recording)."""
    return span_words(span.start_s, span.end_s, lang)


# --- the full log: each field of a fact in words --------------------------------------------

FieldWords = Callable[[Any, Reader], str]


def _said(message: str) -> FieldWords:
    """The value in a sentence (`%(value)s`), as it is."""
    return lambda value, r: r._(message, value=value)


def _quoted(message: str) -> FieldWords:
    """Someone's text, quoted and isolated from the page's words (F9: a U+202E in a resume
    reason reversed the rest of the log's line); nothing when nobody wrote any."""
    return lambda value, r: (
        Markup(r._(message)) % {"text": isolated(value)} if str(value).strip() else ""
    )


def _either(yes: str, no: str) -> FieldWords:
    return lambda value, r: r._(yes if value else no)


def _person(message: str) -> FieldWords:
    """A member of staff by name; nothing when there is none."""
    return lambda value, r: r._(message, name=r.names(value)) if value is not None else ""


def _moment(message: str, style: str = "exact") -> FieldWords:
    return lambda value, r: r._(message, time=r.time(value, style)) if value is not None else ""


def _count(message: str) -> FieldWords:
    """How many (a list of references); nothing when the list is empty."""
    return lambda value, r: r._(message, num=len(value)) if value else ""


def _table(table: Mapping[Any, str]) -> FieldWords:
    """A code by its words; a code the table does not know reads as the generic field."""
    return lambda value, r: r._(table[value]) if value in table else _other("", value, r)


_PASSED = _either(N_("passed"), N_("failed"))
_YES = _either(N_("yes"), N_("no"))


def _internal(value: Any, reader: Reader) -> str:
    """The machine's own (an id, a hash, a reference): in the cell's title only."""
    return ""


def _span(value: MediaSpan, r: Reader) -> str:
    return span_clock_words(value, r.lang)


def _confidence(value: float, r: Reader) -> str:
    return r._("confidence %(percent)s%%", percent=round(value * 100))


def _seconds(message: str) -> FieldWords:
    return lambda value, r: r._(message, seconds=format_decimal(round(value, 1), locale=r.lang))


def _number(message: str) -> FieldWords:
    return lambda value, r: r._(message, num=format_decimal(value, locale=r.lang))


def _question(value: str, r: Reader) -> str:
    if value in r.questions:
        return r._("question %(num)s", num=r.questions[value])
    return r._("question “%(text)s”", text=value)


def _choices(value: Sequence[str], r: Reader) -> str:
    return r._("choices: %(list)s", list=", ".join(value)) if value else ""


def _results(value: Results, r: Reader) -> str:
    score = r._("score %(score)s / %(max)s", score=value.score, max=value.max_score)
    mark = (
        r._("pass mark %(percent)s%%", percent=value.pass_mark_percent)
        if value.pass_mark_percent is not None
        else ""
    )
    outcome = _PASSED(value.passed, r)
    return ", ".join(part for part in (score, mark, outcome) if part)


def recommendation_words(value: Recommendation | None, r: Reader) -> str:
    """« invalidée par la fonction de verdict de décembre 2026 (Utilisation d'un
    téléphone) »."""
    if value is None:
        return r._("no recommendation")
    grounds = "; ".join(reason_words(f.reason, r.lang) for f in value.grounds)
    text = r._(
        "%(verdict)s by the %(version)s (%(grounds)s)",
        verdict=r._(VERDICT_WORDS[value.verdict]),
        version=version_words(value.version, r.lang),
        grounds=grounds or r._("no ground"),
    )
    if value.hints:
        text += ", " + r._("hints to check: %(num)s", num=len(value.hints))
    return text


def _reasons(message: str) -> FieldWords:
    """Reasons cited (or decided against) by their words; nothing when there are none."""

    def words(value: Sequence[CitedReason | Override], r: Reader) -> str:
        if not value:
            return ""
        return r._(message, reasons="; ".join(reason_words(c.reason, r.lang) for c in value))

    return words


# The entry's button as the candidate read it in her language: the session keeps the guide's
# French label, and the English log read « entry 1, button “Examen” ».
ENTRY_BUTTON_WORDS: dict[str, str] = {
    "Examen": N_("Exam"),
    "Reprendre l'examen": N_("Resume the exam"),
}

# Why a workspace was lost, as the platform records it (app.workspaces): the French log read
# « motif : « the workspace stopped answering » », the domain's English quoted as if someone
# wrote it. A reason the platform does not write reads quoted, as it is.
LOST_WORDS: dict[str, str] = {
    "the workspace stopped answering": N_("the exam tab stopped answering"),
}


def _lost(value: Any, r: Reader) -> str:
    if value in LOST_WORDS:
        return r._(LOST_WORDS[value])
    return _quoted(N_("reason: “%(text)s”"))(value, r)


def _button(value: Any, r: Reader) -> str:
    label = r._(ENTRY_BUTTON_WORDS[value]) if value in ENTRY_BUTTON_WORDS else value
    return r._("button “%(value)s”", value=label)


OUTCOME_WORDS: dict[AppealOutcome, str] = {
    AppealOutcome.UPHELD: N_("Invalidation upheld"),
    AppealOutcome.OVERTURNED: N_("Exam validated on appeal"),
}

# Each field of the log's facts, by its name, in words ("Class.field" where a name means
# something else in one fact). A field not here reads as `_other`; one marked `_internal`
# stays in the cell's title.
FIELD_WORDS: dict[str, FieldWords] = {
    # ids, hashes and references: the machine's
    **dict.fromkeys(
        (
            "flag_id",
            "media_id",
            "content_hash",
            "segment_id",
            "size",
            "workspace_ref",
            "url",
            "seed",
            "question_order",
            "question_ids",
            "bank_hash",
            "attempt_id",
            "session_id",
            "enrollment_id",
            "candidate_id",
            "part",  # the fact's own name says it (« Enregistrement des oreilles »)
        ),
        _internal,
    ),
    "kind": _table(FLAG_WORDS),
    "span": _span,
    "confidence": _confidence,
    "during_exam": _either(N_("during the exam"), N_("outside the exam")),
    "duration_s": _seconds(N_("length %(seconds)s s")),
    "ended_by": _table(ENDED_BY_WORDS),
    "finished_at": _moment(N_("at %(time)s"), "time"),
    "ends_at": _moment(N_("to end by %(time)s at the latest"), "time"),
    "budget_ends_at": _moment(N_("the session's time ends at %(time)s"), "time"),
    "over_budget": _either(N_("past the session's time"), N_("within the session's time")),
    "working": _either(N_("working"), N_("not working")),
    "round_trip_ms": _number(N_("round trip %(num)s ms")),
    "upload_kbps": _number(N_("upload %(num)s kbit/s")),
    "passed": _PASSED,
    "entry_number": _said(N_("entry %(value)s")),
    "label": _button,
    "resume_reason": _quoted(N_("reason: “%(text)s”")),
    "cause": _quoted(N_("cause: “%(text)s”")),
    "reason": _quoted(N_("reason: “%(text)s”")),
    "WorkspaceLost.reason": _lost,
    "description": _quoted(N_("“%(text)s”")),
    "extra_time_percent": _said(N_("extra time %(value)s%%")),
    "extra_minutes": lambda value, r: r._("extra minutes: %(value)s", value=value) if value else "",
    "certification_code": lambda value, r: r.certification(value),
    "exam_duration_minutes": _said(N_("exam of %(value)s min")),
    "duration_minutes": _said(N_("exam of %(value)s min")),
    "rules": lambda value, r: version_words(value.version, r.lang),
    "live_supervision": _either(N_("under live supervision"), N_("without live supervision")),
    "step": _table(CHECK_LABEL),
    "waived_by": _person(N_("by %(name)s")),
    "recorded_by": _person(N_("by %(name)s")),
    "reassigned_by": _person(N_("by %(name)s")),
    "assigned_by": _person(N_("by %(name)s")),
    "released_by": _person(N_("by %(name)s")),
    "examiner_id": _person(N_("examiner: %(name)s")),
    "previous_examiner_id": _person(N_("previous examiner: %(name)s")),
    "first_examiner_id": _person(N_("first examiner: %(name)s")),
    "media_ids": _count(N_("media deleted: %(num)s")),
    "not_found": _count(N_("already gone: %(num)s")),
    "left": _count(N_("left for a later pass: %(num)s")),
    "practice_offered": _either(
        N_("practice questionnaire offered"), N_("no practice questionnaire")
    ),
    "score_percent": _said(N_("score %(value)s%%")),
    "question_id": _question,
    "answer": _quoted(N_("answer “%(text)s”")),
    "AppealDecided.answer": _quoted(N_("answer to the candidate: “%(text)s”")),
    "choices": _choices,
    "results": _results,
    "validation_code": _said(N_("validation code %(value)s")),
    "due_on": _moment(N_("due on %(time)s"), "day"),
    "items": _count(N_("facts gathered: %(num)s")),
    "recommendation": recommendation_words,
    "verdict": _table(VERDICT_WORDS),
    "reasons": _reasons(N_("reasons: %(reasons)s")),
    "excused": _reasons(N_("excused: %(reasons)s")),
    "overrides": _reasons(N_("decided against: %(reasons)s")),
    "recommendation_version": lambda value, r: r._(
        "on the recommendation of the %(value)s", value=version_words(value, r.lang)
    ),
    "overdue": _either(N_("after its due date"), N_("on time")),
    "outcome": _table(OUTCOME_WORDS),
    "agrees": _either(
        N_("agrees with the first examiner"), N_("disagrees with the first examiner")
    ),
}

# The log's bookkeeping, never a detail.
_HIDDEN = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


def details_words(event: AggregateEvent, reader: Reader) -> str:
    """A fact's details in words, field by field in the log's order (FIELD_WORDS), the
    machine's own left out; a field nobody gave words to yet by `_other`."""
    name = type(event).__name__
    said = []
    for key, value in vars(event).items():
        if key in _HIDDEN:
            continue
        words = FIELD_WORDS.get(f"{name}.{key}") or FIELD_WORDS.get(key)
        text = words(value, reader) if words is not None else _other(key, value, reader)
        if text:
            said.append(text)
    # Markup: the quoted words' isolation kept, every other part escaped as it is joined.
    return Markup(", ").join(said)


def machine_words(event: AggregateEvent) -> str:
    """The fields the words leave out as the machine's own (ids, hashes, references), as the
    log holds them: the cell's title, for the curious (« flag_id=phone-1 »)."""
    return ", ".join(
        f"{key}={_raw(value)}"
        for key, value in vars(event).items()
        if key not in _HIDDEN and FIELD_WORDS.get(key) is _internal and _raw(value)
    )


def _raw(value: Any) -> str:
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return str(value)


def _other(key: str, value: Any, r: Reader) -> str:
    """A field with no words yet (one added to an event later): its name as words and its
    value as a person reads it, nothing of it dropped."""
    shown = _plain(value, r)
    if not key:
        return shown
    return r._("%(name)s: %(value)s", name=key.replace("_", " "), value=shown)


def _plain(value: Any, r: Reader) -> str:
    if isinstance(value, bool):
        return _YES(value, r)
    if isinstance(value, datetime | date):
        return r.time(value)
    if isinstance(value, MediaSpan):
        return span_clock_words(value, r.lang)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, UUID):
        return r.names(value)
    if isinstance(value, float):
        return str(format_decimal(value, locale=r.lang))
    if isinstance(value, tuple | list):
        return ", ".join(_plain(v, r) for v in value)
    return str(value)


# --- a replay's differences -----------------------------------------------------------------

DIFFERENCE_WORDS: dict[Mismatch, str] = {
    Mismatch.VERDICT_FUNCTION_FAILED: N_(
        "The verdict function %(version)s could not be run again on this evidence."
    ),
    Mismatch.RECOMMENDATION: N_(
        "The replayed recommendation differs from the recorded one: recorded %(recorded)s; "
        "replayed %(replayed)s."
    ),
    Mismatch.VERSION_NOT_FROZEN: N_(
        "The recommendation was computed by %(recorded)s, but the rule set frozen in the "
        "session (%(rules)s) names %(named)s."
    ),
    Mismatch.DECISION_VERSION: N_(
        "The decision was taken on recommendation %(named)s, but the log recorded %(recorded)s."
    ),
    Mismatch.UNJUSTIFIED_VALIDATION: N_(
        "Validated although the recommendation has a ground to invalidate (%(reason)s, rule "
        "%(rule)s) and no written justification."
    ),
    Mismatch.EVIDENCE_MISSING: N_("The fact cited as evidence, %(evidence)s, is not in the log."),
    Mismatch.EVIDENCE_CHANGED: N_(
        "The fact cited as evidence, %(evidence)s, differs from the one stored in the log."
    ),
    Mismatch.CITATION_NOT_GATHERED: N_(
        "The reason “%(reason)s” cites facts that were not gathered as evidence: %(evidence_ids)s."
    ),
    Mismatch.APPEAL_VERDICT: N_(
        "The appeal's outcome is “%(outcome)s” but it recorded the verdict “%(verdict)s”."
    ),
    Mismatch.FINAL_VERDICT: N_(
        "The final verdict differs: the appeal gives “%(expected)s”, the review's log "
        "gives “%(folded)s”."
    ),
    Mismatch.APPEAL_FIRST_EXAMINER: N_(
        "The appeal names %(named)s as the first examiner, but the review was decided by "
        "%(decider)s."
    ),
    Mismatch.APPEAL_SAME_EXAMINER: N_("The appeal was not decided by a second examiner."),
    Mismatch.APPEAL_AGREEMENT: N_(
        "The appeal's record of agreeing with the first decision is wrong."
    ),
    Mismatch.OVERTURNED_WITH_GROUNDS: N_(
        "The invalidation was overturned although the replayed recommendation has grounds "
        "to invalidate."
    ),
    Mismatch.UPHELD_WITHOUT_REASON: N_("The invalidation was upheld without a reason."),
}


def difference_words(
    difference: Difference, reader: Reader, evidence: Sequence[Evidence] = ()
) -> str:
    """A replay's difference as a sentence in the reader's language, each fact it names in
    words (a recommendation, a verdict, a reason, an examiner by name, a cited fact by its
    kind and when it happened); `evidence` is the review's, for those moments."""
    moments = fact_moments(evidence)

    def word(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, Recommendation):
            return recommendation_words(value, reader)
        if isinstance(value, Verdict):
            return reader._(VERDICT_WORDS[value])
        if isinstance(value, AppealOutcome):
            return reader._(OUTCOME_WORDS[value])
        if isinstance(value, ReasonCode):
            return reason_words(value, reader.lang)
        if isinstance(value, Evidence):
            at = reader.time(moments.get(value.id, value.at))
            return reader._("“%(text)s”", text=evidence_words(value, reader.lang)) + f" ({at})"
        return _plain(value, reader)

    values = {name: word(value) for name, value in difference.facts.items()}
    return reader._(DIFFERENCE_WORDS[difference.kind], **values)


# --- the media someone looked at ------------------------------------------------------------

SEGMENT_WORDS: dict[type[AggregateEvent], str] = {
    ProctoredSession.SegmentRecorded: N_("Proctoring camera, %(span)s"),
    ProctoredSession.ScreenSegmentRecorded: N_("Shared screen, %(span)s"),
}
LIVE_WORDS = N_("Live, nothing recorded")
UNKNOWN_MEDIA = N_("A media the session's log does not name")


def media_names(history: Iterable[AggregateEvent], lang: str) -> dict[str, str]:
    """Each media of a session, by its reference, named as the review page names it: a photo
    by what it shows, an environment recording by its part (R10), a segment of the exam's
    recording by camera or screen and its span."""
    events = list(history)
    _ = gettext_for(lang)
    names: dict[str, str] = {}
    for ref in session_media(events):
        if ref.kind == "segment":
            continue
        if ref.label in {p.value for p in EnvironmentPart}:
            names[ref.media_id] = _(ENVIRONMENT_WORDS[EnvironmentPart(ref.label)])
        else:
            names[ref.media_id] = _(MEDIA_WORDS.get(ref.label, ref.label))
    for event in events:
        if isinstance(
            event, ProctoredSession.SegmentRecorded | ProctoredSession.ScreenSegmentRecorded
        ):
            span = span_clock_words(event.span, lang)
            names.setdefault(event.media_id, _(SEGMENT_WORDS[type(event)], span=span))
    return names


def viewed_media_words(reference: str, names: Mapping[str, str], live: str, lang: str) -> str:
    """The media a view names, in words (`media_names`); a live view's, or one the log does
    not name (its reference stays in the page's title)."""
    _ = gettext_for(lang)
    if reference == live:
        return _(LIVE_WORDS)
    return names.get(reference) or _(UNKNOWN_MEDIA)
