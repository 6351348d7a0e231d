"""The support lead's review assignments (R19): a refused reassignment is said on the page in
the reader's language, naming the field, and nothing changes."""

from __future__ import annotations

import html
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.privacy import erase_candidate
from app.tenancy import centre_of_operator
from app.use_cases import accounts
from domain.review import Review
from domain.staff import Role
from tests.acceptance.test_review_page import (
    PASSWORD,
    SECRET,
    platform,  # noqa: F401 (the fixture, shared)
)
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey
from ui.web.app import create_app


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            {"examiner": "nobody@example.org", "reason": "Eve est en congés cette semaine"},
            "Champ « E-mail de l'examinateur » : nobody@example.org n'est pas l'adresse d'un "
            "examinateur.",
        ),
        (
            {"examiner": "pas-une-adresse", "reason": "Eve est en congés"},
            "Champ « E-mail de l'examinateur » : pas-une-adresse n'est pas une adresse e-mail.",
        ),
        (  # a reviewer's: it read « Champ … : n'est pas une adresse e-mail », no subject
            {"examiner": "  ", "reason": "Eve est en congés"},
            "Champ « E-mail de l'examinateur » : indiquez l'e-mail de l'examinateur à qui "
            "confier le contrôle.",
        ),
        (
            {"examiner": "eve@example.org", "reason": "   "},
            "Champ « Pourquoi ? » : dites pourquoi le contrôle est réattribué.",
        ),
    ],
)
def test_a_refused_reassignment_names_its_field_and_changes_nothing_r19(
    platform: Platform,  # noqa: F811
    fields: dict[str, str],
    said: str,
) -> None:
    review_id = Journey(platform).sent_with_a_phone_flag()
    accounts.register_staff(
        platform.ctx, email="sam@example.org", name="Sam", role=Role.SUPPORT, password=PASSWORD
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "sam@example.org", PASSWORD)
        token = form_token(client, "/operator/reviews")
        reply: Any = client.post(
            f"/operator/reviews/{review_id}/reassign", data={"_csrf_token": token, **fields}
        )
    assert reply.status_code == 400
    assert 'id="reassign-error"' in reply.text
    assert said in reply.text.replace("&#39;", "'").replace("&#34;", '"')
    assert platform.ctx.store.get(review_id, Review).examiner_id is None


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Champ « E-mail de l'examinateur » : {email} n'est pas l'adresse d'un examinateur."),
        ("en", "Field “Examiner's e-mail”: {email} is not an examiner's e-mail."),
    ],
)
def test_a_reassignment_to_a_staff_account_that_is_no_examiner_names_nobody(
    platform: Platform,  # noqa: F811
    language: str,
    said: str,
) -> None:
    """A tester's tour: « Réattribution refusée : Centre Lyon is not an examiner », English on
    a French page, another centre's account name, and a different sentence from an unknown
    e-mail's (which told which e-mails are staff accounts). One sentence for all, in words."""
    review_id = Journey(platform).sent_with_a_phone_flag()
    accounts.register_staff(
        platform.ctx, email="sam@example.org", name="Sam", role=Role.SUPPORT, password=PASSWORD
    )
    accounts.register_staff(
        platform.ctx,
        email="lyon@example.org",
        name="Centre Lyon",
        role=Role.CENTRE,
        password=PASSWORD,
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "sam@example.org", PASSWORD)
        client.get(f"/lang/{language}")
        replies = {}
        for email in ("lyon@example.org", "sam@example.org", "nobody@example.org"):
            token = form_token(client, "/operator/reviews")
            reply: Any = client.post(
                f"/operator/reviews/{review_id}/reassign",
                data={"_csrf_token": token, "examiner": email, "reason": "Eve est en congés"},
            )
            assert reply.status_code == 400
            replies[email] = html.unescape(reply.text)
    for email, text in replies.items():
        assert said.format(email=email) in text
        assert "Centre Lyon" not in text and "Sam is not an examiner" not in text
    assert platform.ctx.store.get(review_id, Review).examiner_id is None


