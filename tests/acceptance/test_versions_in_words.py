"""A rule set's and a verdict function's versions read in words (a reviewer's tour): the
auditor's page read « rules-2026-12 / verdict-2026-12 » and « verdict-2026-12 » beside each
recommendation, the examiner's page « Règles rules-2026-12 ». Now « Règles : Version de
décembre 2026 », « Fonction de verdict de décembre 2026 »; the version itself stays in a title
(`vigie audit what-if --rules` takes it)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.rules import CURRENT_RULES
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.journey import Journey, make_platform
from ui.web.app import create_app
from ui.web.review_words import version_words, versions_words

SECRET = b"v" * 32
PASSWORD = "staff-pass-1"


@pytest.mark.parametrize(
    ("version", "french", "english"),
    [
        ("rules-2026-12", "règles de décembre 2026", "December 2026 rules"),
        (
            "verdict-2026-12",
            "fonction de verdict de décembre 2026",
            "December 2026 verdict function",
        ),
        (
            "verdict-2025-03-strict-faces",
            "fonction de verdict de mars 2025 (variante : plusieurs visages à forte confiance "
            "sont un motif)",
            "March 2025 verdict function (variant: several faces at high confidence are a ground)",
        ),
        (
            "rules-2027-01-later",
            "règles de janvier 2027 (variante : later)",
            "January 2027 rules (variant: later)",
        ),
        # Another form (a version written by hand, a month that is none): as it is.
        ("local-rules", "local-rules", "local-rules"),
        ("rules-2026-13", "rules-2026-13", "rules-2026-13"),
    ],
)
def test_a_version_reads_as_the_month_it_took_effect(
    version: str, french: str, english: str
) -> None:
    assert version_words(version, "fr") == french
    assert version_words(version, "en") == english
    capital = french if french == version else french[:1].upper() + french[1:]
    assert version_words(version, "fr", capital=True) == capital  # never a code changed


def test_a_rule_set_and_its_verdict_function_of_one_month_read_as_one_version() -> None:
    assert versions_words("rules-2026-12", "verdict-2026-12", "fr") == "Version de décembre 2026"
    assert versions_words("rules-2026-12", "verdict-2026-12", "en") == "December 2026 version"
    # A rule set of the month that kept its verdict function: one version, its variant said.
    assert versions_words("rules-2026-12-live-slot", "verdict-2026-12", "en") == (
        "December 2026 version (variant: a live-supervised exam opens only around its booked slot)"
    )
    # Judged by another month's function (a what-if): each said.
    assert versions_words("rules-2026-12", "verdict-2025-03", "fr") == (
        "Règles de décembre 2026, fonction de verdict de mars 2025"
    )


@pytest.fixture
def decided() -> Iterator[tuple[Platform, Journey]]:
    platform = make_platform()
    staff = {}
    for email, role in (("eve@example.org", Role.EXAMINER), ("ada@example.org", Role.AUDITOR)):
        staff[role] = accounts.register_staff(
            platform.ctx, email=email, name=email, role=role, password=PASSWORD
        )
    journey = Journey(platform)
    journey.in_exam()
    journey.answer_and_send()
    journey.decided(staff[Role.EXAMINER])
    yield platform, journey
    platform.close()


def read(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize(
    ("language", "verdict", "both", "dt"),
    [
        (
            "fr",
            "Fonction de verdict de décembre 2026",
            "Version de décembre 2026 (variante : un examen surveillé en direct ne s'ouvre "
            "qu'autour de son créneau réservé ; invalider une recommandation « validée » sur "
            "les seuls signalements des détecteurs demande des raisons écrites)",
            "Règles",
        ),
        (
            "en",
            "December 2026 verdict function",
            "December 2026 version (variant: a live-supervised exam opens only around its "
            "booked slot; invalidating a validated recommendation on detector flags alone "
            "takes written reasons)",
            "Rules",
        ),
    ],
)
def test_the_auditors_and_the_examiners_pages_say_the_versions_in_words(
    decided: tuple[Platform, Journey],
    language: str,
    verdict: str,
    both: str,
    dt: str,
) -> None:
    platform, journey = decided
    # The current rule set: rules-2026-12's numbers and verdict, with R2's entry window.
    assert CURRENT_RULES.version == "rules-2026-12-flag-hint"
    app = create_app(platform, secret=SECRET, support=SupportContact())
    pages = {}
    for who, path in (
        ("ada@example.org", f"/auditor/reviews/{journey.review_id}"),
        ("eve@example.org", f"/examiner/reviews/{journey.review_id}"),
    ):
        with TestClient(app) as client:
            log_in(client, "/staff/login", who, PASSWORD)
            if language == "en":
                client.get("/lang/en")
            pages[who] = client.get(path).text
    audit, review = pages["ada@example.org"], pages["eve@example.org"]

    facts = read(audit.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0])
    assert both in facts
    assert "rules-2026-12" not in facts and "verdict-2026-12" not in facts
    # the versions, for the curious
    assert 'title="rules-2026-12-flag-hint / verdict-2026-12"' in audit
    headings = [read(h) for h in re.findall(r"<h2>(Recomm.*?)</h2>", audit, re.S)]
    assert len(headings) == 2 and all(h.endswith(verdict) for h in headings), headings
    assert 'title="verdict-2026-12"' in audit

    own = re.search(rf"<dt>{dt}</dt><dd[^>]*>([^<]*)</dd>", review)
    assert own is not None and html.unescape(own.group(1)) == both, own  # « Règles : … »
    assert "rules-2026-12" not in read(review.split("<h1>", 1)[1].split("</dl>", 1)[0])
