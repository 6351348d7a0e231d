"""Security finding F7's follow-up against a real `vigie serve --workers 2` on PostgreSQL: wrong
passwords sent all at once, not one after the other. Each attempt takes its place in the
account's counts before its password is checked, so a burst of forty from one address gets
ten passwords checked (each a 401), and the other thirty are refused (429) without a check,
as the eleventh of a slow guesser is; the candidate's own browser still logs in. A member of
staff's second factor alike: forty wrong codes at once, from forty addresses, get ten tried.

Before, every request of a burst read the counts before any failure was written, and all went
on to a password check (a reviewer's).

Each browser leaves from its own loopback address (127.0.0.0/8 is all this machine's); the
form limit per address and minute (Litestar's) answers 429 too, in words of its own: the
count of checks is the count of 401s."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import pyotp

from app.login_throttle import MAX_FAILURES
from tests.concurrency.served import Served
from ui.serve import DEMO_EMAIL, DEMO_PASSWORD, EXAMINER_EMAIL

AT_ONCE = 40
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
_ALERT = re.compile(r'role="alert"[^>]*>\s*<p>([^<]+)</p>')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
# What the log-in counts say when they refuse (the form limit's 429 says something else).
THROTTLED = (
    "Trop de tentatives de connexion échouées pour ce compte depuis ce navigateur ou ce "
    "réseau. Réessayez dans 15 minutes. Vous pouvez aussi demander un nouveau mot de passe."
)
FORM_LIMIT = "Trop de tentatives en peu de temps. Attendez une minute, puis réessayez."
CODES_THROTTLED = (
    "Trop de tentatives de connexion échouées pour ce compte. Attendez 15 minutes puis réessayez."
)


def _browser(served: Served, address: str, **options: object) -> httpx.Client:
    """A browser whose requests leave from `address`."""
    return httpx.Client(
        base_url=served.url,
        follow_redirects=False,
        timeout=120.0,
        transport=httpx.HTTPTransport(local_address=address),
        **options,  # type: ignore[arg-type]
    )


def _token(browser: httpx.Client, path: str) -> str:
    found = _TOKEN.search(browser.get(path).text)
    assert found is not None, path
    return found.group(1)


def _said(reply: httpx.Response) -> str:
    found = _ALERT.search(reply.text)
    return html.unescape(found.group(1)).replace("\xa0", " ") if found else ""


def _all_at_once(posts: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Every post sent at the same moment (each thread waits for the others first)."""
    start = threading.Barrier(len(posts))

    def send(post: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return post()

    with ThreadPoolExecutor(len(posts)) as pool:
        return list(pool.map(send, posts))


def test_a_burst_of_wrong_passwords_gets_ten_checked_and_her_browser_still_logs_in(
    served: Served,
) -> None:
    # Camille logs in from her laptop: a browser her account knows.
    laptop = _browser(served, "127.0.0.2")
    login = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    assert laptop.post(
        "/login", data={**login, "_csrf_token": _token(laptop, "/login")}
    ).is_redirect

    # Forty wrong passwords from one address, sent at once (each its own connection).
    guessers = [_browser(served, "127.0.0.3") for _ in range(AT_ONCE)]
    posts: list[Callable[[], httpx.Response]] = []
    for n, guesser in enumerate(guessers):
        form = {
            "email": DEMO_EMAIL,
            "password": f"guess-{n}",
            "_csrf_token": _token(guesser, "/login"),
        }
        posts.append(partial(guesser.post, "/login", data=form))
    replies = _all_at_once(posts)
    statuses = sorted(r.status_code for r in replies)
    checked = statuses.count(401)
    assert checked == MAX_FAILURES, f"{checked} passwords checked: {statuses}"
    assert statuses.count(429) == AT_ONCE - MAX_FAILURES, statuses
    # The others say what they always said: the counts' refusal with the time to wait, or
    # (those the form limit stopped first) its own words.
    for refused in (r for r in replies if r.status_code == 429):
        assert _said(refused) in (THROTTLED, FORM_LIMIT), _said(refused)
        assert 0 < int(refused.headers["retry-after"]) <= 900

    # Even the right password is refused at that address now, and not checked.
    stopped = guessers[0].post(
        "/login", data={**login, "_csrf_token": _token(guessers[0], "/login")}
    )
    assert stopped.status_code == 429
    for guesser in guessers:
        guesser.close()
    # Her laptop logs in as before.
    assert laptop.post(
        "/login", data={**login, "_csrf_token": _token(laptop, "/login")}
    ).is_redirect
    laptop.close()


def test_a_burst_of_wrong_codes_gets_ten_tried(served: Served) -> None:
    # The examiner turns a second factor on (her password again, then her app's first code).
    desk = _browser(served, "127.0.0.2")
    staff = {"email": EXAMINER_EMAIL, "password": DEMO_PASSWORD}
    assert desk.post(
        "/staff/login", data={**staff, "_csrf_token": _token(desk, "/staff/login")}
    ).is_redirect
    token = _token(desk, "/staff/security")
    begun = desk.post(
        "/staff/security/second-factor", data={"current": DEMO_PASSWORD, "_csrf_token": token}
    )
    found = _SECRET.search(begun.text)
    assert found is not None, begun.text
    code = pyotp.TOTP(found.group(1)).at(served.now())
    on = desk.post(
        "/staff/security/second-factor/confirm", data={"code": code, "_csrf_token": token}
    )
    assert on.status_code == 200, on.text
    desk.close()

    # Someone with her password: the code is asked. Forty wrong codes at once, from forty
    # addresses (the form limit per address never answers), with her pending log-in.
    thief = _browser(served, "127.0.0.3")
    assert (
        thief.post("/staff/login", data={**staff, "_csrf_token": _token(thief, "/staff/login")})
        .headers["location"]
        .endswith("/staff/login/code")
    )
    token = _token(thief, "/staff/login/code")
    now = served.now()
    codes_now = {pyotp.TOTP(found.group(1)).at(now, counter_offset=offset) for offset in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in codes_now)
    tries = [
        _browser(served, f"127.0.2.{n + 1}", cookies=dict(thief.cookies)) for n in range(AT_ONCE)
    ]
    form = {"code": wrong, "_csrf_token": token}
    posts = [partial(one.post, "/staff/login/code", data=form) for one in tries]
    replies = _all_at_once(posts)
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(401) == MAX_FAILURES, statuses
    assert statuses.count(429) == AT_ONCE - MAX_FAILURES, statuses
    assert all(CODES_THROTTLED in _said(r) for r in replies if r.status_code == 429)
    # Ten wrong codes counted: even the right one is refused now, for fifteen minutes.
    right = pyotp.TOTP(found.group(1)).at(served.now())
    late = thief.post("/staff/login/code", data={"code": right, "_csrf_token": token})
    assert late.status_code == 429 and CODES_THROTTLED in _said(late)
    for one in tries:
        one.close()
    thief.close()
