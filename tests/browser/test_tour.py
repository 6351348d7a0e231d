"""Issue 13, "How it is shown": the visual tour. Every screen of the product, in French and in
English, at 1440 px (desktop) and 360 px (phone), a sample also at 720 px (what 200 % zoom of a
1440 px window leaves), each saved as a screenshot into test-artifacts/tour/ and gathered in
test-artifacts/tour/index.html.

On every shot the tour checks what a person would meet: no horizontal overflow (the page is no
wider than the window), no serious or critical axe-core violation, no console error nor broken
asset. The test fails with the whole list, screen by screen, after writing the gallery, so one
run shows every problem at once.

One served app holds every state: a candidate (Camille) walked from the invitation to her
result, the server moving her on between two screens as the use cases do; a second candidate
(Léa) sent for review with a recording cut in two, for the examiner's review and its playback;
and a member of staff for each role (examiner, centre, support, auditor), each in a browser
context of their own."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest

from adapters.bootstrap import Platform
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from app import integrations
from app.outbox import MAIL_NAMESPACE
from app.use_cases import accounts, appeals, portal, proctoring, reviewing
from domain.evidence import FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.integrations import Scope, WebhookEvent
from domain.internal_network import AllowedNetworks
from domain.proctored_session import EnvironmentPart
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.browser.conftest import (
    BROKEN,
    Server,
    _free_port,
    platform_on_disk,
    serious_violations,
    serve,
    wait_until,
)
from tests.browser.gallery import Gallery, Shot
from tests.browser.test_playback import record_with_a_cut
from ui import journey as journey_module
from ui.journey import TEN_WORDS, Journey
from vigie_contracts.samples import ebml_sample

LANGUAGES = ("fr", "en")
DESKTOP, PHONE, ZOOMED = 1440, 360, 720  # 720 px: a 1440 px window at 200 % zoom
HEIGHT = 900
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
PASSWORD = "tour-du-produit-1"
STAFF = {
    Role.EXAMINER: "eve.examinatrice@example.org",
    Role.CENTRE: "cyril.centre@example.org",
    Role.SUPPORT: "sam.hotline@example.org",
    Role.AUDITOR: "aude.auditrice@example.org",
}
CSV = (
    "email;surname;first_name;certification_code\n"
    "jeanne.csv@example.org;Csv;Jeanne;ENI-ACCESS\n"
    "pas-une-adresse;Faux;Paul;ENI-ACCESS\n"
)


@dataclass(frozen=True)
class Screen:
    """A screen of the tour: who sees it, and how their page gets there (a visit, or a few
    clicks for a screen that answers a form)."""

    name: str
    title: str
    who: str  # "visitor", "candidate", a Role's value, or "exam" (the exam tab)
    go: Callable[[Any], None]
    zoom: bool = False  # also shot at 720 px


def photo(browser: Any, label: str) -> bytes:
    """A real JPEG (a face's silhouette and a label) drawn by Chromium, as a webcam gives:
    the examiner's page shows it, where the journey's few-byte samples would be broken."""
    page = browser.new_page()
    try:
        data_url: str = page.evaluate(
            """label => {
                const c = document.createElement('canvas');
                c.width = 320; c.height = 240;
                const g = c.getContext('2d');
                g.fillStyle = '#dfe6ee'; g.fillRect(0, 0, 320, 240);
                g.fillStyle = '#8a6d5a';
                g.beginPath(); g.arc(160, 100, 55, 0, 2 * Math.PI); g.fill();
                g.fillRect(85, 165, 150, 75);
                g.fillStyle = '#1b1f24'; g.font = '20px sans-serif'; g.fillText(label, 12, 28);
                return c.toDataURL('image/jpeg', 0.8);
            }""",
            label,
        )
    finally:
        page.close()
    return base64.b64decode(data_url.split(",", 1)[1])


@pytest.fixture
def tour_server(tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    Cast.face, Cast.id_card = photo(browser, "Face"), photo(browser, "ID card")
    # Léa's journey takes its photos from these (src/ui/journey.py).
    monkeypatch.setattr(journey_module, "FACE_PHOTO", Cast.face)
    monkeypatch.setattr(journey_module, "ID_PHOTO", Cast.id_card)
    port = _free_port()
    platform = platform_on_disk(
        tmp_path,
        port,
        webhook_allowed_networks=AllowedNetworks.parse("127.0.0.0/8"),  # its webhook's
        ids=SeededIds(13),
    )
    live_root = tmp_path / "media" / "live"
    Cast.reviewed = sent_with_a_recording(platform, live_root)
    yield from serve(platform, port, live_media_root=live_root)
    platform.close()


class Cast:
    """The people of the tour and what the server knows of them."""

    reviewed: Journey
    face: bytes
    id_card: bytes


def sent_with_a_recording(platform: Platform, live_root: Path) -> Journey:
    """Léa: sent for review with 12 s of recording cut in two and a phone flag (the review
    page's player, gap and flag list)."""
    lea = Journey(platform, email="lea.revue@example.org")
    lea.in_exam()
    record_with_a_cut(lea, live_root)
    assert lea.session_id is not None
    proctoring.raise_flag(
        lea.ctx,
        lea.session_id,
        flag_id="phone-1",
        kind=FlagKind.PHONE,
        span=MediaSpan(8.0, 10.0),
        confidence=0.9,
    )
    lea.answer_and_send()
    return lea


def visit(path: str, until: str = "load") -> Callable[[Any], None]:
    def go(page: Any) -> None:
        page.goto(page.context.vigie_url + path, wait_until=until)

    return go


def log_in(page: Any, url: str, form: str, email: str) -> None:
    page.goto(url + form)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator(f"form[action='{form}'] button[type=submit]").click()
    page.wait_for_load_state()


def speak(page: Any, lang: str) -> None:
    """Choose the language as a person does (R25): the session remembers it."""
    if getattr(page.context, "vigie_lang", None) != lang:
        page.goto(f"{page.context.vigie_url}/lang/{lang}")
        page.context.vigie_lang = lang


def look_at(page: Any, gallery: Gallery, screen: Screen) -> None:
    """Every language and width of one screen: shoot it and note what is wrong."""
    for lang in sorted(LANGUAGES, key=lambda lang: lang != page.context.vigie_lang):
        if screen.who != "exam":
            speak(page, lang)
        page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})
        screen.go(page)
        widths = (DESKTOP, PHONE, ZOOMED) if screen.zoom and lang == "fr" else (DESKTOP, PHONE)
        for width in widths:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate(SETTLED)  # layout and media queries follow the new width
            path = gallery.path_for(screen.name, lang, width)
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            checked = overflow(page, width) + broken_images(page)
            # axe-core at the two widths people use; 720 px is the zoom's overflow check.
            if width != ZOOMED:
                checked += serious_violations(page)
            problems = checked + BROKEN.take()
            gallery.add(Shot(screen.name, screen.title, lang, width, path.name, tuple(problems)))


