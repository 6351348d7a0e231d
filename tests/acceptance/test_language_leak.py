"""Issue 13, "How it is shown": no language leaks. Every page rendered in English holds none of
the French catalogue's sentences, and every page rendered in French none of the English
messages whose French differs, over the pages the test client reaches: a visitor's, a
candidate's from the terms to her result, and each role of staff's.

The words people read are compared, not the markup: the page's text and the attributes a
person meets through the screen or a screen reader (alt, title, aria-label, placeholder,
value of buttons). A message is looked for by its longest stretch of plain words (placeholders
and markup cut out), and only when that stretch is long enough to be a sentence of its own
language, not a word both languages share ("Certification", "Mail")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from app.catalogues import merged_catalogue
from app.mail_rendering import SupportContact
from app.outbox import MAIL_NAMESPACE
from app.use_cases import accounts, appeals, portal, proctoring, reviewing
from domain.evidence import FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.acceptance.web import csrf, form_token, log_in
from ui.journey import PARIS, TEN_WORDS, Journey
from ui.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "src" / "ui" / "web" / "locale"
TEMPLATES = ROOT / "src" / "ui" / "web" / "templates"
SECRET = b"l" * 32
PASSWORD = "sans-fuite-1"
SHORTEST = 10  # characters of plain words: shorter stretches are often shared words
STAFF = {
    Role.EXAMINER: "eve@example.org",
    Role.CENTRE: "cyril@example.org",
    Role.SUPPORT: "sam@example.org",
    Role.AUDITOR: "aude@example.org",
}
# What cuts a message into stretches of plain words: placeholders, markup, format fields.
CUTS = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]*>|&\w+;|[\n\t]")
# The older inline pairs, `"…" if lang == "fr" else "…"`, while templates still hold some.
INLINE = [
    re.compile(r'"([^"{}]+)" if lang == "fr" else "([^"{}]+)"'),
    re.compile(r"'([^'{}]+)' if lang == 'fr' else '([^'{}]+)'"),
]


def stretch(message: str) -> str | None:
    """The message's longest stretch of plain words, if long enough to be telling."""
    longest = max((part.strip() for part in CUTS.split(message)), key=len, default="")
    return longest if len(longest) >= SHORTEST and " " in longest else None


def pairs() -> list[tuple[str, str]]:
    """(French, English) for every message people read, from every source of words."""
    found: list[tuple[str, str]] = []
    for message in merged_catalogue([LOCALES], "fr"):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [(fr, en) for fr, en in zip(strings, ids, strict=False)]
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        found += [pair for pattern in INLINE for pair in pattern.findall(text)]
    return found


def needles() -> dict[str, set[str]]:
    """For each page language, the stretches of the other language it must not hold."""
    french = {fr for fr, en in pairs()}
    english = {en for fr, en in pairs()}
    wrong: dict[str, set[str]] = {"en": set(), "fr": set()}
    for fr, en in pairs():
        if fr == en:
            continue
        # A stretch both languages use (a name, a shared sentence) is no leak.
        if (found := stretch(fr)) and not any(found in e for e in english):
            wrong["en"].add(found)
        if (found := stretch(en)) and not any(found in f for f in french):
            wrong["fr"].add(found)
    return wrong


