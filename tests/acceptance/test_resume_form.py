"""« Reprendre l'examen » (R6): a reason under 10 words is said beside the form on « Mes
examens », the reason kept, where it led to an error page with only « Retour à mon accueil »
and the reason lost (a reviewer's check); ten words resume the exam."""

from __future__ import annotations

import html

from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from app.use_cases import portal
from domain.proctored_session import ProctoredSession
from tests.acceptance.test_fair_review import close_the_proctoring_tab
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey
from ui.web.app import create_app

PASSWORD = "camille-resume-1"
SHORT = "ma connexion a coupé"
TEN_WORDS = "ma connexion internet a coupé pendant la vérification de la caméra"


def test_a_short_resume_reason_is_said_beside_the_form_and_kept(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    journey.enter()
    assert journey.session_id is not None
    ctx, sid = journey.ctx, journey.session_id
    with TestClient(create_app(journey.platform, secret=b"r" * 32, support=SupportContact())) as c:
        log_in(c, "/login", journey.email, PASSWORD)
        head = ctx.store.head()
        short = c.post(
            f"/exams/{sid}/enter",
            data={"reason": SHORT, "_csrf_token": form_token(c, "/exams")},
            follow_redirects=False,
        )
        assert short.status_code == 409
        page = html.unescape(short.text)
        assert "Pour reprendre l'examen, donnez un motif d'au moins 10 mots." in page
        assert f">{SHORT}</textarea>" in page and 'aria-invalid="true"' in page
        assert ctx.store.head() == head  # nothing recorded
        resumed = c.post(
            f"/exams/{sid}/enter",
            data={"reason": TEN_WORDS, "_csrf_token": form_token(c, "/exams")},
            follow_redirects=False,
        )
        assert resumed.status_code in (302, 303), resumed.text[-300:]
    assert ctx.store.get(sid, ProctoredSession).entries == 2


def test_the_portal_says_the_exam_is_deferred_only_until_she_comes_back(journey: Journey) -> None:
    """R14: « Examen reporté — vous pouvez fermer les deux fenêtres » stayed on the portal
    after she had come back with « Reprendre l'examen » (a reviewer's check)."""
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    journey.through_checks()
    aid = journey.to_tile()
    portal.start_now(journey.ctx, aid)
    journey.platform.settle()
    portal.defer_exam(journey.ctx, aid)
    with TestClient(create_app(journey.platform, secret=b"r" * 32, support=SupportContact())) as c:
        log_in(c, "/login", journey.email, PASSWORD)
        deferred = html.unescape(c.get(f"/portal/{aid}").text)
        assert 'id="deferred"' in deferred
        # What to do, as it is: the mail holds the log-in address, « Reprendre l'examen » is
        # on « Mes examens »; and closing stops the proctoring the banner above says is on
        # (a reviewer's tour: the mail has no « Reprendre l'examen » link).
        assert "la surveillance s'arrête avec elles" in deferred
        assert "puis « Reprendre l'examen » dans « Mes examens »" in deferred
        close_the_proctoring_tab(journey)
        journey.clock.advance(hours=1)
        journey.enter(resume_reason=TEN_WORDS)
        back = c.get(f"/portal/{aid}").text
        assert 'id="deferred"' not in back and "fermer les deux fenêtres" not in back
