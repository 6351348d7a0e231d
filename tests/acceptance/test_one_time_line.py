"""Issue 12, item 2: one time line. The live recorder reads the machine's clock (UTC, as the
system clock gives it) while the use cases read `Context.now()` (the centre's zone); every fact
is stored in the centre's zone all the same, so a flag and a step of the same instant show the
same local time on the examiner's timeline, before and after the spring clock change. Mails
and the command line show times through the same formatter."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer
from app.live_recording import media_origin, record_live_event
from app.mail_rendering import SupportContact
from app.ports.live_media import LiveEvent
from app.use_cases import accounts, proctoring, reviewing
from domain.evidence import FlagKind, MediaSpan, Verdict
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.cli import main
from ui.journey import PARIS, Journey, make_platform
from ui.web.app import create_app

SECRET = b"t" * 32
WORD = "pass-word-1"


def signal(kind: str) -> str:
    return json.dumps({"type": "signal", "kind": kind})


def recorded_live(journey: Journey) -> tuple[MemoryLiveRecorder, MemoryPeer]:
    """The in-memory recorder on the platform's clock, its reports recorded as the web app's
    sink records them; the page connected."""

    def sink(event: LiveEvent) -> None:
        record_live_event(journey.ctx, event)

    recorder = MemoryLiveRecorder(journey.clock, sink, grace_s=3600)
    assert journey.session_id is not None
    origin = media_origin(journey.ctx, journey.session_id)
    peer = MemoryPeer(recorder, journey.clock)
    peer.accept(asyncio.run(recorder.open(journey.session_id, peer.offer(), origin)))
    return recorder, peer


def finish_and_review(journey: Journey, recorder: MemoryLiveRecorder) -> UUID:
    """The rest of the honest journey, up to the exam sent for review."""
    assert journey.session_id is not None
    journey.pass_equipment()
    journey.take_photos()
    journey.record_environment()
    asyncio.run(recorder.close(journey.session_id))
    journey.start_exam()
    journey.answer_and_send()
    assert journey.review_id is not None
    return journey.review_id


def timeline_times(platform: Platform, review_id: UUID) -> dict[str, list[str]]:
    """The examiner's review page, as an examiner reads it: the time shown for each fact (the
    fact is read in words; its event name stays in the cell's title)."""
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="p4ss-eve"
    )
    app = create_app(platform, secret=SECRET, support=SupportContact())
    with TestClient(app) as client:
        log_in(client, "/staff/login", "eve@example.org", "p4ss-eve")
        page = client.get(f"/examiner/reviews/{review_id}")
    assert page.status_code == 200
    table = page.text.split('id="timeline"', 1)[1]
    shown: dict[str, list[str]] = {}
    for time_text, what in re.findall(
        r'<tr id="ev-[^"]+"><td>([^<]*)</td><td>[^<]*</td><td title="([^"]*)">', table
    ):
        shown.setdefault(what, []).append(time_text)
    return shown


def flag_kinds_at(journey: Journey) -> dict[str, datetime]:
    assert journey.session_id is not None
    return {
        e.kind.value: e.timestamp
        for e in journey.ctx.store.history(journey.session_id)
        if isinstance(e, ProctoredSession.FlagRaised)
    }


def test_a_flag_from_the_live_recorder_and_a_step_of_the_same_instant_show_the_same_time() -> None:
    """Item 2: the system clock is UTC; the step (a use case) and the page's focus-loss flag
    (the recorder) happen at 09:00:05 in Paris, and both read 09:00:05 on the timeline, not
    the flag an hour earlier."""
    journey = Journey(make_platform(start=datetime(2025, 1, 27, 8, 0, tzinfo=UTC)))
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, peer = recorded_live(journey)
    journey.clock.advance(seconds=5)
    peer.send(signal("focus_lost"))
    journey.pass_attestations()  # 'instructions read' at the same instant
    review_id = finish_and_review(journey, recorder)

    flag_at = flag_kinds_at(journey)["tab_focus_lost"]
    assert flag_at.utcoffset() == PARIS.utcoffset(flag_at)  # stored in the centre's zone
    shown = timeline_times(journey.platform, review_id)
    assert shown["FlagRaised"] == ["27/01/2025 09:00:05"]
    assert shown["InstructionsRead"] == ["27/01/2025 09:00:05"]


