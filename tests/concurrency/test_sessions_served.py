"""Issue 14 against a real `vigie serve --workers 2` on PostgreSQL: the two processes share
the sessions. A logged-out cookie, replayed, is refused by both; a password reset made by
another process ends the candidate's sessions on both."""

from __future__ import annotations

from datetime import datetime

from tests.concurrency.served import Served
from ui.journey import PARIS, Journey
from ui.serve import DEMO_EMAIL, EXAMINER_EMAIL

TRIES = 12  # enough for both workers to answer several times each


def _answers(served: Served, cookies: dict[str, str], path: str) -> set[str]:
    """What TRIES requests with these cookies got: "page", or where they were sent."""
    with served.client(cookies=cookies) as replay:
        answers = [replay.get(path) for _ in range(TRIES)]
    return {"page" if a.status_code == 200 else a.headers.get("location", "?") for a in answers}


def _refused(served: Served, cookies: dict[str, str], path: str) -> bool:
    return all(where.split("?")[0].endswith("login") for where in _answers(served, cookies, path))


def _accepted(served: Served, cookies: dict[str, str], path: str) -> bool:
    return _answers(served, cookies, path) == {"page"}


def test_logout_and_a_reset_end_sessions_on_every_worker(served: Served) -> None:
    desk = served.staff_client(EXAMINER_EMAIL)
    try:
        stolen = dict(desk.cookies)
        assert _accepted(served, stolen, "/examiner/reviews")
        served.post_form(desk, "/logout", {}, token_from="/examiner/reviews")
        assert _refused(served, stolen, "/examiner/reviews")
    finally:
        desk.close()

    with served.client() as laptop:
        served.log_in_candidate(laptop)
        kept = dict(laptop.cookies)
        assert _accepted(served, kept, "/exams")
        platform = served.platform(datetime.now(PARIS))
        try:
            platform.projections.catch_up(platform.ctx.store)
            candidate_id = platform.projections.find_by_email(DEMO_EMAIL)
            Journey(platform, email=DEMO_EMAIL, candidate_id=candidate_id).set_password(
                "a-brand-new-password"
            )
        finally:
            platform.close()
        assert _refused(served, kept, "/exams")
