"""The examiner's review reads for people (issue 13, item 5; R19, R20): the registered name
beside the photos, the recommendation and its grounds in the page's language, evidence as a
kind and a local time (never a wall of ids), spans as minutes:seconds of the recording, a
confirmation after deciding and releasing, and a reviews list with name, certification, due
date and state."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.privacy import erase_candidate
from app.time_format import TimeFormatter
from domain.evidence import Evidence, EvidenceKind, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import Review
from tests.acceptance.test_live_recording import sent_after_closing_the_proctoring_tab
from tests.acceptance.test_review_page import (
    PASSWORD,
    SECRET,
    platform,  # noqa: F401 (the fixture, shared)
    seal_on,
    sent_with_a_closed_proctoring_tab,
)
from tests.acceptance.web import form_token, log_in
from ui.journey import PARIS, Journey
from ui.web import log_words, review_moments, review_words
from ui.web.app import create_app
from ui.web.i18n import gettext_for


@pytest.fixture
def examiner(platform: Platform) -> Iterator[TestClient[Any]]:  # noqa: F811
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
        yield client


def began(platform: Platform, review: Review, evidence: Evidence) -> str:  # noqa: F811
    """When a fact with a span began, as the page reads it (Paris time): its span's start
    from the session's first entry, where the recorder counts its seconds."""
    entered = next(
        e
        for e in platform.ctx.store.history(review.session_id)
        if isinstance(e, ProctoredSession.SessionEntered)
    )
    assert evidence.span is not None
    at = entered.timestamp + timedelta(seconds=evidence.span.start_s)
    return f"{at.astimezone(PARIS):%H:%M:%S}"


def said(message: str, language: str = "fr") -> str:
    """A message of the examiner's catalogue as the page shows it in that language."""
    return gettext_for(language)(message)


def in_english(client: TestClient[Any]) -> None:
    client.get("/lang/en", follow_redirects=False)


def visible(html: str) -> str:
    """What a reader sees: tags and their attributes (titles included) removed."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def inside(html: str, marker: str, end: str = "</p>") -> str:
    """The text of the first element carrying `marker`, up to `end`, as a reader sees it."""
    return visible(html.split(marker, 1)[1].split(">", 1)[1].split(end, 1)[0])


def post(client: TestClient[Any], page: str, action: str, **fields: str) -> Any:
    data = {"_csrf_token": form_token(client, page), **fields}
    return client.post(f"{page}/{action}", data=data, follow_redirects=False)


@pytest.mark.parametrize(
    ("language", "erased"), [("fr", "personne effacée"), ("en", "erased person")]
)
def test_the_registered_name_is_shown_beside_the_photos_and_an_erased_person_reads_as_such(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    language: str,
    erased: str,
) -> None:
    """R19: « pièce d'identité différente du nom inscrit » can only be judged with the name."""
    journey = sent_with_a_closed_proctoring_tab(platform)
    if language == "en":
        in_english(examiner)
    page = f"/examiner/reviews/{journey.review_id}"
    html = examiner.get(page).text
    photos = html.split('class="cards media"', 1)[0].rsplit('<h2 id="media-title">', 1)[1]
    assert "Camille MARTIN" in photos  # in the photos' own section, above the photos
    assert "Camille MARTIN" in html.split('id="candidate-name"', 1)[1].split("</p>", 1)[0]

    assert journey.candidate_id is not None
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    html = examiner.get(page).text
    assert "Camille" not in html and "MARTIN" not in html
    assert visible(html).count(erased) == 2