def test_each_review_to_reassign_names_its_candidate_her_centre_s_own_and_erased_as_erased(
    platform: Platform,  # noqa: F811
) -> None:
    """A reviewer's tour: the centre's lines read « 15/12/2026 · Access · — », and the centre
    could not tell whose review it reassigned. The registered name is on each line, as on
    the examiner's list; another centre's candidate is not; an erased person reads as such."""
    centre = accounts.register_staff(
        platform.ctx, email="cat@example.org", name="Cat", role=Role.CENTRE, password=PASSWORD
    )
    hers = Journey(platform, email="lea@example.org", centre_id=centre_of_operator(centre))
    hers.sent_with_a_phone_flag()
    elsewhere = Journey(platform, email="zoe@example.org")  # another centre's candidate
    elsewhere.sent_with_a_phone_flag()
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "cat@example.org", PASSWORD)
        page = client.get("/operator/reviews").text
        assert (
            page.count('<td class="candidate-name" data-label="Candidat">MARTIN Camille</td>') == 1
        )
        assert '<th scope="col">Candidat</th>' in page
        assert hers.candidate_id is not None
        erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            hers.candidate_id,
            reason="RGPD",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        erased = client.get("/operator/reviews").text
    assert '<td class="candidate-name" data-label="Candidat">personne effacée</td>' in erased
    assert "MARTIN" not in erased


def test_a_reassignment_is_confirmed_above_the_lists_and_so_is_one_that_changes_nothing(
    platform: Platform,  # noqa: F811
) -> None:
    """A tester's tour: reassigning came back to the list with no word, done or not (the same
    examiner again). The list now says to whom the candidate's review went, or that nothing
    changed; the address alone, for a review not on the lists, says nothing."""
    review_id = Journey(platform).sent_with_a_phone_flag()
    accounts.register_staff(
        platform.ctx, email="sam@example.org", name="Sam", role=Role.SUPPORT, password=PASSWORD
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "sam@example.org", PASSWORD)
        fields = {"examiner": "eve@example.org", "reason": "Eve est disponible"}
        sent = []
        for _ in range(2):
            token = form_token(client, "/operator/reviews")
            sent.append(
                client.post(
                    f"/operator/reviews/{review_id}/reassign",
                    data={"_csrf_token": token, **fields},
                )
            )
        plain = client.get("/operator/reviews").text
        other = client.get(
            "/operator/reviews?done=reassigned&review=00000000-0000-0000-0000-000000000001"
        ).text
    done, again = (html.unescape(reply.text) for reply in sent)
    assert sent[0].status_code == 200 and 'role="status"' in done
    assert "Le contrôle de Camille MARTIN est désormais confié à eve@example.org." in done
    assert "eve@example.org avait déjà le contrôle de Camille MARTIN : rien n'a changé." in again
    assert 'id="notice"' not in plain and 'id="notice"' not in other
    assert platform.ctx.store.get(review_id, Review).examiner_id is not None


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Réattribution refusée : ce contrôle est tranché, il n'y a rien à réattribuer."),
        ("en", "Reassignment refused: this review is decided, there is nothing to reassign."),
    ],
)
def test_a_reassignment_of_a_decided_review_is_refused_in_words_r19(
    platform: Platform,  # noqa: F811
    language: str,
    said: str,
) -> None:
    """A review decided meanwhile (an old tab's form): the rule's sentence in the reader's
    language (the page's refusals table, `action_refusal`), not the domain's English."""
    journey = Journey(platform)
    review_id = journey.sent_with_a_phone_flag()
    eve = platform.projections.staff_by_email["eve@example.org"]
    journey.decided(eve)
    accounts.register_staff(
        platform.ctx, email="sam@example.org", name="Sam", role=Role.SUPPORT, password=PASSWORD
    )
    accounts.register_staff(
        platform.ctx, email="max@example.org", name="Max", role=Role.EXAMINER, password=PASSWORD
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "sam@example.org", PASSWORD)
        client.get(f"/lang/{language}")
        token = form_token(client, "/operator/reviews")
        reply: Any = client.post(
            f"/operator/reviews/{review_id}/reassign",
            data={"_csrf_token": token, "examiner": "max@example.org", "reason": "Eve est absente"},
        )
    assert reply.status_code == 409
    text = html.unescape(reply.text)
    assert said in text
    assert "decided: nothing to reassign" not in text  # the domain's English, for the logs
    assert platform.ctx.store.get(review_id, Review).examiner_id == eve
