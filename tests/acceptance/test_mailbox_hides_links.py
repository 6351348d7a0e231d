"""Security finding F2: the hotline read every single-use link on its mailbox page.

The tester's reproduction: as support, « Renvoyer → L'e-mail de connexion » for any
candidate (any centre's), read the fresh link on /operator/mailbox, open it, choose a
password, log in as the candidate. The page now hides every personal link, in both
languages, and says where the whole mail is read: `vigie mailbox --full`, run where the
platform runs, which still prints it in full.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.capture import SmtpCapture
from adapters.mail.smtp import SmtpMailer
from app.mail_rendering import SupportContact
from domain.candidate import Candidate
from domain.staff import Role
from tests.acceptance.web import candidate, form_token, log_in, register_staff
from ui.cli import main
from ui.journey import PARIS, Journey
from ui.web import operator
from ui.web.app import create_app
from ui.web.mail_view import Piece, hide_personal_links

SECRET = b"m" * 32
PASSWORD = "hotline-pass-12"
SUPPORT = "sam@example.org"
TAKEN = "Taken-over-123!"
# A link carrying a single-use secret, as the tester read it on the page.
SIGNED_LINK = re.compile(r"/(?:password/reset|sessions/new)\?t=([^\s<\"']+)")
FORM_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The embedded capture's Maildir, as `vigie serve` keeps it, read by the page."""
    folder = tmp_path / "mailbox"
    monkeypatch.setattr(operator, "MAILBOX", folder)
    yield folder


@pytest.fixture
def platform(box: Path) -> Iterator[Platform]:
    with SmtpCapture(mailbox_dir=box) as capture:
        mailer = SmtpMailer(capture.host, capture.port, timeout=2.0, local_hostname="vigie.test")
        platform = bootstrap(
            Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
            clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
            ids=SeededIds(61),
            mailer=mailer,
        )
        register_staff(platform, PASSWORD, {SUPPORT: Role.SUPPORT})
        platform.projections.catch_up(platform.ctx.store)
        yield platform
        platform.close()


def tokens_of(platform: Platform, journey: Journey) -> list[str]:
    """Every reset token the store holds for the candidate, and each one's signed form."""
    assert journey.candidate_id is not None
    held = platform.ctx.store.get(journey.candidate_id, Candidate).reset_tokens
    signed = [platform.links.sign("password-reset", f"{journey.candidate_id}:{t}") for t in held]
    return [*held, *(s.rpartition(".")[2] for s in signed)]


def support_resends_the_log_in_mail(platform: Platform, client: TestClient[Any], j: Journey) -> str:
    """The tester's steps as support: resend the log-in mail, then read the mailbox page."""
    page = f"/hotline/candidates/{j.candidate_id}"
    sent = client.post(
        f"/hotline/enrolments/{j.enrollment_id}/resend",
        data={"mail": "log_in", "reason": "lost", "_csrf_token": form_token(client, page)},
        follow_redirects=False,
    )
    assert sent.status_code in (302, 303), sent.text[-400:]
    platform.settle()  # the worker sends it to the capture
    mailbox = client.get("/operator/mailbox")
    assert mailbox.status_code == 200
    return html.unescape(mailbox.text)


def take_over(platform: Platform, page: str, email: str) -> bool:
    """The rest of the reproduction, anonymous: every link read on the page opened, a
    password chosen, a log-in as the candidate tried. Whether it got in."""
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as stranger:
        for found in SIGNED_LINK.findall(page):
            token = unquote(found)
            form = FORM_TOKEN.search(stranger.get("/password/reset", params={"t": token}).text)
            if form is None or 'name="password"' not in form.string:  # a used link: no form
                continue
            data = {"token": token, "password": TAKEN, "_csrf_token": form.group(1)}
            stranger.post("/password/reset", data=data)
        reply = stranger.post(
            "/login",
            data={"email": email, "password": TAKEN, "_csrf_token": form_token(stranger, "/login")},
            follow_redirects=False,
        )
        return reply.status_code in (302, 303) and "/login" not in reply.headers["location"]


@pytest.mark.parametrize(
    ("language", "hidden", "where"),
    [
        ("fr", "(lien personnel masqué)", "Là où tourne la plateforme"),
        ("en", "(personal link hidden)", "Where the platform runs"),
    ],
)
def test_support_reads_who_was_mailed_what_and_when_but_no_link_and_cannot_take_over(
    platform: Platform, language: str, hidden: str, where: str
) -> None:
    journey = candidate(platform, "lyon.b@example.org", language=language)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", SUPPORT, PASSWORD)
        client.get(f"/lang/{language}")
        page = support_resends_the_log_in_mail(platform, client, journey)
    # What support needs: the mails went out, to whom, their subject, when.
    subject = "Bienvenue sur votre espace" if language == "fr" else "Welcome to your"
    assert f"<h2>{subject}" in page and "<dd>lyon.b@example.org</dd>" in page
    sent = "Envoyé" if language == "fr" else "Sent"
    assert re.search(rf"<dt>{sent}</dt><dd>[^<]*\d{{2}}:\d{{2}}[^<]*</dd>", page)
    # Not the secret: no token the store recorded, nor its signature, nor any `?t=`.
    for secret in tokens_of(platform, journey):
        assert secret not in page, secret
    assert "?t=" not in page and not SIGNED_LINK.search(page)
    # Where the link was, and why, in the page's language.
    assert hidden in page and "/password/reset" in page
    assert where in page and "vigie mailbox --full" in page
    # The reproduction goes no further: nothing to open, the candidate keeps her account.
    assert not take_over(platform, page, journey.email)


def test_the_command_line_still_prints_the_whole_mail_with_its_link(
    platform: Platform, box: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever runs `vigie mailbox` on the machine holds the store already: the developer
    on `make run` follows the demo's links from there (README)."""
    journey = candidate(platform, "camille@example.org")
    assert main(["mailbox", "--dir", str(box), "--full"]) == 0
    printed = capsys.readouterr().out
    assert "/password/reset?t=" in printed and "/sessions/new?t=" in printed
    token_ids = tokens_of(platform, journey)[: len(tokens_of(platform, journey)) // 2]
    assert any(token_id in printed for token_id in token_ids)


def test_every_kind_of_secret_in_a_link_is_hidden_and_the_words_around_it_stay() -> None:
    text = (
        "Cliquez : http://127.0.0.1:8000/password/reset?t=abc%3Adef.0123456789abcdef.\n"
        "Créez votre session : https://vigie.example/sessions/new?t=e1.ff&x=1#frag\n"
        "Relatif (/password/reset?t=zz) ; nu : ?t=secret ; &token=s2\n"
        "Connectez-vous sur http://127.0.0.1:8000/login le 04/03/2025 ? Oui. Mail #2."
    )
    pieces = hide_personal_links(text)
    shown = "".join("[hidden]" if p.hidden else p.text for p in pieces)
    assert shown == (
        "Cliquez : http://127.0.0.1:8000/password/reset[hidden].\n"
        "Créez votre session : https://vigie.example/sessions/new[hidden]\n"
        "Relatif (/password/reset[hidden]) ; nu : [hidden] ; [hidden]\n"
        "Connectez-vous sur http://127.0.0.1:8000/login le 04/03/2025 ? Oui. Mail #2."
    )
    for secret in ("abc", "0123456789abcdef", "e1.ff", "frag", "zz", "secret", "s2"):
        assert secret not in shown
    assert hide_personal_links("Rien à cacher.") == [Piece("Rien à cacher.")]
