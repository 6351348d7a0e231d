"""R8: the connection test's result is recorded with its measures and stays shown: on the
connection step after a reload (a failed test, with « Relancer le test ») and on the next
checks once passed (a user's tour: it vanished when she moved on or reloaded)."""

from __future__ import annotations

import html

from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from app.use_cases import proctoring
from tests.acceptance.web import log_in
from ui.journey import Journey
from ui.web.app import create_app

PASSWORD = "camille-connexion-1"


def test_the_recorded_connection_test_stays_on_the_checks_pages(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    journey.enter()
    journey.pass_attestations()
    ctx, sid = journey.ctx, journey.session_id
    assert sid is not None
    proctoring.confirm_sound_heard(ctx, sid)
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    proctoring.check_camera(ctx, sid, working=True)
    proctoring.record_connection_test(
        ctx, sid, round_trip_ms=912.4, upload_kbps=120.0, passed=False
    )
    with TestClient(
        create_app(journey.platform, secret=b"c" * 32, support=SupportContact())
    ) as client:
        log_in(client, "/login", journey.email, PASSWORD)
        page = html.unescape(client.get(f"/exams/{sid}").text)
        assert "Votre connexion est trop lente pour l'examen" in page
        assert "912 ms" in page
        assert "120 kbit/s" in page and ">Relancer le test<" in page
        proctoring.record_connection_test(
            ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True
        )
        page = html.unescape(client.get(f"/exams/{sid}").text)
    assert "Photo de votre visage" in page  # the next check
    assert "Test de connexion enregistré : réussi (réponse du serveur 35 ms" in page
    assert "8\u202f000 kbit/s" in page or "8\u00a0000 kbit/s" in page
