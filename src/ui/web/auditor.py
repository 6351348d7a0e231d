"""The auditor's pages: decided reviews, a decision replayed from the log (the same report as
`vigie audit replay`), and its evidence bundle to download (`vigie audit verify` checks it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from app.evidence_bundle import build_bundle
from app.evidence_signature import sign_bundle
from app.media_views import staff_name, views_of_session
from app.ports.event_store import AggregateNotFound
from app.replay import replay_reviews
from domain.evidence import EvidenceKind
from domain.media_view import LIVE, ViewedMedia
from domain.review import Review
from domain.staff import Role
from ui.bundle_io import bundle_zip
from ui.web import log_words, review_moments, review_words
from ui.web.edge import context, language_of, platform_of, staff_guard
from ui.web.i18n import N_

# What was looked at, and by whom, in words (the auditor's page of a decision).
VIEW_WORDS = {
    ViewedMedia.PHOTO: N_("a photo"),
    ViewedMedia.RECORDING: N_("an environment recording"),
    ViewedMedia.SEGMENT: N_("the exam's recording (played)"),
    ViewedMedia.STILL: N_("stills of the exam's recording"),
    ViewedMedia.LIVE: N_("the live camera and microphone"),
}
ROLE_WORDS = {
    Role.EXAMINER.value: N_("examiner"),
    Role.SUPPORT.value: N_("hotline"),
    Role.AUDITOR.value: N_("auditor"),
    Role.CENTRE.value: N_("training centre"),
}

# From this many facts, a reason's or a hint's citations are folded under their count
# (« 29 preuves »): a hint listed 29 references in a row.
FOLD_FROM = 4


class AuditorDesk(Controller):
    """The auditor's pages: for the auditor role only."""

    path = "/auditor"
    guards = [staff_guard(Role.AUDITOR)]

    @get("/", sync_to_thread=True)
    def decided_reviews(self, request: Request[Any, Any, Any]) -> Template:
        """Every decided review, newest decision first."""
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        decided = [r for r in platform.projections.reviews.values() if r.verdict is not None]
        decided.sort(key=lambda r: r.opened_at, reverse=True)
        # The final verdict is the appeal's once a second examiner decided it.
        appeals = {
            rid: a for rid, a in platform.projections.appeals.items() if a.verdict is not None
        }
        return Template(
            "auditor_reviews.html",
            context=context(
                request,
                reviews=decided,
                appeals=appeals,
                words=review_words,
                # Streams this process found quarantined (issue 14): reading the log above
                # finds every row that does not decode or was written outside the chain.
                quarantined=platform.store.quarantined(),
            ),
        )

    @get("/reviews/{review_id:uuid}", sync_to_thread=True)
    def replay_page(self, request: Request[Any, Any, Any], review_id: FromPath[UUID]) -> Template:
        """The decision replayed: evidence, recommendation, the first decision, the appeal and
        the final verdict with both examiners' reasons, match or the differences."""
        platform = platform_of(request)
        try:
            (report,) = replay_reviews(platform.store, [review_id])
            review = platform.ctx.store.get(review_id, Review)
        except AggregateNotFound:
            raise NotFoundException() from None
        session_id = review.session_id
        language = language_of(request)
        history = platform.ctx.store.history(session_id)
        # When each fact happened, as the examiner's moments say it (review_words).
        moments = review_words.fact_moments(report.evidence)
        begun = [moments[e.id] for e in report.evidence if e.kind is EvidenceKind.EXAM_BEGUN]
        media_names = log_words.media_names(history, language)
        reader = log_words.reader_of(platform.ctx, language)
        deciders = [report.decision.examiner_id] if report.decision else []
        if report.appeal is not None and report.appeal.examiner_id is not None:
            deciders.append(report.appeal.examiner_id)
        return Template(
            "auditor_replay.html",
            context=context(
                request,
                report=report,
                words=review_words,
                # The page reads labels first (a reviewer's tour: the review was titled by its
                # id, the examiners and each cited fact too): the review by its candidate, its
                # certification and the exam's day; each citation by what the fact is and
                # when, linked to its row of the evidence table, which keeps its reference.
                # The references themselves are gathered in a folded block (traceability).
                candidate=review_words.registered_name(platform.ctx, platform.projections, review),
                exam_day=min(begun) if begun else review.created_on,
                session_id=session_id,
                evidence_by_id={e.id: e for e in report.evidence},
                moments=moments,
                # The evidence table in the order its first column says, when each fact
                # happened (it was by stream: « 15:07:10 Session fermée » before « 14:06:58
                # Onglet d'examen connecté », a tester's tour); a tie keeps the log's order.
                evidence_in_time=sorted(report.evidence, key=lambda e: moments[e.id]),
                fold_from=FOLD_FROM,
                # Each environment recording named by its part, as on the examiner's page (R10).
                parts=review_words.environment_parts(history),
                # The differences in the page's language (the CLI's English in a title).
                differences=[
                    log_words.difference_words(d, reader, report.evidence)
                    for d in report.differences
                ],
                # A fact's note only where someone wrote it, quoted as on the examiner's
                # page (the others are codes or the system's English).
                written=review_moments.written_words,
                # The examiners by name beside their ids: only the id was shown, while the
                # access log below named them (a reviewer's check).
                staff_names={d: staff_name(platform.ctx.store, d) for d in deciders},
                # Who looked at the candidate's images, and when (issue 14).
                views=views_of_session(platform.ctx, platform.projections, session_id),
                view_words=VIEW_WORDS,
                # Each media by its name: the photo, the recording's part (R10), the segment's
                # span, where the table showed its reference.
                media_words=lambda ref: log_words.viewed_media_words(
                    ref, media_names, LIVE, language
                ),
                view_roles=ROLE_WORDS,
            ),
        )

    @get("/reviews/{review_id:uuid}/bundle", sync_to_thread=True)
    def bundle(self, request: Request[Any, Any, Any], review_id: FromPath[UUID]) -> Response[bytes]:
        """The evidence bundle as a zip, signed with the platform's key."""
        platform = platform_of(request)
        try:
            files = sign_bundle(build_bundle(platform.store, review_id), platform.signer)
        except AggregateNotFound:
            raise NotFoundException() from None
        return Response(
            bundle_zip(files),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="evidence-{review_id}.zip"'},
        )


ROUTES = [AuditorDesk]
