"""The built-in exam workspace: the exam served to the exam tab by the platform itself.

Each attempt gets its own workspace, reachable only through a URL signed for that attempt's
workspace (a single-attempt link: another attempt's signature does not open it, and a torn
down workspace answers 410 Gone), and only in the browser where the attempt's candidate is
logged in (ui.web.workspace checks her session against `candidate_of`). The page saves
every answer on the server as it is given, shows the time left from the server's clock, and
beats a heartbeat; a workspace whose page stopped beating for longer than the grace period, or
said it was closing and did not come back (domain.exam_tab: a reload is no loss, a tab never
opened is not lost), is reported dead, so the attempt records it lost and the candidate can
reopen it (R23) with the remaining time intact.

Issue 15: the pages are served by the main web app under the platform's base URL
(`<VIGIE_BASE_URL>/w/<ref>?t=…`, ui.web.workspace), not by a server of their own on another
port, and what a workspace's life needs — open or torn down, its last heartbeat, its marked
questions — is kept in the store's database (app.ports.workspace_heartbeats). So any node
serves any exam tab, provisioning is only a row written (from any process), and whichever
process runs the deadlines judges every workspace's silence, even after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from adapters.launcher.page import ExamTab
from app.exam_desk import DeskView
from app.links import LinkSigner
from app.mail_rendering import SupportContact
from app.ports.clock import Clock
from app.ports.exam_launcher import Workspace
from app.ports.workspace_heartbeats import WorkspaceHeartbeats
from domain.errors import DomainError
from domain.exam_tab import TabSighting, tab_lost

ViewFunction = Callable[[UUID], DeskView]
OwnerFunction = Callable[[UUID], UUID]  # an attempt's candidate (LookupError: no such attempt)
AnswerFunction = Callable[[UUID, str, str, tuple[str, ...]], None]
FinishFunction = Callable[[UUID], object]
LeaveFunction = Callable[[UUID], object]
MAX_FORM_BYTES = 64 * 1024
OWNERS_KEPT = 100_000  # attempts whose candidate is remembered (a few MB at most)
PREFIX = "ws-"  # a built-in workspace's reference: ws-<attempt id>

Form = Mapping[str, Sequence[str]]


def _unbound(*_: object) -> Any:
    raise RuntimeError("the built-in workspace is not bound to the exam desk")


class BuiltinWorkspaces:
    """The default exam launcher: a workspace per attempt, its state in the store."""

    def __init__(
        self,
        links: LinkSigner,
        heartbeats: WorkspaceHeartbeats,
        clock: Clock,
        *,
        heartbeat_grace_s: float = 30.0,
        support: SupportContact | None = None,
        time_zone: str = "Europe/Paris",
    ) -> None:
        self.links = links
        self.heartbeats = heartbeats
        self.clock = clock
        self.heartbeat_grace_s = heartbeat_grace_s
        self._view: ViewFunction = _unbound
        self._answer: AnswerFunction = _unbound
        self._finish: FinishFunction = _unbound
        self._owner: OwnerFunction = _unbound
        self._leave: LeaveFunction = _unbound
        self._owners: dict[UUID, UUID] = {}
        self.tab = ExamTab(support or SupportContact(), time_zone)

    def bind(
        self,
        view: ViewFunction,
        answer: AnswerFunction,
        finish: FinishFunction,
        owner: OwnerFunction,
        leave: LeaveFunction | None = None,
    ) -> None:
        """Give the workspace what it serves: the desk view, the answer and finish use cases,
        whose attempt it is (the candidate the exam tab is served to), and the use case that
        records her leaving the tab with « Quitter »."""
        self._view, self._answer, self._finish, self._owner = view, answer, finish, owner
        if leave is not None:
            self._leave = leave

    # --- the port ----------------------------------------------------------------------------

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        """Ready at once: a row in the store (reopened after it was lost, R23, its silence
        counts again from now) and the signed address under the platform's base URL."""
        ref = f"{PREFIX}{attempt_id}"
        self.heartbeats.open(ref, attempt_id, self.clock.now())
        return Workspace(ref, self.url(ref))

    def heartbeat(self, ref: str) -> bool:
        return self._alive(self.heartbeats.sighting(ref), self.clock.now())

    def _alive(self, sighting: TabSighting | None, now: datetime) -> bool:
        # The domain judges: a tab never opened is not lost, a reload is no loss.
        return not tab_lost(sighting, now, silence_grace_s=self.heartbeat_grace_s)

    def silent(self, refs: Collection[str]) -> frozenset[str]:
        """One read of every open workspace's tab, whatever the number of exams."""
        seen, now = self.heartbeats.sightings(), self.clock.now()
        return frozenset(r for r in refs if self.owns(r) and not self._alive(seen.get(r), now))

    def owns(self, ref: str) -> bool:
        """Every built-in workspace, whichever node provisioned it: their state is in the
        store. A ref of the built-in's form without a row (torn down, or from before issue
        15) is then judged silent, so the attempt is recorded lost and can be reopened."""
        if not ref.startswith(PREFIX):
            return False
        try:
            UUID(ref.removeprefix(PREFIX))
        except ValueError:
            return False
        return True

    def teardown(self, ref: str) -> None:
        self.heartbeats.forget(ref)

    # --- what the exam tab's pages use (ui.web.workspace) --------------------------------------

    def url(self, ref: str) -> str:
        """The signed, single-attempt address of a workspace."""
        return f"{self.links.base_url}/w/{ref}?t={quote(self.links.sign('workspace', ref))}"

    def signed_attempt(self, ref: str, token: str) -> UUID | None:
        """The attempt whose workspace `token` signs, from the signature and the reference
        alone (no read: open or torn down, `attempt_for` says), or None (a 410)."""
        if not self.owns(ref) or not self._signed(ref, token):
            return None
        return UUID(ref.removeprefix(PREFIX))

    def candidate_of(self, attempt_id: UUID) -> UUID | None:
        """The candidate whose attempt it is (None for no such attempt). Never changes, so
        it is read once per process: the heartbeat does not read the attempt for it."""
        known = self._owners.get(attempt_id)
        if known is not None:
            return known
        try:
            owner = self._owner(attempt_id)
        except LookupError:
            return None
        if len(self._owners) >= OWNERS_KEPT:
            self._owners.clear()
        self._owners[attempt_id] = owner
        return owner

    def attempt_for(self, ref: str, token: str) -> UUID | None:
        """The attempt whose open workspace `token` signs, or None (a 410)."""
        if not self._signed(ref, token):
            return None
        return self.heartbeats.attempt_of(ref)

    def _signed(self, ref: str, token: str) -> bool:
        try:
            return self.links.verify("workspace", token, rule="R15") == ref
        except DomainError:
            return False

    def beat(self, ref: str, token: str) -> UUID | None:
        """The exam tab gave a sign of life: the attempt whose open workspace `token` signs
        (as `attempt_for`, in one round trip to the store), or None (a 410)."""
        if not self._signed(ref, token):
            return None
        return self.heartbeats.beat(ref, self.clock.now())

    def closing(self, ref: str) -> None:
        """The exam tab said its page is going away (closed, or reloaded: it cannot tell):
        lost if it is not back within domain.exam_tab.RELOAD_GRACE_S, instead of after the
        silence grace (R23: the exam tab closed first is known before the proctoring tab)."""
        self.heartbeats.closing(ref, self.clock.now())

    def leave(self, attempt_id: UUID, ref: str) -> None:
        """R23's « Quitter »: the candidate's own act, recorded as such (not a lost tab)."""
        self._leave(attempt_id)
        self.heartbeats.closing(ref, self.clock.now())

    def marked(self, ref: str) -> frozenset[str]:
        return self.heartbeats.marked(ref)

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        """Mark a question to come back to later, or unmark it. A note of the candidate's,
        not an answer: it lives with the workspace (and survives its reopening), not in the
        event log."""
        self.heartbeats.mark(ref, question_id, marked)

    def view(self, attempt_id: UUID) -> DeskView:
        return self._view(attempt_id)

    def render(
        self, attempt_id: UUID, ref: str, token: str, *, view: DeskView | None = None, **page: Any
    ) -> str:
        """The exam tab's page (see `ExamTab.render` for what `page` may say); `view`, when
        the caller already has the attempt's."""
        return self.tab.render(
            view or self.view(attempt_id),
            base=f"/w/{ref}",
            token=quote(token),
            marked=self.marked(ref),
            **page,
        )

    def answer(
        self, attempt_id: UUID, question_id: str, text: str, choices: tuple[str, ...]
    ) -> None:
        """Save one answer through the use case (domain rules apply: time, same day…)."""
        self._answer(attempt_id, question_id, text, choices)

    def save_form(self, attempt_id: UUID, ref: str, form: Form) -> None:
        """The whole exam posted at once (a browser without scripts): every answer that
        differs from the saved one is saved, and the marks are the ones ticked."""
        if form.get("question_id"):  # one answer, as the page's script sends it
            self.answer(
                attempt_id,
                form["question_id"][0],
                (form.get("answer") or [""])[0],
                tuple(form.get("choice", [])),
            )
            return
        if list(form.get("form", [])) != ["all"]:
            return
        view = self.view(attempt_id)
        for question in view.questions:
            qid = question.question_id
            text = (form.get(f"answer-{qid}") or [""])[0]
            choices = tuple(form.get(f"choice-{qid}", []))
            if (text, choices) != (question.given.text, tuple(question.given.choices)):
                self.answer(attempt_id, qid, text, choices)
        ticked = frozenset(form.get("mark", []))
        self.heartbeats.replace_marks(ref, ticked & {q.question_id for q in view.questions})

    def finish(self, attempt_id: UUID) -> None:
        """End the exam (R18: its results are then shown in the proctoring tab)."""
        self._finish(attempt_id)