def test_facts_either_side_of_the_spring_clock_change_show_paris_time() -> None:
    """Item 2 across the change of 30 March 2025 (02:00 CET becomes 03:00 CEST): a flag and a
    step at 00:59:30 UTC read 01:59:30; a flag and a step a minute later read 03:00:30."""
    journey = Journey(make_platform(start=datetime(2025, 3, 30, 0, 58, tzinfo=UTC)))
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, peer = recorded_live(journey)
    assert journey.session_id is not None
    journey.clock.set(datetime(2025, 3, 30, 0, 59, 30, tzinfo=UTC))
    peer.send(signal("focus_lost"))
    proctoring.read_instructions(journey.ctx, journey.session_id)
    journey.clock.set(datetime(2025, 3, 30, 1, 0, 30, tzinfo=UTC))
    peer.send(signal("copy_paste"))
    proctoring.attest_designer_rules(journey.ctx, journey.session_id)
    proctoring.acknowledge_secure_mode(journey.ctx, journey.session_id)
    proctoring.attest_general_conditions(journey.ctx, journey.session_id)
    review_id = finish_and_review(journey, recorder)

    shown = timeline_times(journey.platform, review_id)
    assert shown["FlagRaised"] == ["30/03/2025 01:59:30", "30/03/2025 03:00:30"]
    assert shown["InstructionsRead"] == ["30/03/2025 01:59:30"]
    assert shown["DesignerRulesAttested"] == ["30/03/2025 03:00:30"]


def test_vigie_history_shows_the_facts_in_the_centres_zone(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 2 on the command line: an event stored at 08:00 UTC in January reads 09:00:00."""
    url = f"sqlite:///{tmp_path}/vigie.sqlite"
    platform = make_platform(url, start=datetime(2025, 1, 27, 8, 0, tzinfo=UTC))
    journey = Journey(platform)
    journey.enrol()
    platform.close()
    monkeypatch.setenv("VIGIE_TIME_ZONE", "Europe/Paris")
    assert main(["--database-url", url, "history", str(journey.candidate_id)]) == 0
    assert "27/01/2025 09:00:00" in capsys.readouterr().out


def test_a_flag_shows_the_second_it_happened_on_the_examiners_and_the_auditors_pages() -> None:
    """A detector records a flag seconds after what it saw (its span, in seconds from the
    first entry, says when): the examiner's moments read 22:08:41 where the auditor's table
    read 22:09:11 for one flag (a reviewer's finding). Both say when it happened; the
    auditor's table adds when it was recorded."""
    platform = make_platform()
    try:
        eve = accounts.register_staff(
            platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=WORD
        )
        accounts.register_staff(
            platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=WORD
        )
        journey = Journey(platform, email="lea@example.org")
        journey.in_exam()
        session_id = journey.session_id
        assert session_id is not None
        entered = next(
            e.timestamp
            for e in platform.ctx.store.history(session_id)
            if isinstance(e, ProctoredSession.SessionEntered)
        )
        seen = entered + timedelta(minutes=30)
        journey.clock.set(seen + timedelta(seconds=30))  # reported 30 s after what it saw
        proctoring.raise_flag(
            platform.ctx,
            session_id,
            flag_id="late",
            kind=FlagKind.FACE_ABSENT,
            span=MediaSpan((seen - entered).total_seconds(), (seen - entered).total_seconds() + 4),
            confidence=0.9,
        )
        journey.answer_and_send()
        assert journey.review_id is not None
        reviewing.assign_examiner(platform.ctx, journey.review_id, eve)
        flag = next(e for e in platform.ctx.store.get(journey.review_id, Review).evidence if e.flag)
        journey.decided(eve, Verdict.VALIDATED)
        happened, recorded = (f"{t.astimezone(PARIS):%H:%M:%S}" for t in (seen, flag.at))
        assert happened != recorded
        app = create_app(platform, secret=SECRET, support=SupportContact())
        with TestClient(app) as client:
            log_in(client, "/staff/login", "eve@example.org", WORD)
            page = client.get(f"/examiner/reviews/{journey.review_id}").text
            row = re.search(rf'id="m-{flag.id.replace("/", "-")}".*?</li>', page, re.S)
            assert row is not None and f"<time>{happened}</time>" in row.group(0)
        with TestClient(app) as client:
            log_in(client, "/staff/login", "ada@example.org", WORD)
            page = client.get(f"/auditor/reviews/{journey.review_id}").text
            row = re.search(rf'<tr id="e-{flag.id.replace("/", "-")}">.*?</tr>', page, re.S)
            assert row is not None, page
            assert f"{seen.astimezone(PARIS):%d/%m/%Y} {happened}" in row.group(0)
            assert f"enregistré à {recorded}" in row.group(0)
            assert "Quand c'est arrivé" in page
    finally:
        platform.close()
