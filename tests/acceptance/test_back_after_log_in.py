"""A log-in returns to the page that asked for it (a reviewer's tour): the result mail's link,
opened logged out, led through the log-in to « Mes examens », the result and its
« Contester » lost. Only a path of this site is followed, never another site's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import form_token
from ui.journey import Journey
from ui.web.app import create_app
from ui.web.edge import return_path

SECRET = b"n" * 32
PASSWORD = "candidat-pass-1"


@pytest.fixture
def her(platform: Platform) -> Journey:
    journey = Journey(platform, email="lea@example.org")
    journey.sent_for_review()
    journey.set_password(PASSWORD)
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    platform.projections.catch_up(platform.ctx.store)
    return journey


@pytest.fixture
def browser(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        yield client


def _post_log_in(
    client: TestClient[Any], page: str, email: str, password: str, back_to: str | None
) -> Any:
    """The form as the log-in page at `page` (with its `?next=`) sends it."""
    html = client.get(page).text
    fields = {"email": email, "password": password, "_csrf_token": form_token(client, page)}
    if back_to is not None:
        fields["next"] = back_to
    action = page.split("?", maxsplit=1)[0]
    return client.post(action, data=fields, follow_redirects=False), html


def test_the_result_link_opened_logged_out_comes_back_to_the_result_after_log_in(
    her: Journey, browser: TestClient[Any]
) -> None:
    result = f"/results/{her.session_id}"
    asked = browser.get(result, follow_redirects=False)
    assert asked.headers["location"] == f"/login?next={result}"
    page = asked.headers["location"]
    assert f'name="next" value="{result}"' in browser.get(page).text
    # A refused password keeps it: the form she types again still returns there.
    wrong, _ = _post_log_in(browser, page, "lea@example.org", "not-her-password", result)
    assert wrong.status_code == 401 and f'name="next" value="{result}"' in wrong.text
    right, _ = _post_log_in(browser, page, "lea@example.org", PASSWORD, result)
    assert right.headers["location"] == f"/terms?next={result}"  # R5 first, at its turn
    assert browser.get(right.headers["location"], follow_redirects=False).headers["location"] == (
        result
    )
    assert browser.get(result).status_code == 200


def test_the_terms_of_a_first_connection_come_first_then_the_page_that_asked(
    platform: Platform, browser: TestClient[Any]
) -> None:
    first = Journey(platform, email="first@example.org")
    first.enrol()
    first.create_session()
    first.set_password(PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    result = f"/results/{first.session_id}"
    right, _ = _post_log_in(browser, f"/login?next={result}", first.email, PASSWORD, result)
    terms = browser.get(right.headers["location"])
    assert f'name="next" value="{result}"' in terms.text  # R5's page, not skipped
    accepted = browser.post(
        "/terms",
        data={"next": result, "_csrf_token": form_token(browser, "/terms")},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == result


def test_a_log_in_without_a_page_that_asked_goes_to_my_exams(
    her: Journey, browser: TestClient[Any]
) -> None:
    """Dropped otherwise: the log-in page opened on its own leads where it always did."""
    assert 'name="next"' not in browser.get("/login").text
    right, _ = _post_log_in(browser, "/login", "lea@example.org", PASSWORD, None)
    assert right.headers["location"] == "/terms"
    assert browser.get("/terms", follow_redirects=False).headers["location"] == "/exams"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "//evil.example/results",
        "https://evil.example/results",
        "http:evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%252F%252Fevil.example",
        "/%5Cevil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/ /evil.example",
        "results/x",
        "/login",
        "/staff/login?next=/operator",
        "/examiner/reviews",  # a staff page, from the candidates' log-in
        "/résultats",
        "/" + "a" * 2000,
    ],
)
def test_a_log_in_never_leads_to_another_site_nor_a_page_it_should_not(
    her: Journey, browser: TestClient[Any], elsewhere: str
) -> None:
    assert return_path(elsewhere, staff=False) == ""
    page = browser.get(f"/login?next={quote(elsewhere, safe='')}")
    assert 'name="next"' not in page.text
    right, _ = _post_log_in(browser, "/login", "lea@example.org", PASSWORD, elsewhere)
    assert right.headers["location"] == "/terms"
    assert browser.get("/terms", follow_redirects=False).headers["location"] == "/exams"


def test_a_form_posted_logged_out_sends_to_the_log_in_without_coming_back_to_it(
    her: Journey, browser: TestClient[Any]
) -> None:
    """A POST is not replayed by a GET after the log-in: the log-in page is named, saying the
    form was not recorded (`ended`), and leads back only to the form's page (its `Referer`,
    none here; test_second_tab.py), never to the address posted to."""
    form_token(browser, "/login")
    sent = browser.post(
        f"/results/{her.session_id}/appeal",
        data={"reason": "x"},
        headers={"x-csrftoken": browser.cookies.get("vigie_csrf") or ""},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/login?ended=1"


def test_a_review_link_opened_logged_out_comes_back_to_the_review_after_the_staff_log_in(
    her: Journey, browser: TestClient[Any]
) -> None:
    review = f"/examiner/reviews/{her.review_id}"
    asked = browser.get(review, follow_redirects=False)
    assert asked.headers["location"] == f"/staff/login?next={review}"
    page = asked.headers["location"]
    wrong, html = _post_log_in(browser, page, "eve@example.org", "wrong", review)
    assert f'name="next" value="{review}"' in html
    assert wrong.status_code == 401 and f'name="next" value="{review}"' in wrong.text
    right, _ = _post_log_in(browser, page, "eve@example.org", PASSWORD, review)
    assert right.headers["location"] == review
    # A candidate's page is not a staff log-in's way back; neither is another site.
    assert return_path(f"/results/{her.session_id}", staff=True) == ""
    assert return_path("//evil.example/examiner", staff=True) == ""
    assert return_path("/examiner/reviews?page=2", staff=True) == "/examiner/reviews?page=2"


def test_the_page_that_asked_survives_the_second_factor_and_a_wrong_code(
    her: Journey, platform: Platform, browser: TestClient[Any]
) -> None:
    app = browser.app
    staff = platform.projections.staff_by_email["eve@example.org"]
    factors = app.state.second_factors  # type: ignore[attr-defined]
    secret = factors.begin(staff)
    totp = pyotp.TOTP(secret)
    assert factors.confirm(staff, totp.at(platform.ctx.clock.now()))
    platform.ctx.clock.advance(seconds=31)  # type: ignore[attr-defined]
    review = f"/examiner/reviews/{her.review_id}"
    password, _ = _post_log_in(
        browser, f"/staff/login?next={review}", "eve@example.org", PASSWORD, review
    )
    assert password.headers["location"] == "/staff/login/code"
    wrong = browser.post(
        "/staff/login/code",
        data={"code": "000000", "_csrf_token": form_token(browser, "/staff/login/code")},
    )
    assert wrong.status_code == 401
    right = browser.post(
        "/staff/login/code",
        data={
            "code": totp.at(platform.ctx.clock.now()),
            "_csrf_token": form_token(browser, "/staff/login/code"),
        },
        follow_redirects=False,
    )
    assert right.headers["location"] == review
