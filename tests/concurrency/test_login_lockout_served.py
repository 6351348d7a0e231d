"""Security finding F7 against a real `vigie serve --workers 2` on PostgreSQL, each browser on
its own loopback address (127.0.0.0/8 is all this machine's): one address guessing a
password is stopped after ten failures, without shutting the account for anyone else; guessers
spread over a hundred addresses reach the account's ceiling, which shuts the browsers it was
never used from but not the candidate's own (her known-device cookie), wherever she takes it.
The counts are the two web processes' shared rows in PostgreSQL."""

from __future__ import annotations

import html
import re
import time

import httpx

from tests.concurrency.served import Served
from ui.serve import DEMO_EMAIL, DEMO_PASSWORD

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
_ALERT = re.compile(r'role="alert"[^>]*>\s*<p>([^<]+)</p>')


def _browser(served: Served, address: str, **options: object) -> httpx.Client:
    """A browser whose requests leave from `address`."""
    return httpx.Client(
        base_url=served.url,
        follow_redirects=False,
        timeout=60.0,
        transport=httpx.HTTPTransport(local_address=address),
        **options,  # type: ignore[arg-type]
    )


def _log_in(browser: httpx.Client, password: str, email: str = DEMO_EMAIL) -> httpx.Response:
    found = _TOKEN.search(browser.get("/login").text)
    assert found is not None
    return browser.post(
        "/login", data={"email": email, "password": password, "_csrf_token": found.group(1)}
    )


def _said(reply: httpx.Response) -> str:
    found = _ALERT.search(reply.text)
    return html.unescape(found.group(1)) if found else ""


def test_guessers_never_lock_the_candidate_out_of_her_own_browser(served: Served) -> None:
    # Camille logs in from her laptop: it becomes a browser her account knows.
    laptop = _browser(served, "127.0.0.2")
    assert _log_in(laptop, DEMO_PASSWORD).status_code == 302
    assert "vigie_device" in laptop.cookies

    # (a) One address guessing: ten wrong passwords in a minute (the address's own limit of
    # form posts a minute, Litestar's, stops an eleventh within that minute).
    guesser = _browser(served, "127.0.0.3")
    started = time.monotonic()
    assert [_log_in(guesser, f"guess-{n}").status_code for n in range(10)] == [401] * 10
    # The account is not shut: from another address, the right password works at once.
    with _browser(served, "127.0.0.4") as elsewhere:
        assert _log_in(elsewhere, DEMO_PASSWORD).status_code == 302

    # (b) Ninety more addresses, one guess each: the account's ceiling (100) is reached.
    for n in range(90):
        with _browser(served, f"127.0.1.{n + 1}") as spread:
            assert _log_in(spread, f"spread-{n}").status_code == 401
    with _browser(served, "127.0.0.5") as stranger:
        shut = _log_in(stranger, DEMO_PASSWORD)
        assert shut.status_code == 429
        assert "ne s'ouvre plus que dans un navigateur depuis lequel" in _said(shut)
        assert 840 < int(shut.headers["retry-after"]) <= 900

    # Back to the first guesser, past the minute: its ten failures still refuse it, even
    # with the right password, saying when it may try again.
    time.sleep(max(0.0, 61 - (time.monotonic() - started)))
    stopped = _log_in(guesser, DEMO_PASSWORD)
    guesser.close()
    assert stopped.status_code == 429
    assert 600 < int(stopped.headers["retry-after"]) <= 840  # the first failure's 15 min
    assert re.search(
        r"depuis ce navigateur ou ce réseau\. Réessayez dans 1?\d minutes\.", _said(stopped)
    ), _said(stopped)

    # (c) Her laptop still logs in, and so does it from a café's network.
    assert _log_in(laptop, DEMO_PASSWORD).status_code == 302
    with _browser(served, "127.0.0.6", cookies=dict(laptop.cookies)) as cafe:
        assert _log_in(cafe, DEMO_PASSWORD).status_code == 302
    laptop.close()
