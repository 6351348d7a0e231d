"""The exam tab reloaded (F5), or closed and opened again at once, in Chromium (a user's tour:
the tab was recorded « perdu », shown to the examiner, and the words typed just before F5
were gone). Now no loss is recorded (domain.exam_tab.RELOAD_GRACE_S), what was typed is back
in its field and saved, and no « Enregistrer la réponse » button stands under answers that
save themselves."""

from __future__ import annotations

from typing import Any

from domain.exam_attempt import ExamAttempt
from domain.exam_tab import RELOAD_GRACE_S, TabState
from tests.browser.conftest import Server, open_exam_tab, wait_until
from tests.browser.test_exam_tab import attempt, in_exam, shot, wait_for


def losses(server: Server, attempt_id: Any) -> list[Any]:
    history = server.platform.ctx.store.history(attempt_id)
    return [e for e in history if isinstance(e, ExamAttempt.WorkspaceLost)]


def beaten_again(server: Server, ref: str) -> bool:
    sighting = server.platform.heartbeats.sighting(ref)
    return sighting is not None and sighting.state is TabState.OPEN


def test_f5_records_no_loss_and_keeps_the_answer_typed_r23(server: Server, page: Any) -> None:
    journey, url = in_exam(server)
    ref = f"ws-{journey.attempt_id}"
    open_exam_tab(page, journey, url)
    order = attempt(server, journey).question_order
    short = next(q for q in order if page.locator(f"#q-{q}").get_attribute("data-kind") == "short")
    field = page.locator(f"#answer-{short}")
    # Answers save themselves: no button under each one that only did it again.
    assert page.get_by_role("button", name="Enregistrer la réponse").count() == 0
    assert page.locator(f"#q-{short} button[name=save]").is_hidden()

    # Typed, and F5 before the pause after typing sent it.
    field.press_sequentially("Une clé étrangère", delay=5)
    page.reload()
    wait_until(page, "(id) => document.getElementById('answer-' + id).value", short)
    assert field.input_value() == "Une clé étrangère"  # back from the tab's sessionStorage
    assert server.platform.tick().workspaces_lost == []  # the watch runs between the pages
    wait_for(
        "the answer typed before F5 is saved",
        lambda: (
            attempt(server, journey).given_answers().get(short) is not None
            and attempt(server, journey).given_answers()[short].text == "Une clé étrangère"
        ),
    )
    wait_for("the reloaded tab beats", lambda: beaten_again(server, ref), seconds=10)
    server.clock.advance(seconds=RELOAD_GRACE_S + 5)  # past the reload grace, beating
    assert server.platform.tick().workspaces_lost == []
    shot(page, "fr-desktop-after-reload")

    # Left (as a closed tab: its page goes), then opened again at once from its link: no
    # loss either.
    page.goto("about:blank")
    wait_for("the tab said it is closing", lambda: not beaten_again(server, ref))
    server.clock.advance(seconds=RELOAD_GRACE_S - 5)
    assert server.platform.tick().workspaces_lost == []
    page.goto(url)
    assert page.locator(f"#answer-{short}").input_value() == "Une clé étrangère"
    server.clock.advance(seconds=10)  # past the grace counted from the closing word
    assert server.platform.tick().workspaces_lost == []
    assert losses(server, journey.attempt_id) == []
    assert attempt(server, journey).workspace_ref == ref
