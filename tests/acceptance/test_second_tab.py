"""A form sent from a second tab is never lost without a word (a tester's tour, item 19).

- The candidate's appeal sent from a second tab after the first one's: the page says the
  appeal had already been sent, shows the one recorded, and keeps the text she typed there.
- A staff form posted after logging out in another tab: the log-in page says the session had
  ended and the form was not recorded, and once logged in again leads back to its page.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from app.use_cases import accounts
from domain.review import Review
from domain.staff import Role
from tests.acceptance.test_appeals import (
    PASSWORD,
    examiner,
    invalidated_and_sent,
    logged_in,
    post_form,
)
from tests.acceptance.web import form_token
from ui.journey import Journey

FIRST = "je portais des bouchons d'oreille prescrits par mon médecin"
SECOND = "second onglet : mon téléphone servait à appeler la hotline"


def test_an_appeal_sent_from_a_second_tab_says_it_was_not_sent_and_keeps_its_text(
    journey: Journey,
) -> None:
    platform = journey.platform
    review = invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    with logged_in(platform, "/login", journey.email) as candidate:
        # Both tabs opened the result (one CSRF cookie for the browser: one token serves).
        token = form_token(candidate, result)
        sent = candidate.post(
            f"{result}/appeal",
            data={"reason": FIRST, "_csrf_token": token},
            follow_redirects=False,
        )
        assert sent.status_code in (302, 303)
        second = candidate.post(
            f"{result}/appeal",
            data={"reason": SECOND, "_csrf_token": token},
            follow_redirects=False,
        )
        assert second.status_code == 409
        said = html.unescape(second.text)
        assert "Votre contestation avait déjà été envoyée" in said
        assert "le texte ci-dessous n'a pas été envoyé" in said
        # Her second text, kept to copy; the one recorded, shown back to her.
        assert re.search(r'<textarea id="unsent-reason"[^>]*readonly[^>]*>' + SECOND, said)
        assert re.search(
            r'<blockquote id="appeal-reason"><bdi>' + FIRST + "</bdi></blockquote>", said
        )  # isolated from the page's words (F9)
        # On the result page itself, she reads what she sent.
        page = html.unescape(candidate.get(result).text)
        assert FIRST in page and SECOND not in page
    kept = platform.ctx.store.get(review.id, Review).appeal
    assert kept is not None and kept.reason == FIRST


def test_the_same_appeal_in_english_says_so_in_english(journey: Journey) -> None:
    platform = journey.platform
    invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    with logged_in(platform, "/login", journey.email) as candidate:
        candidate.get("/lang/en")
        assert post_form(candidate, result, f"{result}/appeal", reason=FIRST).status_code in (
            302,
            303,
        )
        second = post_form(candidate, result, f"{result}/appeal", reason=SECOND)
        said = html.unescape(second.text)
        assert "Your appeal had already been sent" in said
        assert "the text below was not sent" in said and SECOND in said


def test_a_staff_form_posted_after_logging_out_elsewhere_is_said_not_recorded(
    journey: Journey,
) -> None:
    platform = journey.platform
    accounts.register_staff(
        platform.ctx, email="ana@example.org", name="Ana", role=Role.EXAMINER, password=PASSWORD
    )
    page = "/examiner/reviews"
    with logged_in(platform, "/staff/login", "ana@example.org") as staff:
        token = form_token(staff, page)
        # Another tab logs out (the same browser: the same cookies).
        assert staff.post("/logout", data={"_csrf_token": token}).status_code in (200, 302, 303)
        refused = staff.post(
            "/examiner/reviews/9cc6a729-fb50-593d-ab1d-0a6a4b93c71d/assign",
            data={"_csrf_token": token},
            headers={"referer": f"{staff.base_url}{page}"},
            follow_redirects=False,
        )
        assert refused.status_code in (302, 303)
        where = urlsplit(refused.headers["location"])
        assert where.path == "/staff/login"
        assert parse_qs(where.query) == {"ended": ["1"], "next": [page]}
        said = html.unescape(staff.get(refused.headers["location"]).text)
        assert "Votre session avait pris fin" in said
        assert "le formulaire envoyé n'a pas été enregistré" in said
        assert f'name="next" value="{page}"' in said
        # Logged in again, back to the page the form was on.
        back = staff.post(
            "/staff/login",
            data={
                "email": "ana@example.org",
                "password": PASSWORD,
                "next": page,
                "_csrf_token": form_token(staff, refused.headers["location"]),
            },
            follow_redirects=False,
        )
        assert urlsplit(back.headers["location"]).path == page
        # A log-in page opened on its own says nothing of the kind.
        staff.post("/logout", data={"_csrf_token": form_token(staff, page)})
        assert "Votre session avait pris fin" not in html.unescape(staff.get("/staff/login").text)


def test_a_referer_from_another_site_is_never_a_way_back() -> None:
    from litestar import Litestar, Request, post
    from litestar.testing import TestClient

    from ui.web.edge import log_in_address

    @post("/examiner/reviews/x/take")
    async def taken(request: Request) -> str:  # type: ignore[type-arg]
        return log_in_address(request)

    with TestClient(Litestar([taken])) as client:
        said = client.post(
            "/examiner/reviews/x/take", headers={"referer": "https://evil.example/examiner/reviews"}
        )
        assert said.text == "/staff/login?ended=1"
        said = client.post(
            "/examiner/reviews/x/take", headers={"referer": f"{client.base_url}/login"}
        )
        assert said.text == "/staff/login?ended=1"


def test_a_candidate_form_after_logging_out_elsewhere_is_said_not_recorded(
    journey: Journey,
) -> None:
    platform = journey.platform
    invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    with logged_in(platform, "/login", journey.email) as candidate:
        token = form_token(candidate, result)
        candidate.post("/logout", data={"_csrf_token": token})
        refused = candidate.post(
            f"{result}/appeal",
            data={"reason": FIRST, "_csrf_token": token},
            headers={"referer": f"{candidate.base_url}{result}"},
            follow_redirects=False,
        )
        where = refused.headers["location"]
        assert where == f"/login?ended=1&next={result}"
        said = html.unescape(candidate.get(where).text)
        assert "le formulaire envoyé n'a pas été enregistré" in said