class Words(HTMLParser):
    """The words a person meets on a page: its text and the attributes read out."""

    READ = frozenset({"alt", "title", "aria-label", "placeholder"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if value and (name in self.READ or (name == "value" and tag == "button")):
                self.parts.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        words = cls()
        words.feed(page)
        return " ".join(" ".join(words.parts).split())


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    platform = bootstrap(
        Settings(
            database_url="memory:", media_root=None, secret_key=SECRET.decode(), launcher="memory"
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(31),
    )
    yield platform
    platform.close()


class Tour:
    """A candidate walked from the invitation to her appealed result, and staff of each role,
    each with a test client in one language."""

    def __init__(self, platform: Platform, language: str) -> None:
        self.platform, self.language = platform, language
        self.ctx = platform.ctx
        self.seen: dict[str, str] = {}
        self.staff_emails: dict[Role, str] = {}
        self.clients: dict[str, TestClient[Any]] = {}
        self.explanations: set[str] = set()

    def client(self, who: str) -> TestClient[Any]:
        if who not in self.clients:
            client = TestClient(create_app(self.platform, secret=SECRET, support=SupportContact()))
            client.__enter__()
            if who == "candidate":
                log_in(client, "/login", self.candidate.email, PASSWORD)
            elif who != "visitor":
                log_in(client, "/staff/login", self.staff_emails[Role(who)], PASSWORD)
            client.get(f"/lang/{self.language}")
            self.clients[who] = client
        return self.clients[who]

    def read(self, who: str, *paths: str) -> None:
        for path in paths:
            reply = self.client(who).get(path)
            assert reply.status_code < 500, f"{path}: {reply.status_code}"
            self.seen[f"#{len(self.seen) + 1} {who} {path} ({reply.status_code})"] = Words.of(
                reply.text
            )

    def close(self) -> None:
        for client in self.clients.values():
            client.__exit__(None, None, None)

    def flag(self, session_id: UUID, flag_id: str, second: float) -> None:
        proctoring.raise_flag(
            self.ctx,
            session_id,
            flag_id=flag_id,
            kind=FlagKind.FACE_ABSENT,
            span=MediaSpan(second, second + 5),
            confidence=0.7,
        )

    def walk(self, tag: str) -> dict[str, str]:
        platform, ctx = self.platform, self.ctx
        staff = {
            role: accounts.register_staff(
                ctx, email=f"{tag}.{email}", name="Staff", role=role, password=PASSWORD
            )
            for role, email in STAFF.items()
        }
        self.staff_emails = {role: f"{tag}.{email}" for role, email in STAFF.items()}
        self.candidate = candidate = Journey(
            platform,
            email=f"{tag}.camille@example.org",
            centre_id=uuid5(MAIL_NAMESPACE, f"centre:{staff[Role.CENTRE]}"),
        )
        candidate.enrol()
        platform.settle()
        mailer = platform.mailer
        assert isinstance(mailer, MemoryMailer)
        [invitation] = [m for m in mailer.to(candidate.email) if "/sessions/new?t=" in m.text]
        link = re.search(r"/sessions/new\?t=\S+", invitation.text)
        assert link is not None
        self.read(
            "visitor",
            "/login",
            "/password/forgot",
            "/support",
            "/staff/login",
            "/no-such-page",
            link.group(0),
        )
        candidate.create_session()
        candidate.set_password(PASSWORD)
        platform.settle()
        sid = candidate.session_id
        self.read("candidate", "/terms")
        proctoring.accept_terms(ctx, candidate.candidate_id)  # type: ignore[arg-type]
        self.read("candidate", "/exams")
        candidate.enter()
        self.read("candidate", f"/exams/{sid}")  # instructions
        proctoring.read_instructions(ctx, sid)  # type: ignore[arg-type]
        self.read("candidate", f"/exams/{sid}")  # the designer's rules
        proctoring.attest_designer_rules(ctx, sid)  # type: ignore[arg-type]
        proctoring.acknowledge_secure_mode(ctx, sid)  # type: ignore[arg-type]
        proctoring.attest_general_conditions(ctx, sid)  # type: ignore[arg-type]
        self.read("candidate", f"/exams/{sid}")  # sound
        proctoring.confirm_sound_heard(ctx, sid)  # type: ignore[arg-type]
        self.read("candidate", f"/exams/{sid}", "/equipment")  # microphone
        proctoring.start_microphone_recording(ctx, sid)  # type: ignore[arg-type]
        proctoring.stop_microphone_recording(ctx, sid)  # type: ignore[arg-type]
        proctoring.check_camera(ctx, sid, working=True)  # type: ignore[arg-type]
        proctoring.record_connection_test(
            ctx,
            sid,  # type: ignore[arg-type]
            round_trip_ms=35.0,
            upload_kbps=8000.0,
            passed=True,
        )
        self.read("candidate", f"/exams/{sid}")  # face photo
        candidate.take_photos()
        self.read("candidate", f"/exams/{sid}")  # environment
        attempt_id = candidate.record_environment()
        # A detector's flags, one before « Commencer » and one after: the review has a hint
        # (R20, R21), which the auditor's page read in English with its raw code.
        self.flag(sid, "before", 30.0)  # type: ignore[arg-type]
        self.read("candidate", f"/portal/{attempt_id}")  # profile
        candidate.to_tile()
        self.read("candidate", f"/portal/{attempt_id}")
        portal.start_now(ctx, attempt_id)
        platform.settle()
        self.read("candidate", f"/portal/{attempt_id}")
        portal.begin_exam(ctx, attempt_id)
        self.flag(sid, "after", 90.0)  # type: ignore[arg-type]
        self.read("candidate", f"/portal/{attempt_id}", "/exams")
        portal.finish_exam(ctx, attempt_id)
        self.read("candidate", f"/portal/{attempt_id}")
        code = ctx.store.get(attempt_id, ExamAttempt).validation_code
        portal.validate_exam(ctx, attempt_id, typed_code=code)  # type: ignore[arg-type]
        platform.settle()
        self.read("candidate", f"/portal/{attempt_id}")
        review_id = reviewing.review_id_for(attempt_id)
        self.read("examiner", "/examiner/reviews", f"/examiner/reviews/{review_id}")
        reviewing.assign_examiner(ctx, review_id, staff[Role.EXAMINER])
        self.read("examiner", f"/examiner/reviews/{review_id}")
        launched = next(
            e.id for e in ctx.store.get(review_id, Review).evidence if e.kind == "ExamLaunched"
        )
        reviewing.decide_review(
            ctx,
            review_id,
            examiner_id=staff[Role.EXAMINER],
            verdict=Verdict.INVALIDATED,
            reasons=(CitedReason(ReasonCode.HEADPHONES, (launched,)),),
        )
        self.read("examiner", f"/examiner/reviews/{review_id}")
        reviewing.release_results(ctx, review_id, released_by=staff[Role.EXAMINER])
        platform.settle()
        self.read("candidate", f"/results/{sid}")
        appeals.lodge_appeal(
            ctx,
            review_id,
            candidate_id=candidate.candidate_id,  # type: ignore[arg-type]
            reason=TEN_WORDS,
        )
        platform.settle()
        self.read(
            "candidate",
            f"/results/{sid}",
        )
        self.read("examiner", "/examiner/appeals", f"/examiner/appeals/{review_id}")
        enrolment = candidate.enrollment_id
        self.read(
            "centre",
            "/operator",
            "/operator/reviews",
            f"/operator/enrolments/{enrolment}/accommodation",
            "/operator/integrations",
        )
        centre = self.client("centre")
        report = centre.post(
            "/operator/enrol-csv",
            files={"file": ("e.csv", b"email;surname;first_name\nx;Y;Z\n", "text/csv")},
            data={"_csrf_token": form_token(centre, "/operator")},
            headers=csrf(centre),
        )
        self.seen[f"#{len(self.seen) + 1} centre CSV report ({report.status_code})"] = Words.of(
            report.text
        )
        self.read("support", "/operator", "/operator/mailbox", f"/staff/live/{sid}")
        if self.client("support").get("/hotline").status_code != 404:
            self.read("support", "/hotline")
        self.read("auditor", "/auditor", f"/auditor/reviews/{review_id}")
        recommendation = ctx.store.get(review_id, Review).recommendation
        assert recommendation is not None and recommendation.hints
        self.explanations = {
            f.explanation for f in (*recommendation.grounds, *recommendation.hints)
        }
        return self.seen


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_page_in_one_language_holds_no_sentence_of_the_other(
    platform: Platform, language: str
) -> None:
    tour = Tour(platform, language)
    try:
        seen = tour.walk(language)
    finally:
        tour.close()
    wrong = needles()[language]
    assert len(wrong) > 20, "the catalogues gave too few sentences to look for"
    leaks = [
        f"{page}: « {needle} »"
        for page, words in seen.items()
        for needle in sorted(wrong)
        if needle in words
    ]
    assert len(seen) > 30, sorted(seen)
    assert leaks == [], f"{len(leaks)} leaks into {language} pages:\n" + "\n".join(leaks)
    if language == "fr":
        # The auditor's pages, the whole of them, and the examiner's review page with its
        # full log, whose details read the log's raw fields (« kind=face_absent »,
        # « ended_by=candidate ») until a reviewer's finding.
        audited = {page: words for page, words in seen.items() if " /auditor" in page}
        assert len(audited) == 2, sorted(seen)
        reviewed = {p: words for p, words in seen.items() if " /examiner/reviews/" in p}
        assert len(reviewed) >= 3, sorted(seen)
        codes = [
            f"{page}: {code}"
            for page, words in {**audited, **reviewed}.items()
            for code in codes_in(words)
        ]
        assert codes == [], "\n".join(codes)
        english = [
            f"{page}: « {text} »"
            for page, words in audited.items()
            for text in tour.explanations
            if text in words
        ]
        assert english == [], "\n".join(english)


# Words no page shows: the domain's codes (a reason, a flag's kind, how an exam ended) and
# the replay's verdict in capitals, which the auditor's French page read (« MATCHES — même
# recommandation… », « headphones (Écouteurs ou casque) », « indice R20 webcam_unusable: … »,
# « Examen terminé candidate »).
ENDED_BY = ("candidate", "time_limit", "budget", "midnight")
CODES = re.compile(
    r"(?<![\w-])("
    + "|".join(
        re.escape(code)
        for code in sorted(
            {*ReasonCode, *FlagKind, *ENDED_BY, "MATCHES", "DIFFERS"}, key=len, reverse=True
        )
    )
    + r")(?![\w-])"
)


def codes_in(words: str) -> list[str]:
    """The codes a page's words hold."""
    return CODES.findall(words)
