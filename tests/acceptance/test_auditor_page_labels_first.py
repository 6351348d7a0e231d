"""The auditor's replay of a decision reads labels first (a reviewer's tour): the page was
titled « Contrôle 349a6c66-fd51-… », named the examiners « Eve Examinatrice ede34179-90ec-… »,
cited each fact as « 465883c3-0501-…/97 » and one hint as 29 such references in a row. Now the
review is titled by its candidate, certification and exam's day; the examiners by name; each
cited fact by what it is and when, linked to its row of the evidence table; a long list folded
under its count (« 6 preuves »). The references stay on the page for the years-later audit:
in a folded block, in each evidence row, and in the citations' attributes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts, appeals, reviewing
from domain.evidence import EvidenceKind, FlagKind
from domain.review import AppealOutcome, Review
from domain.rules import CURRENT_RULES
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.journey import Plan, decided_journey, make_platform
from ui.web.app import create_app

SECRET = b"l" * 32
PASSWORD = "staff-pass-1"
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Six « face absent » flags (a hint, R20) and the proctoring tab closed (a ground, R17).
PLAN = Plan(
    waive_id_photo=False,
    flags=[(FlagKind.FACE_ABSENT, 0.5)] * 6,
    tab_closed=True,
    technical_problem=False,
    invalidate_on_hint=False,
)


@pytest.fixture
def appealed() -> Iterator[tuple[Platform, UUID, dict[str, UUID]]]:
    """Invalidated by Eve for the closed tab, contested, upheld by Paul."""
    platform = make_platform()
    staff = {
        name: accounts.register_staff(
            platform.ctx,
            email=f"{name.split()[0].lower()}@example.org",
            name=name,
            role=role,
            password=PASSWORD,
        )
        for name, role in (
            ("Eve Examinatrice", Role.EXAMINER),
            ("Paul Second", Role.EXAMINER),
            ("Ada Auditrice", Role.AUDITOR),
        )
    }
    review_id = decided_journey(platform, PLAN, staff["Eve Examinatrice"])
    ctx = platform.ctx
    reviewing.release_results(ctx, review_id, released_by=staff["Eve Examinatrice"])
    review = ctx.store.get(review_id, Review)
    appeals.lodge_appeal(
        ctx, review_id, candidate_id=review.candidate_id, reason="je n'ai jamais quitté"
    )
    appeals.take_appeal(ctx, review_id, staff["Paul Second"])
    appeals.decide_appeal(
        ctx,
        review_id,
        examiner_id=staff["Paul Second"],
        outcome=AppealOutcome.UPHELD,
        answer="le journal montre l'onglet de surveillance fermé",
    )
    yield platform, review_id, staff
    platform.close()


def read(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize(
    ("language", "subtitle", "tab_closed", "folded", "examiner", "second"),
    [
        (
            "fr",
            "Certification Bureautique Access, examen du 27/01/2025",
            "Onglet de surveillance fermé",
            "6 preuves",
            "Examinateur Eve Examinatrice",
            "Second examinateur Paul Second",
        ),
        (
            "en",
            "Certification Bureautique Access, exam taken on 27/01/2025",
            "Proctoring tab closed",
            "6 pieces of evidence",
            "Examiner Eve Examinatrice",
            "Second examiner Paul Second",
        ),
    ],
)
def test_the_replay_names_the_review_the_examiners_and_each_fact_the_references_kept_apart(
    appealed: tuple[Platform, UUID, dict[str, UUID]],
    language: str,
    subtitle: str,
    tab_closed: str,
    folded: str,
    examiner: str,
    second: str,
) -> None:
    platform, review_id, staff = appealed
    review = platform.ctx.store.get(review_id, Review)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as ada:
        log_in(ada, "/staff/login", "ada@example.org", PASSWORD)
        if language == "en":
            ada.get("/lang/en")
        page = ada.get(f"/auditor/reviews/{review_id}").text

    # The title: the candidate, the certification and the exam's day.
    title = re.search(r'<h1 id="review-title">(.*?)</h1>', page, re.S)
    assert title is not None and read(title.group(1)) == f"Camille MARTIN {subtitle}"
    # The examiners by name, their accounts' references in a title.
    shown = read(page)
    assert examiner in shown and second in shown
    assert f'title="{staff["Eve Examinatrice"]}">Eve Examinatrice</span>' in page
    # The closed tab cited by what it is and when, linked to its row, which names it.
    (ground,) = (c for c in review.reasons)
    (closed,) = ground.evidence_ids
    anchor = closed.replace("/", "-")
    link = re.search(
        rf'<a class="evidence" href="#e-{anchor}" data-evidence="{closed}"[^>]*>(.*?)</a>', page
    )
    assert link is not None and re.fullmatch(rf"{tab_closed}, \d\d:\d\d:\d\d", read(link.group(1)))
    row = re.search(rf'<tr id="e-{anchor}">(.*?)</tr>', page, re.S)
    assert row is not None and f"<code>{closed}</code>" in row.group(1)
    # The hint's six flags folded under their count, each still cited and linked.
    (hint,) = review.recommendation.hints if review.recommendation else ()
    assert (
        page.count(f'<details class="cited"><summary>{folded}</summary>') == 2
    )  # recorded, replayed
    assert all(page.count(f'data-evidence="{e}"') == 2 for e in hint.evidence_ids)

    # What a person reads holds no reference, but for the folded block and the table's column;
    # the block names every reference the page speaks of.
    references = re.search(r'<details id="references".*?</details>', page, re.S)
    assert references is not None
    reading = re.sub(r'<td class="ref">.*?</td>', "", page.replace(references.group(0), ""))
    assert UUID_TEXT.findall(read(reading)) == []
    assert CURRENT_RULES.version not in read(reading) and "verdict-2026-12" not in read(reading)
    kept = references.group(0)
    for reference in (review_id, review.session_id, *staff.values()):
        if reference != staff["Ada Auditrice"]:
            assert f"<code>{reference}</code>" in kept
    assert f"<code>{CURRENT_RULES.version}</code>" in kept
    assert "<code>verdict-2026-12</code>" in kept
    # Every fact of the evidence keeps its row and its reference.
    for item in review.evidence:
        assert f'<td class="ref"><code>{item.id}</code></td>' in page
    assert [e for e in review.evidence if e.kind is EvidenceKind.PROCTORING_TAB_CLOSED]


def test_the_evidence_table_reads_in_the_order_its_first_column_says(
    appealed: tuple[Platform, UUID, dict[str, UUID]],
) -> None:
    """Its column « Quand c'est arrivé » ran stream by stream: « 15:07:10 Session fermée »
    before « 14:06:58 Onglet d'examen connecté » (a tester's tour). Now in time order."""
    platform, review_id, _staff = appealed
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as ada:
        log_in(ada, "/staff/login", "ada@example.org", PASSWORD)
        page = ada.get(f"/auditor/reviews/{review_id}").text
    cells = re.findall(r'<tr id="e-[^"]+"><td>(\d\d)/(\d\d)/(\d{4}) (\d\d:\d\d:\d\d)', page)
    review = platform.ctx.store.get(review_id, Review)
    assert len(cells) == len(review.evidence)
    happened = [f"{y}-{m}-{d} {t}" for d, m, y, t in cells]
    assert happened == sorted(happened)