def test_the_recommendation_reads_in_french_with_each_ground_explained_and_its_evidence_as_a_kind_and_a_local_time_r17(  # noqa: E501
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    (ground,) = review.recommendation.grounds
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    recommended = inside(html, 'id="recommended"')
    assert "invalidée" in recommended and "invalidated" not in recommended
    shown = inside(html, 'class="ground"', "</li>")
    sentence = said(review_words.GROUND_SENTENCES[ReasonCode.PROCTORING_TAB_CLOSED])
    assert "Onglet e-surveillance fermé" in shown and sentence in shown
    closed = next(e for e in review.evidence if e.id in ground.evidence_ids)
    assert f"Onglet de surveillance fermé {began(platform, review, closed)}" in shown
    for evidence_id in ground.evidence_ids:
        # Kept for the page's script and tests, never read as text nor as a tooltip (a
        # reviewer's tour: hovering a cited fact showed its stream's id).
        assert evidence_id not in visible(html)
        assert f'data-evidence="{evidence_id}"' in html
        assert f'title="{evidence_id}"' not in html


def test_the_recommendation_reads_in_english_with_no_raw_code_r17(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    in_english(examiner)
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    shown = inside(html, 'class="ground"', "</li>")
    sentence = review_words.GROUND_SENTENCES[ReasonCode.PROCTORING_TAB_CLOSED]
    assert "Ground: Proctoring tab closed during the exam." in shown and sentence in shown
    assert "Proctoring tab closed" in shown and "Onglet" not in shown
    assert "R17" not in shown  # the rule stays in the title for the curious
    assert "invalidated" in inside(html, 'id="recommended"')


def test_a_flag_is_a_hint_in_words_and_the_timeline_shows_its_span_in_seconds_not_a_python_object(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    assert "MediaSpan(" not in html
    timeline = html.split('id="timeline"', 1)[1]
    assert "6:40 – 7:00 de l'enregistrement" in visible(timeline)
    # No cell reads as a Python object: evidence, grounds, results are counted or spelled out.
    assert re.findall(r"\b[A-Z][A-Za-z]+\(", visible(timeline)) == []
    shown = visible(html)
    assert "Signalement (téléphone)" in shown and "(6:40 – 7:00 de l'enregistrement)" in shown


@pytest.mark.parametrize(
    ("language", "span", "length"),
    [
        ("fr", "0:11,9 – 0:17,2 de l'enregistrement", "5,3"),
        ("en", "0:11.9 – 0:17.2 into the recording", "5.3"),
    ],
)
def test_a_spans_bounds_and_its_length_are_shown_to_the_same_tenth(
    language: str, span: str, length: str
) -> None:
    """A gap from 11.94 s to 17.24 s read « 11 s – 17 s » beside « not recorded: 5,3 s »:
    its bounds cut to the second, its length rounded to the tenth. Both to the tenth now,
    in the reader's language; a whole second stays whole."""
    assert review_words.span_words(11.94, 17.24, language) == span
    assert review_words.seconds_words(17.24 - 11.94, language) == length
    assert review_words.span_words(400.0, 420.0, language).startswith("6:40 – 7:00 ")
    # The gap's row (playback.html) says its length from Moment.seconds, then rounded to
    # the whole second: « 11,9 s – 17,2 s » beside « not recorded: 5 s ».
    gap = review_moments.Moment(
        key="g",
        kind="gap",
        at=None,
        what="",
        confidence=None,
        start_s=11.94,
        end_s=17.24,
        segment="",
        still="",
        citable=False,
        recommended=frozenset(),
        routine=False,
    )
    assert gap.seconds is not None
    assert review_words.seconds_words(gap.seconds, language) == length


@pytest.mark.parametrize(
    ("seconds", "fr", "en"),
    [
        (0.0, "0:00", "0:00"),
        (0.04, "0:00", "0:00"),  # under half a tenth: nothing to show
        (0.05, "0:00,1", "0:00.1"),  # half a tenth: up
        (9.0, "0:09", "0:09"),
        (59.94, "0:59,9", "0:59.9"),
        (59.96, "1:00", "1:00"),  # rounded up into the next minute
        (1010.0, "16:50", "16:50"),
        (1010.25, "16:50,3", "16:50.3"),  # half up, as the player's script (not to even)
        (1010.35, "16:50,4", "16:50.4"),
        (3599.0, "59:59", "59:59"),
        (3599.9, "59:59,9", "59:59.9"),
        (3599.96, "1:00:00", "1:00:00"),  # rounded up into the first hour
        (3600.0, "1:00:00", "1:00:00"),
        (3600.5, "1:00:00,5", "1:00:00.5"),
        (4140.0, "1:09:00", "1:09:00"),
        (4152.0, "1:09:12", "1:09:12"),
        (36_000.0, "10:00:00", "10:00:00"),
    ],
)
def test_a_position_in_the_recording_reads_as_minutes_and_seconds_hours_past_the_first(
    seconds: float, fr: str, en: str
) -> None:
    """One way to say where in the recording, on every staff page and under the player
    (playback.js mirrors it): the moments read « 1 010 s – 1 026 s », the player « Seconde
    1011 » and the log « de 16:50 à 17:06 » for the same flag (a reviewer's finding)."""
    assert review_words.recording_time(seconds, "fr") == fr
    assert review_words.recording_time(seconds, "en") == en
    assert review_words.position_words(seconds, "fr") == f"{fr} de l'enregistrement"
    assert review_words.position_words(seconds, "en") == f"{en} into the recording"


def test_a_span_of_the_recording_reads_the_same_in_the_moments_and_in_the_log() -> None:
    span = MediaSpan(1010.0, 1026.0)
    for language, said_so in (
        ("fr", "16:50 – 17:06 de l'enregistrement"),
        ("en", "16:50 – 17:06 into the recording"),
    ):
        assert review_words.span_words(span.start_s, span.end_s, language) == said_so
        assert log_words.span_clock_words(span, language) == said_so
    # An instant (a detector's signal) is one position, as the player's caption says it.
    assert review_words.span_words(13.0, 13.0, "fr") == "0:13 de l'enregistrement"
    assert review_words.span_words(13.0, 13.04, "en") == "0:13 into the recording"
    assert review_words.span_words(13.0, 13.1, "en") == "0:13 – 0:13.1 into the recording"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_deciding_and_releasing_each_end_on_a_confirmation_in_the_examiners_language_r19(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    language: str,
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    if language == "en":
        in_english(examiner)
    page = f"/examiner/reviews/{journey.review_id}"
    taken = post(examiner, page, "assign")
    # The page from its top, not the form's #decision-error kept across the redirect.
    assert taken.headers["location"] == f"{page}#main"
    assert 'id="confirmation"' not in examiner.get(page).text
    review = platform.ctx.store.get(journey.review_id, Review)
    closed = next(e.id for e in review.evidence if e.kind is EvidenceKind.PROCTORING_TAB_CLOSED)
    decided = post(
        examiner,
        page,
        "decide",
        verdict="invalidated",
        reason="proctoring_tab_closed",
        seen=seal_on(examiner, page),
        **{"evidence-proctoring_tab_closed": closed},
    )
    assert decided.status_code in (302, 303), decided.text
    html = examiner.get(decided.headers["location"]).text
    confirmation = inside(html, 'id="confirmation"')
    assert said(review_words.CONFIRMATIONS["decided"], language) in confirmation
    decision = inside(html, 'id="decision"', "</ul>")
    assert said(review_words.VERDICT_WORDS[Verdict.INVALIDATED], language) in decision

    released = post(examiner, page, "release")
    html = examiner.get(released.headers["location"]).text
    confirmation = inside(html, 'id="confirmation"')
    assert said(review_words.CONFIRMATIONS["released"], language) in confirmation
    assert platform.ctx.store.get(journey.review_id, Review).released


def test_the_reviews_list_shows_the_name_certification_local_due_date_and_state_in_words_r19(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    review = platform.ctx.store.get(journey.review_id, Review)
    row = visible(examiner.get("/examiner/reviews").text.split("<td", 1)[1])
    # The certification by its title, as every other page names it (its code in a title).
    title = platform.ctx.catalogue.get(review.certification_code).title
    assert "MARTIN Camille" in row and title in row
    assert review.due_on.strftime("%d/%m/%Y") in row
    assert "À prendre : aucun examinateur" in row
    post(examiner, f"/examiner/reviews/{journey.review_id}", "assign")
    in_english(examiner)
    row = visible(examiner.get("/examiner/reviews").text.split("<td", 1)[1])
    assert "Taken by you, to decide" in row and "MARTIN Camille" in row


@pytest.mark.parametrize(
    ("table", "kinds"),
    [
        (review_words.EVIDENCE_WORDS, EvidenceKind),
        (review_words.FLAG_WORDS, FlagKind),
        (review_words.GROUND_SENTENCES, ReasonCode),
        (review_words.REASON_WORDS, ReasonCode),
        (review_words.VERDICT_WORDS, Verdict),
    ],
)
def test_every_kind_of_evidence_flag_reason_and_verdict_has_words(table: Any, kinds: Any) -> None:
    """A kind added to the domain without words would fail the review page."""
    assert set(table) == set(kinds)
    assert all(v.strip() for v in table.values())
    # Each has its French (the catalogue test checks every message; this names the table).
    assert all(said(v) != v or v in {"Session"} for v in table.values())


def test_the_moments_beside_the_player_read_as_local_time_kind_and_confidence_and_fold_the_steps(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    """Issue 13: each row has its local time, its kind in words and its confidence; the steps
    before the exam every session has are folded apart; a row is cited with a tick box
    belonging to the decision form, never with a list of raw labels."""
    journey = Journey(platform)
    review_id = journey.sent_with_a_phone_flag()
    page = f"/examiner/reviews/{review_id}"
    post(examiner, page, "assign")
    html = examiner.get(page).text
    moments = html.split('id="recording-timeline"', 1)[1].split("</ol>", 1)[0]
    flag = visible(moments.split('class="mark flag"', 1)[1].split("</li>", 1)[0])
    review = platform.ctx.store.get(review_id, Review)
    raised = next(e for e in review.evidence if e.flag is FlagKind.PHONE)
    assert f"{began(platform, review, raised)} Signalement (téléphone)" in flag
    assert "6:40 – 7:00 de l'enregistrement" in flag and "confiance 90 %" in flag
    assert f'name="evidence-phone_used" value="{raised.id}" form="decision-form"' in moments
    assert "<select" not in html  # no multi-select of raw labels any more
    steps = html.split('class="routine"', 1)[1]
    assert "Les étapes avant l'examen" in steps and "Caméra vérifiée" in visible(steps)
    assert "Caméra vérifiée" not in visible(moments)


def test_a_cited_fact_reads_at_the_time_its_row_beside_the_player_shows_it(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    """The proctoring tab closed during the exam (R17): the recommendation's evidence said it
    at the time it was recorded (after the recorder's grace), the row beside the player at
    the time it began, 11 s apart for a reviewer: one fact, two times. Now one."""
    journey = Journey(platform)
    (closed,) = sent_after_closing_the_proctoring_tab(journey)
    assert journey.session_id is not None
    anchor = f"m-{closed.originator_id}-{closed.originator_version}"
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    cited = re.search(rf'<a class="evidence" href="#{anchor}"[^>]*>([^<]*)</a>', html)
    row = re.search(rf'<li [^>]*id="{anchor}"[^>]*>.*?<time>([^<]+)</time>', html, re.S)
    assert cited is not None and row is not None, html
    # Both at the time the tab closed, read on the recording: its span's start from the
    # first entry, where the recorder counts its seconds; recorded after the grace.
    entered = next(
        e
        for e in journey.ctx.store.history(journey.session_id)
        if isinstance(e, ProctoredSession.SessionEntered)
    )
    began = entered.timestamp + timedelta(seconds=closed.span.start_s)
    assert f"{closed.timestamp.astimezone(PARIS):%H:%M:%S}" != f"{began.astimezone(PARIS):%H:%M:%S}"
    assert row[1] == f"{began.astimezone(PARIS):%H:%M:%S}", html
    assert row[1] in cited[1], (row[1], cited[1])


@pytest.mark.parametrize(
    ("fields", "french", "english"),
    [
        (
            {"verdict": "invalidated"},
            "Pour invalider, cochez au moins un motif",
            "To invalidate, tick at least one reason",
        ),
        (
            {"verdict": "invalidated", "reason": "other_rule_breach"},
            "« Autre manquement (justification écrite) » ne cite aucun moment",
            "“Other breach (written justification)” cites no moment",
        ),
    ],
    ids=["no-reason", "no-moment"],
)
def test_a_refused_decision_says_what_to_do_in_the_examiners_language_r20(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    fields: dict[str, str],
    french: str,
    english: str,
) -> None:
    """A user's review read « Décision refusée : the reason other_rule_breach must cite at
    least one piece of evidence »: the domain's English and its code. One sentence in the
    examiner's language, the reason in words; nothing recorded."""
    journey = sent_with_a_closed_proctoring_tab(platform)
    page = f"/examiner/reviews/{journey.review_id}"
    post(examiner, page, "assign")
    for language, sentence in (("fr", french), ("en", english)):
        if language == "en":
            in_english(examiner)
        refused = post(examiner, page, "decide", seen=seal_on(examiner, page), **fields)
        assert refused.status_code == 409
        shown = visible(inside(refused.text, 'id="decision-error"', "</div>"))
        assert sentence in shown, shown
        assert "other_rule_breach" not in shown and "must cite" not in shown
        assert "an invalidation needs" not in shown
        # What was ticked stays ticked (a refusal cleared the verdict and the reasons).
        assert re.search(r'value="invalidated"[^>]* checked', refused.text)
        for code in [fields["reason"]] if "reason" in fields else []:
            assert re.search(rf'name="reason" value="{code}"[^>]* checked', refused.text)
    assert platform.ctx.store.get(journey.review_id, Review).verdict is None


def test_a_refused_decision_keeps_the_moments_cited_and_the_words_written_r20(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    """Another breach cited with a moment, its justification too short: refused, and the
    moment, the reason and the words are all there to complete, not to redo."""
    journey = sent_with_a_closed_proctoring_tab(platform)
    page = f"/examiner/reviews/{journey.review_id}"
    post(examiner, page, "assign")
    review = platform.ctx.store.get(journey.review_id, Review)
    closed = next(e.id for e in review.evidence if e.kind is EvidenceKind.PROCTORING_TAB_CLOSED)
    fields = {
        "verdict": "invalidated",
        "reason": "other_rule_breach",
        "evidence-other_rule_breach": closed,
        "justification-other_rule_breach": "trop court",
    }
    refused = post(examiner, page, "decide", seen=seal_on(examiner, page), **fields)
    assert refused.status_code == 409
    shown = visible(inside(refused.text, 'id="decision-error"', "</div>"))
    assert "demande une justification écrite d'au moins 5 mots" in shown, shown
    cite = re.search(
        rf'<input type="checkbox" name="evidence-other_rule_breach" value="{re.escape(closed)}"'
        r"[^>]*>",
        refused.text,
    )
    assert cite is not None and " checked" in cite[0]
    assert re.search(r'name="justification-other_rule_breach"[^>]*value="trop court"', refused.text)
    # The moments the recommendation suggested and the examiner did not send stay unticked.
    assert not re.search(
        r'name="evidence-proctoring_tab_closed" value="[^"]+"[^>]* checked', refused.text
    )


def test_the_full_journal_names_every_fact_in_the_examiners_language(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
) -> None:
    """The journal read « InstructionsRead », « AnswerGiven », « ReviewDecided » on a French
    page (a reviewer's finding): every fact of the log has words (its class name stays in
    the cell's title, for the curious)."""
    journey = Journey(platform)
    journey.sent_for_review()
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    journal = visible(html.split('id="ev-', 1)[1])
    for said in ("Instructions lues", "Réponse donnée", "Contrôle ouvert", "Son entendu"):
        assert said in journal, said
    names = set(review_words.FACT_WORDS) | {k.value for k in review_words.EVIDENCE_WORDS}
    assert not [n for n in names if re.search(rf"\b{n}\b", journal)]


@pytest.mark.parametrize(
    ("language", "flag", "span", "confidence", "ended"),
    [
        (
            "fr",
            "téléphone",
            "6:40 – 7:00 de l'enregistrement",
            "confiance 90 %",
            "terminé par le candidat",
        ),
        (
            "en",
            "phone",
            "6:40 – 7:00 into the recording",
            "confidence 90%",
            "ended by the candidate",
        ),
    ],
)
def test_the_full_journal_says_each_facts_details_in_words_never_its_raw_fields(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    language: str,
    flag: str,
    span: str,
    confidence: str,
    ended: str,
) -> None:
    """The journal's details read « kind=phone, span=400 s – 420 s », « ended_by=candidate »
    in both languages (a reviewer's finding): each field now in words (the flag's kind as the
    page labels it elsewhere, the span as the recording's times, who ended the exam), the
    machine's own (ids, hashes, references) only in the cell's title."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    if language == "en":
        in_english(examiner)
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    rows = html.split('id="timeline"', 1)[1].split("</tbody>", 1)[0].split("<tr")[2:]
    cells = [
        (row.split("</td>")[2], row.split('class="details"')[1].split(">", 1)[1]) for row in rows
    ]
    details = {visible(fact).strip(): visible(words).strip() for fact, words in cells}
    flagged = details[said(review_words.EVIDENCE_WORDS[EvidenceKind.FLAG_RAISED], language)]
    assert flagged == f"{flag}, {span}, {confidence}"
    finished = details[said(review_words.EVIDENCE_WORDS[EvidenceKind.EXAM_FINISHED], language)]
    assert finished.startswith(ended + ", ")
    # No cell says a field of the log by its name, its code or an id.
    raw = re.compile(r"\w=|\b(kind|span|ended_by|flag_id|media_id|sha256)\b")
    assert not [d for d in details.values() if raw.search(d)], details
    review = platform.ctx.store.get(journey.review_id, Review)
    assert not [d for d in details.values() if str(review.session_id) in d]
    # The machine's own fields stay for the curious, in the cell's title.
    assert 'class="details" title="flag_id=phone-1">' in html


def test_a_field_with_no_words_yet_still_reads_as_words_and_loses_nothing() -> None:
    """A field added to an event later, before anyone gives it words: its name as words and
    its value as a person reads it (a yes, a local time), not « field_name=True »."""

    class DeskInspected(ProctoredSession.Event):
        desk_colour: str
        items_seen: int
        cleared: bool

    event = DeskInspected(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime(2025, 1, 27, 9, 0, tzinfo=UTC),
        desk_colour="brun",
        items_seen=2,
        cleared=True,
    )
    reader = log_words.Reader("fr", TimeFormatter())
    assert log_words.details_words(event, reader) == (
        "desk colour : brun, items seen : 2, cleared : oui"
    )
    english = log_words.Reader("en", TimeFormatter())
    assert log_words.details_words(event, english) == (
        "desk colour: brun, items seen: 2, cleared: yes"
    )


@pytest.mark.parametrize(
    ("language", "button", "lost"),
    [
        ("fr", "Reprendre l'examen", "l'onglet d'examen ne répondait plus"),
        ("en", "Resume the exam", "the exam tab stopped answering"),
    ],
)
def test_the_journal_says_the_entry_button_and_a_lost_exam_tab_in_the_readers_language(
    language: str, button: str, lost: str
) -> None:
    """The English journal read « button “Examen” » (the session keeps the guide's French
    label) and the French one « motif : « the workspace stopped answering » » (the platform's
    English, quoted as if someone wrote it): both now in the reader's language; what the
    candidate wrote stays as she wrote it."""
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    reader = log_words.Reader(language, TimeFormatter())
    first = ProctoredSession.SessionEntered(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=at,
        entry_number=1,
        label="Examen",
        resume_reason="",
    )
    again = ProctoredSession.SessionEntered(
        originator_id=uuid4(),
        originator_version=9,
        timestamp=at,
        entry_number=2,
        label="Reprendre l'examen",
        resume_reason="écran bloqué, je reprends mon examen après la procédure",
    )
    _ = gettext_for(language)
    assert html.unescape(log_words.details_words(first, reader)) == (
        f"{_('entry %(value)s', value=1)}, {_('button “%(value)s”', value=_('Exam'))}"
    )
    # HTML: what the page writes, its quote isolated from the journal's words (F9).
    assert html.unescape(log_words.details_words(again, reader)) == ", ".join(
        (
            _("entry %(value)s", value=2),
            _("button “%(value)s”", value=button),
            _("reason: “%(text)s”", text=f"<bdi>{again.resume_reason}</bdi>"),
        )
    )
    gone = ExamAttempt.WorkspaceLost(
        originator_id=uuid4(),
        originator_version=5,
        timestamp=at,
        workspace_ref="ws-1",
        reason="the workspace stopped answering",
    )
    assert html.unescape(log_words.details_words(gone, reader)) == lost
    # A reason the platform does not write reads as it is, quoted.
    other = ExamAttempt.WorkspaceLost(
        originator_id=uuid4(),
        originator_version=5,
        timestamp=at,
        workspace_ref="ws-1",
        reason="la machine a redémarré",
    )
    assert "la machine a redémarré" in log_words.details_words(other, reader)


@pytest.mark.parametrize(
    ("language", "note", "refusal"),
    [
        (
            "fr",
            "Pour invalider sur ce motif, cochez « Onglet e-surveillance fermé » dans « Motifs "
            "d'invalidation » : la recommandation cite ses moments, mais ne coche jamais un "
            "motif à votre place.",
            "Pour invalider, cochez au moins un motif : celui de la recommandation est "
            "« Onglet e-surveillance fermé », ses moments déjà cités. Rien n'a été enregistré.",
        ),
        (
            "en",
            "To invalidate on this ground, tick “Proctoring tab closed during the exam” in "
            "“Reasons to invalidate”: the recommendation cites its moments, but never ticks a "
            "reason for you.",
            "To invalidate, tick at least one reason: the recommendation's is “Proctoring tab "
            "closed during the exam”, its moments already cited. Nothing was recorded.",
        ),
    ],
)
def test_the_recommended_ground_is_said_to_be_the_examiners_to_tick_before_and_after_a_refusal_r20(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    language: str,
    note: str,
    refusal: str,
) -> None:
    """The recommendation « invalidée » on « Onglet e-surveillance fermé », its moments cited,
    its reason left unticked on purpose (the examiner decides, R19): « Invalidée » alone was
    refused « Pour invalider, cochez au moins un motif… » above the form, the recommended
    reason unnamed (a user's tour). The page says it beside the recommendation first, and a
    refusal stands beside the reasons, naming the recommended one."""
    journey = sent_with_a_closed_proctoring_tab(platform)
    page = f"/examiner/reviews/{journey.review_id}"
    if language == "en":
        in_english(examiner)
    assert 'id="tick-to-invalidate"' not in examiner.get(page).text  # not taken: no form
    post(examiner, page, "assign")
    html = examiner.get(page).text
    card = html.split('id="rec-title"', 1)[1].split("</section>", 1)[0]
    said = visible(inside(card, 'id="tick-to-invalidate"')).replace("\N{NO-BREAK SPACE}", " ")
    assert said.strip() == note
    assert not re.search(r'name="reason" value="proctoring_tab_closed"[^>]* checked', html)

    refused = post(examiner, page, "decide", seen=seal_on(examiner, page), verdict="invalidated")
    assert refused.status_code == 409
    assert refused.text.count('id="decision-error"') == 1
    reasons = refused.text.split('<fieldset id="reasons"', 1)[1].split("</fieldset>", 1)[0]
    shown = visible(inside(reasons, 'id="problem-reasons"'))  # beside the reasons
    assert shown.replace("\N{NO-BREAK SPACE}", " ").strip() == refusal
    assert platform.ctx.store.get(journey.review_id, Review).verdict is None

    # Ticked, with the moments the page cites: recorded.
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    (ground,) = review.recommendation.grounds
    done = post(
        examiner,
        page,
        "decide",
        seen=seal_on(examiner, page),
        verdict="invalidated",
        reason="proctoring_tab_closed",
        **{"evidence-proctoring_tab_closed": ground.evidence_ids[0]},
    )
    assert done.status_code in (302, 303), done.text
    assert platform.ctx.store.get(journey.review_id, Review).verdict is Verdict.INVALIDATED


@pytest.mark.parametrize(
    ("language", "interruption", "fact", "lost"),
    [
        (
            "fr",
            "Onglet d'examen quitté avec « Quitter cet onglet » : un choix du candidat",
            "Onglet d'examen quitté par le candidat (« Quitter cet onglet »)",
            "Onglet d'examen perdu",
        ),
        (
            "en",
            "Exam tab left with “Leave this tab”: the candidate's own choice",
            "Exam tab left by the candidate (“Leave this tab”)",
            "Exam tab lost",
        ),
    ],
)
def test_leaving_the_exam_tab_with_quitter_reads_as_her_choice_not_a_lost_tab_r23(
    platform: Platform,  # noqa: F811
    examiner: TestClient[Any],
    language: str,
    interruption: str,
    fact: str,
    lost: str,
) -> None:
    """« Quitter » in the exam tab, then the exam reopened and sent: the examiner reads an
    interruption the guide allows, in her language, never « Onglet d'examen perdu » (a user's
    tour), and the recommendation stays « validée »."""
    from app.use_cases import portal

    journey = Journey(platform)
    attempt_id = journey.in_exam()
    journey.clock.advance(minutes=5)
    portal.leave_workspace(platform.ctx, attempt_id)
    journey.clock.advance(minutes=1)
    portal.reopen_workspace(platform.ctx, attempt_id)
    platform.settle()
    journey.answer_and_send()
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.VALIDATED
    if language == "en":
        in_english(examiner)
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    shown = inside(html, 'id="interruptions"', "</ul>")
    assert interruption in shown  # (visible() reads a no-break space as a space)
    assert fact in visible(html)
    assert lost not in visible(html)
    assert "R23" not in shown  # the rule stays in the title for the curious