def broken_images(page: Any) -> list[str]:
    """Images the browser loaded but could not show (answered 200 with what is no image)."""
    found: list[str] = page.evaluate(
        """() => [...document.images]
            .filter(i => i.complete && i.naturalWidth === 0 && i.getAttribute('src'))
            .map(i => 'broken image: ' + (i.alt || i.getAttribute('src')))"""
    )
    return found


def overflow(page: Any, width: int) -> list[str]:
    """The page wider than the window, or content cut off at its edge: what sticks out,
    unless it is inside a box of its own that scrolls (a table in `.table-scroll`). base's
    `overflow-x: clip` hides the document's scroll bar, not the content a person cannot reach,
    so the elements are measured, not only the document."""
    wide = page.evaluate(
        """() => {
            const root = document.documentElement, edge = root.clientWidth;
            const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
            const contained = e => {
                for (let up = e.parentElement; up && up !== document.body; up = up.parentElement)
                    if (scrolls(up)) return true;
                return false;
            };
            const out = [...document.body.querySelectorAll('*')].filter(e => {
                const r = e.getBoundingClientRect();
                return r.width > 1 && r.height > 1 && (r.right > edge + 1 || r.left < -1)
                    && getComputedStyle(e).visibility !== 'hidden' && !contained(e);
            });
            if (root.scrollWidth <= edge && out.length === 0) return null;
            const widest = Math.max(root.scrollWidth,
                ...out.map(e => Math.ceil(e.getBoundingClientRect().right)));
            const named = out.slice(0, 3).map(e => e.tagName.toLowerCase()
                + (e.id ? '#' + e.id : '')
                + (typeof e.className === 'string' && e.className.trim()
                   ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
            return {widest, named};
        }"""
    )
    if wide is None:
        return []
    return [
        f"horizontal overflow at {width} px: content reaches {wide['widest']} px "
        f"({', '.join(wide['named'])})"
    ]


