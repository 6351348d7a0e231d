"""The guide's rules read as sentences on the staff pages, never as a bare code (R1–R26 stay
named in the code, the tests and the pages' `data-rule`, so a refusal traces to the guide).

A user's tour read « Motifs d'invalidation, chacun avec ses preuves règle R20 », « Exception
téléphone règle R20 », « Valider malgré un motif … règle R19 » on the examiner's form and the
appeal's, « Renouveler la session règle R3 », « Noter un problème technique règle R20 » on the
hotline's case file, « règle R21 règle R20 » on the auditor's replay, and a tooltip in English
on the French review, « R20 — 1 detector flag(s) to check in the recording ». Examiners and
support read what the rule says, its code only in a title; the auditor, whose page is for
tracing decisions to the guide, reads the code with what the rule says."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts, appeals, reviewing
from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.acceptance.test_review_page import SECRET, platform  # noqa: F401 (the fixture)
from tests.acceptance.web import log_in
from ui.journey import FLAG_HINT_WORDS, Journey
from ui.web.app import create_app
from ui.web.rule_words import RULE_SENTENCES, rule_sentence

PASSWORD = "staff-rules-pass-1"
BARE_CODE = re.compile(r"\b(?:règle|rule) R\d+\b")


def visible(page: str) -> str:
    """What a reader sees: tags and their attributes (titles included) removed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def titles(page: str, marker: str) -> list[str]:
    """The `title` of each element whose opening tag holds `marker`."""
    return [html.unescape(t) for t in re.findall(rf'<[^>]*{marker}[^>]*title="([^"]*)"', page)]


@pytest.fixture
def staff(platform: Platform) -> dict[Role, Any]:  # noqa: F811
    ctx = platform.ctx
    return {
        role: accounts.register_staff(
            ctx, email=f"{name}@example.org", name=name, role=role, password=PASSWORD
        )
        for role, name in (
            (Role.EXAMINER, "ines"),
            (Role.SUPPORT, "sam"),
            (Role.AUDITOR, "ada"),
        )
    } | {
        "second": accounts.register_staff(
            ctx, email="bob@example.org", name="bob", role=Role.EXAMINER, password=PASSWORD
        )
    }


@pytest.fixture
def clients(platform: Platform) -> Iterator[Any]:  # noqa: F811
    opened: list[TestClient[Any]] = []

    def client(email: str, language: str) -> TestClient[Any]:
        c = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
        c.__enter__()
        opened.append(c)
        log_in(c, "/staff/login", email, PASSWORD)
        c.get(f"/lang/{language}")
        return c

    yield client
    for c in opened:
        c.__exit__(None, None, None)


def test_every_rule_of_the_guide_has_its_sentence_in_both_languages() -> None:
    assert sorted(RULE_SENTENCES, key=lambda r: int(r[1:])) == [f"R{n}" for n in range(1, 27)]
    for rule in RULE_SENTENCES:
        english, french = rule_sentence("en", rule), rule_sentence("fr", rule)
        assert english and french and english != french, rule
        assert "%(" not in english + french, rule  # every number filled in
    assert "15 jours" in rule_sentence("fr", "R3") and "jour 90" in rule_sentence("fr", "R3")
    assert rule_sentence("fr", "APPEAL-ONCE") == ""  # the domain's own names have none


@pytest.mark.parametrize("language", ["fr", "en"])
def test_examiner_support_and_auditor_read_the_rules_in_words_r19_r20(
    platform: Platform,  # noqa: F811
    staff: dict[Any, Any],
    clients: Any,
    language: str,
) -> None:
    ctx = platform.ctx
    journey = Journey(platform)
    review_id = journey.sent_with_a_phone_flag()  # a detector's phone flag: a hint (R20)
    reviewing.assign_examiner(ctx, review_id, staff[Role.EXAMINER])
    r20 = rule_sentence(language, "R20")

    # The examiner's review: the form's parts say what their rule says, never its code.
    examiner = clients("ines@example.org", language)
    page = examiner.get(f"/examiner/reviews/{review_id}").text
    shown = visible(page)
    assert not BARE_CODE.findall(shown), BARE_CODE.findall(shown)
    assert r20 in visible(between(page, 'id="reasons"', "</fieldset>"))
    # The hint's tooltip: in the page's language, its rule's sentence, the code in brackets.
    (hint,) = titles(page, 'class="hint"')
    if language == "fr":
        flagged = "1 signalement de détecteur à vérifier dans l'enregistrement."
        assert hint == f"{flagged} Le guide : {r20} (R20)"
    else:
        assert hint == f"1 detector flag to check in the recording. The guide: {r20} (R20)"
    assert "flag(s)" not in hint and not hint.startswith("R20")

    # Decided against the recommendation, released, contested: the second examiner's form.
    flag = next(e for e in ctx.store.get(review_id, Review).evidence if e.kind == "FlagRaised")
    reviewing.decide_review(
        ctx,
        review_id,
        examiner_id=staff[Role.EXAMINER],
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.PHONE_USED, (flag.id,), FLAG_HINT_WORDS),),
    )
    reviewing.release_results(ctx, review_id, released_by=staff[Role.EXAMINER])
    assert journey.candidate_id is not None
    appeals.lodge_appeal(ctx, review_id, candidate_id=journey.candidate_id, reason="mon réveil")
    appeals.take_appeal(ctx, review_id, staff["second"])
    second = clients("bob@example.org", language)
    page = second.get(f"/examiner/appeals/{review_id}").text
    assert not BARE_CODE.findall(visible(page)), BARE_CODE.findall(visible(page))
    assert r20 in visible(between(page, 'id="reasons"', "</fieldset>"))

    # The hotline's case file: each action's rule inside it, in words.
    support = clients("sam@example.org", language)
    page = support.get(f"/hotline/candidates/{journey.candidate_id}").text
    shown = visible(page)
    assert not BARE_CODE.findall(shown), BARE_CODE.findall(shown)
    summaries = re.findall(r"<summary>(.*?)</summary>", page)
    assert summaries and all("rule-ref" not in s for s in summaries), summaries
    # « Record a technical problem » says in its own words when a phone is allowed (R20's
    # whole sentence, the examiner's, stood above it too: a tester's tour).
    assert ("problème technique avéré" if language == "fr" else "proven technical problem") in (
        shown
    )

    # The auditor's replay: the code stays, with what the rule says.
    auditor = clients("ada@example.org", language)
    shown = visible(auditor.get(f"/auditor/reviews/{review_id}").text)
    code = "règle" if language == "fr" else "rule"
    assert f"{code} R20 — {r20}" in shown
    for bare in BARE_CODE.finditer(shown):
        assert shown[bare.end() :].startswith(" — "), shown[bare.start() : bare.end() + 40]
