"""Who may see and act on what (issue 14: tenancy): a training centre on its own enrolments,
candidates and reviews; the hotline (support) on every centre's; an examiner on their own
assignments and the queue (open reviews nobody has); an auditor reads every decision.

Pure rules over plain values: the application loads the records and the acting staff member,
then asks here. A refusal is `OutOfReach`, the same whether the record belongs to someone
else or does not exist, so that nobody learns that another centre's record exists."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.errors import DomainError
from domain.review import Review
from domain.staff import Role


class OutOfReach(DomainError):
    """The record is not the acting person's to see or act on, or there is no such record:
    the two are never told apart (a page says « not found », the API answers 404)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no {what} of yours with that id")
        self.what = what


@dataclass(frozen=True)
class Actor:
    """A logged-in staff member as the rules of access see them: who, in which role, and for
    a centre operator, which centre."""

    staff_id: UUID
    role: Role
    centre_id: UUID | None = None

    @property
    def whole_platform(self) -> bool:
        """The hotline works for every centre (design/product.md, 'Who uses it')."""
        return self.role is Role.SUPPORT


def may_act_for_centre(actor: Actor, centre_id: UUID) -> bool:
    """A centre acts on its own enrolments (and their sessions and reviews); the hotline on
    every centre's; examiners and auditors on none (they have their own pages)."""
    if actor.whole_platform:
        return True
    return actor.role is Role.CENTRE and actor.centre_id == centre_id


def check_centre(actor: Actor, centre_id: UUID, what: str) -> None:
    """`OutOfReach(what)` unless the actor may act for that centre."""
    if not may_act_for_centre(actor, centre_id):
        raise OutOfReach(what)


def examiner_may_see(examiner_id: UUID, review: Review) -> bool:
    """An examiner sees the reviews assigned to them (decided or not), the queue (undecided
    reviews nobody has yet), and an appeal they were given or that waits for a second examiner
    they could be (never the first: APPEAL-SECOND-EXAMINER). Other examiners' reviews stay
    theirs."""
    if review.examiner_id == examiner_id:
        return True
    if review.examiner_id is None and review.verdict is None:
        return True
    appeal = review.appeal
    if appeal is None:
        return False
    return appeal.examiner_id == examiner_id or (appeal.open and appeal.examiner_id is None)


def may_see_review(actor: Actor, review: Review, centre_id: UUID) -> bool:
    """The review's pages and media: its examiners (`examiner_may_see`), auditors (they replay
    every decision), the hotline, and the centre of the enrolment it reviews."""
    if actor.role is Role.EXAMINER:
        return examiner_may_see(actor.staff_id, review)
    if actor.role is Role.AUDITOR:
        return True
    return may_act_for_centre(actor, centre_id)