def test_the_tour_of_every_screen_in_both_languages_at_desktop_and_phone_width(
    tour_server: Server, browser: Any
) -> None:
    server, platform = tour_server, tour_server.platform
    ctx = platform.ctx
    started = time.monotonic()
    staff = {
        role: accounts.register_staff(
            ctx, email=email, name=f"{role.value.title()} Tour", role=role, password=PASSWORD
        )
        for role, email in STAFF.items()
    }
    camille = Journey(
        platform,
        email="camille.tour@example.org",
        centre_id=uuid5(MAIL_NAMESPACE, f"centre:{staff[Role.CENTRE]}"),
    )
    camille.enrol()
    # The centre's machine access (issue 16): a token, and a webhook its events go to.
    integrations.issue_token(ctx, staff[Role.CENTRE], name="Moodle", scopes=tuple(Scope))
    integrations.subscribe_webhook(
        ctx,
        staff[Role.CENTRE],
        platform.webhook_key,
        url="http://127.0.0.1:9/vigie/webhooks",  # nothing listens: the log shows retries
        events=tuple(WebhookEvent),
    )
    platform.settle()
    invitation = invitation_link(platform, camille.email)
    pages: dict[str, Any] = {}
    gallery = Gallery()
    for old in gallery.folder.glob("*.png"):
        old.unlink()

    def page_for(who: str) -> Any:
        if who == "exam" and who not in pages:
            # A new tab beside the portal's, in her browser: the exam tab is served only
            # where she is logged in (sec-findings F6).
            pages[who] = page_for("candidate").context.new_page()
            pages[who].set_default_timeout(15_000)
        if who not in pages:
            context = browser.new_context(locale="fr-FR")
            context.grant_permissions(["camera", "microphone"])
            context.vigie_url, context.vigie_lang = server.url, None
            page = context.new_page()
            page.set_default_timeout(15_000)
            if who == "candidate":
                log_in(page, server.url, "/login", camille.email)
            elif who != "visitor":
                log_in(page, server.url, "/staff/login", STAFF[Role(who)])
            pages[who] = page
        return pages[who]

    spent: dict[str, float] = {}

    def tour(*screens: Screen) -> None:
        for screen in screens:
            began = time.monotonic()
            look_at(page_for(screen.who), gallery, screen)
            spent[screen.name] = time.monotonic() - began

    try:
        # --- a visitor: log-in pages, the invitation, help and errors --------------------------
        tour(
            Screen("login", "Candidate log-in", "visitor", visit("/login"), zoom=True),
            Screen("forgot", "Forgotten password", "visitor", visit("/password/forgot")),
            Screen("support", "Support", "visitor", visit("/support")),
            Screen("error-404", "Error page (404)", "visitor", visit("/no-such-page")),
            Screen("staff-login", "Staff log-in", "visitor", visit("/staff/login")),
            Screen(
                "create-session",
                "Invitation: create my session",
                "visitor",
                visit(invitation),
            ),
        )
        # --- the candidate, from the terms to the last recording of the room ---------------
        camille.create_session()
        camille.set_password(PASSWORD)
        platform.settle()
        sid = camille.session_id
        assert sid is not None
        tour(Screen("terms", "Terms of use", "candidate", visit("/terms")))
        proctoring.accept_terms(ctx, camille.candidate_id)  # type: ignore[arg-type]
        tour(
            Screen("my-exams", "My exams", "candidate", visit("/exams")),
            Screen(
                "equipment",
                "Equipment test (« Test du matériel »)",
                "candidate",
                visit("/equipment"),
            ),
        )
        camille.enter()

        def record(part: EnvironmentPart) -> UUID | None:
            proctoring.start_environment_recording(ctx, sid, part)
            camille.clock.advance(seconds=20)
            made = proctoring.stop_environment_recording(
                ctx, sid, part, ebml_sample(tag=b"env"), duration_s=20.0
            )
            platform.settle()
            return made

        # Each check's screen, and what the server records when the candidate passes it.
        checks: list[tuple[str, str, Callable[[], object]]] = [
            ("instructions", "instructions", lambda: proctoring.read_instructions(ctx, sid)),
            ("rules", "the designer's rules", lambda: proctoring.attest_designer_rules(ctx, sid)),
            ("secure-mode", "secure mode", lambda: proctoring.acknowledge_secure_mode(ctx, sid)),
            (
                "conditions",
                "general conditions",
                lambda: proctoring.attest_general_conditions(ctx, sid),
            ),
            ("sound", "sound", lambda: proctoring.confirm_sound_heard(ctx, sid)),
            (
                "microphone",
                "microphone",
                lambda: (
                    proctoring.start_microphone_recording(ctx, sid),
                    proctoring.stop_microphone_recording(ctx, sid),
                ),
            ),
            ("camera", "camera", lambda: proctoring.check_camera(ctx, sid, working=True)),
            (
                "connection",
                "connection test",
                lambda: proctoring.record_connection_test(
                    ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True
                ),
            ),
            (
                "face-photo",
                "photo of the face",
                lambda: (
                    proctoring.take_face_photo(ctx, sid, Cast.face),
                    proctoring.confirm_face_photo(ctx, sid),
                ),
            ),
            (
                "id-photo",
                "photo of the ID",
                lambda: (
                    proctoring.take_id_photo(ctx, sid, Cast.id_card),
                    proctoring.confirm_id_photo(ctx, sid),
                ),
            ),
            ("room-1", "recording 1/3", lambda: record(EnvironmentPart.EARS)),
            ("room-2", "recording 2/3", lambda: record(EnvironmentPart.ROOM)),
            ("room-3", "recording 3/3", lambda: record(EnvironmentPart.DESK)),
        ]
        for number, (name, title, passed) in enumerate(checks, start=1):
            tour(
                Screen(
                    f"check-{number:02}-{name}",
                    f"Check {number}: {title}",
                    "candidate",
                    visit(f"/exams/{sid}"),
                    zoom=name in ("instructions", "face-photo"),
                )
            )
            launched = passed()
        # The third recording launches the exam: the portal's first screen.
        assert isinstance(launched, UUID), "the third recording did not launch the exam"
        attempt_id = camille.attempt_id = launched
        at_portal = visit(f"/portal/{attempt_id}")
        tour(Screen("portal-profile", "Portal: my profile", "candidate", at_portal))
        camille.to_tile()
        tour(Screen("portal-tile", "Portal: the exam's tile", "candidate", at_portal, zoom=True))
        portal.start_now(ctx, attempt_id)
        # Before a worker provisions it: the notice that waits (it once ran 1,131 px wide on
        # a phone, Pico keeping a busy element on one line).
        tour(Screen("portal-preparing", "Portal: workspace being prepared", "candidate", at_portal))
        platform.settle()
        tour(Screen("portal-instructions", "Portal: before « Commencer »", "candidate", at_portal))
        portal.begin_exam(ctx, attempt_id)
        tour(
            Screen("portal-in-progress", "Portal: exam in progress", "candidate", at_portal),
            # R2: the hotline watches a session live (the page streams: no "load" to wait for)
            Screen(
                "live",
                "Hotline: live supervision",
                Role.SUPPORT,
                visit(f"/staff/live/{sid}", until="domcontentloaded"),
            ),
        )
        workspace = ctx.store.get(attempt_id, ExamAttempt).workspace_url
        assert workspace, "the exam's workspace has no address"
        tour(Screen("exam-tab", "The exam tab", "exam", lambda page: page.goto(workspace)))
        pages.pop("exam").close()  # closing the tab, as the candidate does
        portal.answer_question(ctx, attempt_id, question_id="tables-taille", answer="Taille")
        portal.finish_exam(ctx, attempt_id)
        tour(Screen("portal-results", "Portal: results and code", "candidate", at_portal))
        code = ctx.store.get(attempt_id, ExamAttempt).validation_code
        portal.validate_exam(ctx, attempt_id, typed_code=code)  # type: ignore[arg-type]
        platform.settle()
        tour(Screen("portal-sent", "Portal: exam sent", "candidate", at_portal))

        # --- the examiner: the list, Léa's review and its playback, Camille's decision --------
        lea = Cast.reviewed
        tour(
            Screen("reviews", "Examiner: reviews due", Role.EXAMINER, visit("/examiner/reviews")),
            Screen(
                "review",
                "Examiner: a review (player, flags)",
                Role.EXAMINER,
                visit(f"/examiner/reviews/{lea.review_id}"),
                zoom=True,
            ),
            Screen(
                "playback",
                "Examiner: a flag played back",
                Role.EXAMINER,
                lambda page: play_the_flag(page, f"/examiner/reviews/{lea.review_id}"),
            ),
        )
        review_id = reviewing.review_id_for(attempt_id)
        reviewing.assign_examiner(ctx, review_id, staff[Role.EXAMINER])
        tour(
            Screen(
                "review-taken",
                "Examiner: the decision form",
                Role.EXAMINER,
                visit(f"/examiner/reviews/{review_id}"),
            )
        )
        # Invalidated (the examiner saw headphones), so the candidate may appeal (R21).
        launched_evidence = next(
            e.id for e in ctx.store.get(review_id, Review).evidence if e.kind == "ExamLaunched"
        )
        reviewing.decide_review(
            ctx,
            review_id,
            examiner_id=staff[Role.EXAMINER],
            verdict=Verdict.INVALIDATED,
            reasons=(CitedReason(ReasonCode.HEADPHONES, (launched_evidence,)),),
        )
        reviewing.release_results(ctx, review_id, released_by=staff[Role.EXAMINER])
        platform.settle()
        tour(Screen("result", "Candidate: the result", "candidate", visit(f"/results/{sid}")))
        appeals.lodge_appeal(ctx, review_id, candidate_id=camille.candidate_id, reason=TEN_WORDS)  # type: ignore[arg-type]
        platform.settle()
        tour(
            Screen("appeals", "Examiner: appeals", Role.EXAMINER, visit("/examiner/appeals")),
            Screen(
                "appeal",
                "Examiner: an appeal",
                Role.EXAMINER,
                visit(f"/examiner/appeals/{review_id}"),
            ),
            # --- the centre and the hotline ------------------------------------------------
            Screen("operator", "Centre: enrolments", Role.CENTRE, visit("/operator"), zoom=True),
            Screen("csv-report", "Centre: CSV import report", Role.CENTRE, import_csv),
            Screen(
                "accommodation",
                "Centre: accommodations",
                Role.CENTRE,
                visit(f"/operator/enrolments/{camille.enrollment_id}/accommodation"),
            ),
            Screen(
                "assignments", "Centre: review assignments", Role.CENTRE, visit("/operator/reviews")
            ),
            Screen(
                "integrations",
                "Centre: API tokens, webhooks and their delivery log",
                Role.CENTRE,
                visit("/operator/integrations"),
            ),
            Screen("mailbox", "Hotline: mailbox", Role.SUPPORT, visit("/operator/mailbox")),
            Screen(
                "operator-support", "Hotline: the operator page", Role.SUPPORT, visit("/operator")
            ),
        )
        hotline = page_for(Role.SUPPORT).request.get(f"{server.url}/hotline")
        if hotline.status != 404:  # being built beside this tour (issue 13, point 7)
            tour(Screen("hotline", "Hotline", Role.SUPPORT, visit("/hotline")))
        tour(
            Screen("auditor", "Auditor: reviews", Role.AUDITOR, visit("/auditor")),
            Screen(
                "auditor-review",
                "Auditor: a review replayed",
                Role.AUDITOR,
                visit(f"/auditor/reviews/{review_id}"),
            ),
        )
    finally:
        index = gallery.write()
        for page in pages.values():
            page.context.close()
        print(f"tour: {len(gallery.shots)} shots in {time.monotonic() - started:.0f} s: {index}")
        slowest = sorted(spent.items(), key=lambda item: -item[1])[:8]
        print("slowest screens: " + ", ".join(f"{name} {s:.1f} s" for name, s in slowest))
    problems = gallery.problems()
    assert problems == [], f"{len(problems)} problems (see {index}):\n" + "\n".join(problems)


def invitation_link(platform: Platform, email: str) -> str:
    """The path of the invitation mail's link (the worker sends it a moment after)."""
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    deadline = time.monotonic() + 20
    while not (found := [m for m in mailer.to(email) if "/sessions/new?t=" in m.text]):
        assert time.monotonic() < deadline, "no invitation mail"
        time.sleep(0.1)
    link = re.search(r"/sessions/new\?t=\S+", found[0].text)
    assert link is not None
    return link.group(0)


def play_the_flag(page: Any, path: str) -> None:
    """The examiner clicks the first flag of the timeline: the player seeks to its second."""
    page.goto(page.context.vigie_url + path)
    page.locator("#recording-timeline li.flag button").first.click()
    wait_until(page, "document.getElementById('player').readyState >= 1")


def import_csv(page: Any) -> None:
    page.goto(page.context.vigie_url + "/operator")
    page.locator("form[action='/operator/enrol-csv'] input[type=file]").set_input_files(
        files=[{"name": "inscriptions.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.locator("form[action='/operator/enrol-csv'] button[type=submit]").click()
    page.wait_for_load_state()
