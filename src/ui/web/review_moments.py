"""The rows beside the examiner's player (issue 13): every mark of the recording (segments,
gaps, flags, the proctoring tab closed) and every other fact of the review, in time order,
each in words with its local time, its confidence, a still of the recording at that second,
and the reasons the recommendation cites it for. The examiner ticks rows per reason; what
the server receives stays the domain's own: evidence ids per reason (R20)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventsourcing.domain import AggregateEvent

from app.recording import MarkKind, RecordingView, TimelineMark
from domain.evidence import Evidence, EvidenceKind, ReasonCode
from domain.proctored_session import ProctoredSession
from domain.review import Review
from ui.web import review_words
from ui.web.i18n import N_, gettext_for

# Facts every session has (the steps before the exam): listed apart, folded, unless the
# recommendation cites them.
ROUTINE = frozenset(
    {
        EvidenceKind.SESSION_OPENED,
        EvidenceKind.SESSION_ENTERED,
        EvidenceKind.CAMERA_CHECKED,
        EvidenceKind.CONNECTION_TESTED,
        EvidenceKind.FACE_PHOTO_CONFIRMED,
        EvidenceKind.ID_PHOTO_CONFIRMED,
        EvidenceKind.ENVIRONMENT_RECORDING_STOPPED,
        EvidenceKind.WORKSPACE_CONNECTED,
        EvidenceKind.SESSION_CLOSED,
    }
)

MARK_WORDS: dict[MarkKind, str] = {
    MarkKind.SEGMENT: N_("Recording"),
    MarkKind.GAP: N_("Gap in the recording"),
}


@dataclass(frozen=True)
class Moment:
    """One row: what happened, when, and where in the recording."""

    key: str  # the evidence id (or the mark's event) — unique in the list
    kind: str  # segment | gap | flag | tab_closed | fact (the row's CSS class)
    at: datetime | None
    what: str  # in the page's language
    confidence: int | None  # percent
    start_s: float | None
    end_s: float | None
    segment: str  # the segment's media id (segment rows: the player's sources)
    still: str  # the thumbnail's URL, or ""
    citable: bool
    recommended: frozenset[ReasonCode]
    routine: bool

    @property
    def seconds(self) -> float | None:
        """How long the span lasts, to the tenth of a second as its bounds are shown
        (review_words.span_words): « 0:11,9 – 0:17,2 » beside « 5,3 s », not « 5 s »."""
        if self.start_s is None or self.end_s is None:
            return None
        return round(self.end_s - self.start_s, 1)


def moments(
    review: Review, recording: RecordingView, history: Sequence[AggregateEvent], lang: str
) -> list[Moment]:
    """The rows, in time order (a fact outside the recording where its time puts it)."""
    when = {f"{e.originator_id}/{e.originator_version}": e.timestamp for e in history}
    evidence = {e.id: e for e in review.evidence}
    cited: dict[str, set[ReasonCode]] = {}
    if review.recommendation is not None:
        for ground in review.recommendation.grounds:
            for evidence_id in ground.evidence_ids:
                cited.setdefault(evidence_id, set()).add(ground.reason)
    mentioned = _mentioned(review)
    origin = _origin(history)
    parts = review_words.environment_parts(history)
    rows: list[Moment] = []
    pieces: dict[str, int] = {}
    for mark in recording.marks:
        # A gap a late segment split shows as two rows of one fact (app.recording): the
        # first is the fact's (cited by its id), the next ones keys of their own.
        piece = pieces[mark.evidence_id] = pieces.get(mark.evidence_id, -1) + 1
        found = evidence.get(mark.evidence_id) if piece == 0 else None
        rows.append(
            Moment(
                key=mark.evidence_id if piece == 0 else f"{mark.evidence_id}~{piece}",
                kind=mark.kind.value,
                at=_at(origin, mark.span.start_s) or when.get(mark.evidence_id),
                what=_mark_words(mark, found, lang),
                confidence=_percent(mark.confidence),
                start_s=mark.span.start_s,
                end_s=mark.span.end_s,
                segment=mark.media_id,
                still=_still(recording, mark.span.start_s) if mark.kind is not MarkKind.GAP else "",
                citable=found is not None,
                recommended=frozenset(cited.get(mark.evidence_id, ())),
                routine=False,
            )
        )
    shown = {m.key for m in rows}
    for item in review.evidence:
        if item.id in shown:
            continue
        start = item.span.start_s if item.span else None
        rows.append(
            Moment(
                key=item.id,
                kind="flag" if item.flag is not None else "fact",
                at=item.at,
                what=review_words.evidence_words(item, lang, parts.get(item.id))
                + written_words(item, lang),
                confidence=_percent(item.confidence),
                start_s=start,
                end_s=item.span.end_s if item.span else None,
                segment="",
                still=(
                    _still(recording, start)
                    if start is not None
                    else _still_at(recording, origin, item.at)
                ),
                citable=True,
                recommended=frozenset(cited.get(item.id, ())),
                routine=_routine(item, mentioned),
            )
        )
    rows.sort(key=lambda m: (m.at is None, m.at or datetime.min, m.kind != "segment"))
    return rows


def _routine(item: Evidence, mentioned: set[str]) -> bool:
    """A fact every session has, folded under the steps before the exam. A return with its
    reason to resume (R6) is not one: it was folded there though given during the exam,
    right after the interruption it explains (a reviewer's tour); it shows where it
    happened, among the exam's moments."""
    if item.id in mentioned or item.kind not in ROUTINE:
        return False
    return not (item.kind is EvidenceKind.SESSION_ENTERED and item.note.strip())


def moment_times(rows: Iterable[Moment]) -> dict[str, datetime]:
    """Each fact's time as its row beside the player shows it (the moment it began, read on
    the recording), for the lists that cite it: the evidence's own time is when it was
    recorded, seconds later for a gap (its grace) or a detector's flag (its sampling), and
    the same fact read at two times could not be matched up."""
    return {m.key: m.at for m in rows if m.at is not None}


def session_day(history: Sequence[AggregateEvent]) -> datetime | None:
    """The session's day (its first entry): its timeline's times are shown without their
    date on that day, with it on another (a hotline note of the next morning)."""
    return _origin(history)


def _origin(history: Sequence[AggregateEvent]) -> datetime | None:
    """The wall time of the recording's second 0: the session's first entry, from which the
    recorder counts every span (app.live_recording.media_origin). (It was read off a
    segment's event, recorded as the segment ends, less its end second: none without a
    segment, and a fact then read at the time it was recorded, not the time it began.)"""
    for event in history:
        if isinstance(event, ProctoredSession.SessionEntered):
            return event.timestamp
    return None


def _at(origin: datetime | None, second: float) -> datetime | None:
    return None if origin is None else origin + timedelta(seconds=second)


def _mentioned(review: Review) -> set[str]:
    """Evidence the recommendation names: never folded away."""
    rec = review.recommendation
    if rec is None:
        return set()
    cited = [f.evidence_ids for f in (*rec.grounds, *rec.hints)]
    cited += [i.evidence_ids for i in rec.interruptions]
    return {evidence_id for ids in cited for evidence_id in ids}


def _mark_words(mark: TimelineMark, found: Evidence | None, lang: str) -> str:
    _ = gettext_for(lang)
    if mark.kind in MARK_WORDS:
        return _(MARK_WORDS[mark.kind])
    if found is not None:
        return review_words.evidence_words(found, lang)
    return _(review_words.EVIDENCE_WORDS[EvidenceKind.PROCTORING_TAB_CLOSED])


def _percent(confidence: float | None) -> int | None:
    return None if confidence is None else round(confidence * 100)


def _still(recording: RecordingView, second: float) -> str:
    """The still's URL: the segment holding that second (the next one after a gap)."""
    for segment in recording.segments:
        if second <= segment.span.end_s:
            offset = max(0.0, second - segment.span.start_s)
            return f"/media/sessions/{segment.media_id}/still/{round(offset * 1000)}"
    return ""


def _still_at(recording: RecordingView, origin: datetime | None, at: datetime | None) -> str:
    """A fact's still, at its time, only where the camera was recording then: a photo
    taken, a step passed, the exam begun showed an empty frame beside the recording of that
    very second (a reviewer's tour). Never the next segment's picture after a gap: that
    would show another moment as this one."""
    if origin is None or at is None:
        return ""
    second = (at - origin).total_seconds()
    for segment in recording.segments:
        if segment.span.start_s <= second <= segment.span.end_s:
            return _still(recording, second)
    return ""


# Facts whose words someone wrote for the examiner: the hotline's account of a technical
# problem, the candidate's reason to resume, the reason a photo was waived. The row read
# « Problème technique » alone, the text only in the raw journal beside a staff id (a
# reviewer's check), though a phone's use is excused on it (R20).
_WRITTEN = frozenset(
    {
        EvidenceKind.TECHNICAL_PROBLEM_RECORDED,
        EvidenceKind.SESSION_ENTERED,
        EvidenceKind.PHOTO_WAIVED,
    }
)
WRITTEN_CHARS = 300  # the row's share; the whole text stays in the log and the journal


def written_words(item: Evidence, lang: str) -> str:
    """What someone wrote about the fact, quoted in the page's language (« — « … » » in
    French, “ — “…” ” in English), or "" for a fact whose note is a code or the system's
    own English (the auditor's table showed « candidate »)."""
    if item.kind not in _WRITTEN or not item.note.strip():
        return ""
    text = item.note
    if item.kind is EvidenceKind.PHOTO_WAIVED and item.waived_step is not None:
        text = text.removeprefix(f"{item.waived_step.value}: ")
    text = " ".join(text.split())
    if len(text) > WRITTEN_CHARS:
        text = text[: WRITTEN_CHARS - 1].rstrip() + "…"
    return " — " + gettext_for(lang)("“%(text)s”", text=text)
