"""Security finding F1: centre A enrolled the e-mail of a candidate only centre B had enrolled,
with made-up names; the answer said `new_candidate: false` (the address has an account) and
A's list then showed the names centre B typed. Now a centre learns nothing from enrolling an
address: the API, the form and the CSV import answer the same whether it has an account or
not, a centre reads for its enrolments the names it typed (B still reads its own), the
examiner compares the ID with the names of the enrolment being sat (R9, R20), the invitation
names the centre, and an erasure takes every centre's names with the rest."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app import integrations
from app.mail_rendering import SupportContact
from app.privacy import erase_candidate, export_candidate
from app.tenancy import centre_of_operator
from app.use_cases import accounts, enrolment
from domain.candidate import ERASED, Candidate, PersonErased
from domain.enrollment import Enrollment
from domain.errors import InvalidArgument
from domain.integrations import Scope
from domain.review import Review
from domain.rules import CURRENT_RULES
from domain.staff import Role
from tests.acceptance.test_erasure import platform_on as sqlite_platform_on
from tests.acceptance.web import csrf, form_token, log_in, plain, platform_on
from ui.journey import Journey
from ui.web import review_words
from ui.web.app import create_app

SECRET = b"f" * 32
PASSWORD = "centre-pass-f1"
ENROL = "/api/centre/enrolments"
THEIRS = "lyon.b@example.org"  # enrolled by centre B only
# What centre B typed, and what centre A makes up.
B_TYPED = ("Lyonnais", "Bernard")
A_TYPED = ("Autre", "Nom")


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = platform_on(SECRET, 41)
    for email, name, role in (
        ("centre-a@example.org", "Centre Nantes", Role.CENTRE),
        ("centre-b@example.org", "Centre Lyon", Role.CENTRE),
        ("eve@example.org", "Eve", Role.EXAMINER),
    ):
        accounts.register_staff(platform.ctx, email=email, name=name, role=role, password=PASSWORD)
    yield platform
    platform.close()


def staff(platform: Platform, email: str) -> UUID:
    platform.projections.catch_up(platform.ctx.store)
    return platform.projections.staff_by_email[email]


def centre(platform: Platform, email: str) -> UUID:
    return centre_of_operator(staff(platform, email))


def enrolled_by_b(platform: Platform, email: str = THEIRS, language: str = "fr") -> UUID:
    """Centre B enrols the person under its names; the candidate's id."""
    done = enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre(platform, "centre-b@example.org"),
        email=email,
        surname=B_TYPED[0],
        first_name=B_TYPED[1],
        certification_code="ENI-ACCESS",
        language=language,
    )
    platform.settle()
    return done.candidate_id


@pytest.fixture
def browsers(platform: Platform) -> Iterator[dict[str, TestClient[Any]]]:
    """Centre A's and centre B's operators, each logged in on their own browser."""
    opened = {}
    for who in ("a", "b"):
        client = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
        client.__enter__()
        log_in(client, "/staff/login", f"centre-{who}@example.org", PASSWORD)
        opened[who] = client
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def listed(client: TestClient[Any], query: str) -> str:
    """The centre's list searched for `query`, as read."""
    page = client.get("/operator", params={"q": query})
    assert page.status_code == 200
    table = re.search(r"<tbody.*?</tbody>", page.text, re.S)
    assert table is not None, "no list"
    return " ".join(plain(re.sub(r"<[^>]+>", " ", table.group(0))).split())


def api_token(platform: Platform) -> dict[str, str]:
    issued = integrations.issue_token(
        platform.ctx,
        staff(platform, "centre-a@example.org"),
        name="LMS",
        scopes=(Scope.ENROLMENTS_WRITE, Scope.RESULTS_READ),
    )
    return {"authorization": f"Bearer {issued.token}"}


# --- the API --------------------------------------------------------------------------------


def test_a_centre_enrolling_another_centres_candidate_by_api_learns_nothing_f1(
    platform: Platform, browsers: dict[str, TestClient[Any]]
) -> None:
    theirs = enrolled_by_b(platform)
    bearer = api_token(platform)
    machine = TestClient(browsers["a"].app)  # no cookie: a machine
    with machine:
        answers = {}
        for email in (THEIRS, "nobody.yet@example.org"):
            body = {"email": email, "surname": A_TYPED[0], "first_name": A_TYPED[1]}
            reply = machine.post(
                ENROL, json={**body, "certification_code": "ENI-ACCESS"}, headers=bearer
            )
            assert reply.status_code == 201, reply.text
            answers[email] = reply.json()
        # The same shape and the same values, but for the new ids: nothing says the address
        # has an account (`new_candidate` is gone).
        with_account, without = answers[THEIRS], answers["nobody.yet@example.org"]
        assert set(with_account) == set(without)
        assert "new_candidate" not in with_account
        ids = ("enrollment_id", "candidate_id")
        assert {k: v for k, v in with_account.items() if k not in ids} == {
            k: v for k, v in without.items() if k not in ids
        }
        assert with_account["already_enrolled"] is False
        # « Already enrolled » is the centre's own business: its own enrolment, not B's.
        again = machine.post(
            ENROL,
            json={
                "email": THEIRS,
                "surname": "Autre",
                "first_name": "Nom",
                "certification_code": "ENI-ACCESS",
            },
            headers=bearer,
        ).json()
        assert again["already_enrolled"] is True
        assert again["enrollment_id"] == with_account["enrollment_id"]
        # B's enrolment of the same person stays out of A's reach.
        b_enrolment = next(
            s.enrollment_id
            for s in platform.projections.enrollments.values()
            if s.candidate_id == theirs and s.centre_id == centre(platform, "centre-b@example.org")
        )
        assert machine.get(f"{ENROL}/{b_enrolment}", headers=bearer).status_code == 404
    platform.settle()
    # A reads the names it typed; B still reads its own.
    assert "AUTRE Nom" in listed(browsers["a"], "lyon.b")
    assert "LYONNAIS" not in listed(browsers["a"], "lyon.b")
    assert "Bernard" not in listed(browsers["a"], "lyon.b")
    assert "LYONNAIS Bernard" in listed(browsers["b"], "lyon.b")
    assert "AUTRE" not in listed(browsers["b"], "lyon.b")
    # The candidate id returned opens nothing: the only page taking one is the hotline's.
    refused = browsers["a"].get(f"/hotline/candidates/{theirs}", follow_redirects=False)
    assert refused.status_code in (403, 404)
    assert "Lyonnais" not in refused.text and "Bernard" not in refused.text


def test_a_refused_name_is_refused_the_same_for_an_address_with_an_account_f1(
    platform: Platform,
) -> None:
    """The names were checked only when an account was made: « R2D2# » was refused for a new
    address and accepted for one with an account, telling which was which."""
    enrolled_by_b(platform)
    a = centre(platform, "centre-a@example.org")
    head = platform.ctx.store.head()
    for email in (THEIRS, "nobody.yet@example.org"):
        with pytest.raises(InvalidArgument) as refused:
            enrolment.enrol_candidate(
                platform.ctx,
                platform.projections,
                centre_id=a,
                email=email,
                surname="R2D2#",
                first_name="Nom",
                certification_code="ENI-ACCESS",
            )
        assert refused.value.field == "surname"
    assert platform.ctx.store.head() == head  # nothing recorded either way


# --- the form and the CSV import ---------------------------------------------------------------


def notice_of(client: TestClient[Any]) -> str:
    page = client.get("/operator")
    found = re.search(r'<div class="alert[^"]*"[^>]*id="notice".*?</div>', page.text, re.S)
    assert found is not None, "no notice"
    return " ".join(plain(re.sub(r"<[^>]+>", " ", found.group(0))).split())


@pytest.mark.parametrize(
    ("language", "enrolled"),
    [("fr", "Nom AUTRE ({email}) est inscrit(e)"), ("en", "Nom AUTRE ({email}) is enrolled")],
)
def test_the_enrol_form_answers_the_same_for_an_address_with_an_account_and_without_f1(
    platform: Platform, browsers: dict[str, TestClient[Any]], language: str, enrolled: str
) -> None:
    enrolled_by_b(platform)
    a = browsers["a"]
    a.get(f"/lang/{language}")
    notices = {}
    for email in (THEIRS, "nobody.yet@example.org"):
        a.post(
            "/operator/enrol",
            data={
                "email": email,
                "surname": A_TYPED[0],
                "first_name": A_TYPED[1],
                "certification_code": "ENI-ACCESS",
                "_csrf_token": form_token(a, "/operator"),
            },
            follow_redirects=False,
        )
        notices[email] = notice_of(a)
        assert enrolled.format(email=email) in notices[email], notices[email]
    assert notices[THEIRS].replace(THEIRS, "@") == notices["nobody.yet@example.org"].replace(
        "nobody.yet@example.org", "@"
    )
    platform.settle()
    assert "AUTRE Nom" in listed(a, "lyon.b") and "LYONNAIS" not in listed(a, "lyon.b")
    # Sent again, « already enrolled by your centre » names A's enrolment with A's names.
    a.post(
        "/operator/enrol",
        data={
            "email": THEIRS,
            "surname": "Autre",
            "first_name": "Nom",
            "certification_code": "ENI-ACCESS",
            "_csrf_token": form_token(a, "/operator"),
        },
        follow_redirects=False,
    )
    again = notice_of(a)
    assert "Nom AUTRE" in again and "Bernard" not in again


def test_a_csv_import_enrols_another_centres_candidate_under_the_names_in_the_file_f1(
    platform: Platform, browsers: dict[str, TestClient[Any]]
) -> None:
    enrolled_by_b(platform)
    a = browsers["a"]
    a.get("/lang/fr")
    text = (
        "email;surname;first_name;certification_code\n"
        f"{THEIRS};Autre;Nom;ENI-ACCESS\n"
        "nobody.yet@example.org;Autre;Nom;ENI-ACCESS\n"
    )
    preview = a.post(
        "/operator/enrol-csv",
        files={"file": ("candidats.csv", text.encode(), "text/csv")},
        headers=csrf(a),
    )
    assert preview.status_code == 200
    lines = [
        " ".join(plain(re.sub(r"<[^>]+>", " ", found)).split())
        for found in re.findall(r'<tr data-line="\d+"[^>]*>(.*?)</tr>', preview.text, re.S)
    ]
    assert len(lines) == 2
    # Each line's number aside, the same words: « sera inscrit(e) » for both.
    theirs, new = (line.split(" ", 1)[1] for line in lines)
    assert theirs.replace(THEIRS, "@") == new.replace("nobody.yet@example.org", "@")
    assert "sera inscrit(e)" in lines[0]
    fields = dict(re.findall(r'name="(content|digest)" value="([^"]*)"', preview.text))
    report = a.post("/operator/enrol-csv/confirm", data=fields, headers=csrf(a))
    assert report.status_code == 200, report.text[-400:]
    platform.settle()
    assert "AUTRE Nom" in listed(a, "lyon.b") and "LYONNAIS" not in listed(a, "lyon.b")
    assert "LYONNAIS Bernard" in listed(browsers["b"], "lyon.b")


# --- the invitation ----------------------------------------------------------------------------


def mails_to(platform: Platform, email: str) -> list[Any]:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)


@pytest.mark.parametrize(
    ("language", "hello", "by"),
    [
        ("fr", "Bonjour", "Votre centre de formation, Centre Nantes, vous a inscrit(e)"),
        ("en", "Hello", "Your training centre, Centre Nantes, enrolled you"),
    ],
)
def test_the_invitation_from_a_new_centre_goes_out_naming_it_and_the_names_it_typed(
    platform: Platform, language: str, hello: str, by: str
) -> None:
    email = f"lyon.{language}@example.org"
    enrolled_by_b(platform, email, language)
    enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre(platform, "centre-a@example.org"),
        email=email,
        surname=A_TYPED[0],
        first_name=A_TYPED[1],
        certification_code="ENI-ACCESS",
    )
    platform.settle()
    invitations = [m for m in mails_to(platform, email) if "/sessions/new" in m.text]
    assert len(invitations) == 2  # B's, then A's: a new centre enrolled her
    b_mail, a_mail = invitations
    assert "Centre Lyon" in b_mail.text and b_mail.text.startswith(f"{hello} Bernard LYONNAIS,")
    assert a_mail.text.startswith(f"{hello} Nom AUTRE,"), a_mail.text
    read = html.unescape(re.sub(r"<[^>]+>", "", a_mail.html))
    assert by in a_mail.text and by in read
    # The name her ID will be compared with is the one this centre typed (R20).
    assert "Bernard" not in a_mail.text and "Bernard" not in read and "Nom AUTRE" in read


# --- the review: the ID against the enrolment's names (R9, R20) --------------------------------


def test_the_review_of_a_centres_enrolment_compares_the_id_with_the_names_that_centre_typed(
    platform: Platform,
) -> None:
    """The guide compares the ID with the name the candidate was registered under for this
    exam: centre A enrolled her as « Camille MARTIN » (Journey's names), centre B as
    « Bernard LYONNAIS »; the review of A's exam names « Camille MARTIN »."""
    enrolled_by_b(platform)
    journey = Journey(platform, email=THEIRS, centre_id=centre(platform, "centre-a@example.org"))
    journey.sent_for_review()
    assert journey.review_id is not None
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as examiner:
        log_in(examiner, "/staff/login", "eve@example.org", PASSWORD)
        page = f"/examiner/reviews/{journey.review_id}"
        examiner.post(
            f"{page}/assign",
            data={"_csrf_token": form_token(examiner, page)},
            follow_redirects=False,
        )
        shown = plain(examiner.get(page).text)
    assert "Camille MARTIN" in shown
    assert "LYONNAIS" not in shown and "Bernard" not in shown
    review = platform.ctx.store.get(journey.review_id, Review)
    name = review_words.registered_name(platform.ctx, platform.projections, review)
    assert name.words("fr") == "Camille MARTIN"


# --- the hotline -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "found", "enrolled_as", "nobody"),
    [
        ("fr", "Candidats trouvés : 1", "inscrit(e) aussi sous : AUTRE Nom", "Personne ne"),
        ("en", "Candidates found: 1", "also enrolled as: AUTRE Nom", "Nobody matches"),
    ],
)
def test_support_finds_her_by_the_names_any_centre_enrolled_her_under_f1(
    platform: Platform, language: str, found: str, enrolled_as: str, nobody: str
) -> None:
    """A caller gives the names her centre knows her by: centre A enrolled centre B's
    candidate as « Nom AUTRE », and the hotline's search for « autre » found nobody (a user's
    tour), though it is her file support must open."""
    theirs = enrolled_by_b(platform)
    enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre(platform, "centre-a@example.org"),
        email=THEIRS,
        surname=A_TYPED[0],
        first_name=A_TYPED[1],
        certification_code="ENI-ACCESS",
    )
    platform.settle()
    accounts.register_staff(
        platform.ctx, email="desk@example.org", name="Desk", role=Role.SUPPORT, password=PASSWORD
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as desk:
        log_in(desk, "/staff/login", "desk@example.org", PASSWORD)
        desk.get(f"/lang/{language}")

        def searched(query: str) -> str:
            page = desk.get("/hotline/", params={"q": query})
            assert page.status_code == 200
            return " ".join(plain(re.sub(r"<[^>]+>", " ", page.text)).split())

        for query in ("autre", "NOM autre", "lyonnais bernard"):
            shown = searched(query)
            assert found in shown, query
            assert (
                f"/hotline/candidates/{theirs}" in desk.get("/hotline/", params={"q": query}).text
            )
            assert "LYONNAIS Bernard" in shown  # her account's names lead
            assert enrolled_as in shown
        # Every word in one set of names: two centres' names mixed are nobody's.
        assert nobody in searched("lyonnais autre")


# --- erasure --------------------------------------------------------------------------------


def test_erasure_takes_the_names_every_centre_typed_f1(tmp_path: Path) -> None:
    database = tmp_path / "vigie.sqlite"
    platform = sqlite_platform_on(f"sqlite:///{database}", tmp_path / "media")
    centre_a, centre_b = uuid4(), uuid4()

    def enrol(centre_id: UUID, surname: str, first_name: str) -> enrolment.Enrolled:
        done = enrolment.enrol_candidate(
            platform.ctx,
            platform.projections,
            centre_id=centre_id,
            email=THEIRS,
            surname=surname,
            first_name=first_name,
            certification_code="ENI-ACCESS",
        )
        platform.settle()
        return done

    by_b = enrol(centre_b, *B_TYPED)
    by_a = enrol(centre_a, "Ombrelune", "Isaure")
    person = platform.ctx.store.get(by_a.candidate_id, Candidate)
    assert person.names_for(by_a.enrollment_id) == ("Ombrelune", "Isaure")
    assert person.names_for(by_b.enrollment_id) == B_TYPED
    assert platform.projections.names_of_enrolment(by_a.enrollment_id) == ("Ombrelune", "Isaure")
    # The person's own copy (subject access) lists what centre A typed.
    assert "Ombrelune" in str(export_candidate(platform.ctx, platform.projections, person.id))
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("vigie.sqlite*"))
    assert b"Ombrelune" not in stored and b"Isaure" not in stored  # sealed with her key
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        person.id,
        reason="RGPD art. 17",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    gone = platform.ctx.store.get(person.id, Candidate)
    assert gone.enrolment_names == ()
    assert gone.names_for(by_a.enrollment_id) == (ERASED, ERASED)
    assert platform.projections.names_of_enrolment(by_a.enrollment_id) == ("", "")
    assert "Ombrelune" not in str(export_candidate(platform.ctx, platform.projections, person.id))
    with pytest.raises(PersonErased):  # nothing personal is recorded for her again
        gone.give_enrolment_names(
            enrollment_id=uuid4(),
            centre_id=centre_a,
            surname="Autre",
            first_name="Nom",
            at=platform.ctx.now(),
        )
    platform.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("vigie.sqlite*"))
    assert b"Ombrelune" not in stored and b"Isaure" not in stored
    # Restarted on the same file: the read models, rebuilt or restored, have none of them.
    reopened = sqlite_platform_on(f"sqlite:///{database}", tmp_path / "media")
    assert reopened.projections.names_of_enrolment(by_a.enrollment_id) == ("", "")
    assert reopened.ctx.store.get(person.id, Candidate).names_for(by_a.enrollment_id) == (
        ERASED,
        ERASED,
    )
    reopened.close()


# --- the domain, and enrolments recorded before -------------------------------------------------


def test_names_equal_to_the_registered_ones_record_nothing_and_a_name_is_checked(
    platform: Platform,
) -> None:
    theirs = enrolled_by_b(platform)
    person = platform.ctx.store.get(theirs, Candidate)
    at = platform.ctx.now()
    same = person.give_enrolment_names(
        enrollment_id=uuid4(), centre_id=uuid4(), surname=" Lyonnais ", first_name="Bernard", at=at
    )
    assert not same and person.enrolment_names == ()
    with pytest.raises(InvalidArgument) as refused:
        person.give_enrolment_names(
            enrollment_id=uuid4(), centre_id=uuid4(), surname="Autre", first_name="N0m<", at=at
        )
    assert refused.value.field == "first_name"


def test_an_enrolment_recorded_before_names_were_kept_shows_the_registered_names(
    platform: Platform, browsers: dict[str, TestClient[Any]]
) -> None:
    """An old store: centre A's enrolment of B's candidate was recorded with no names of its
    own. A was shown the registered names then (the old list); it keeps reading them: nothing
    new is learnt, and a centre's own candidates keep a name (README, « Names »)."""
    theirs = enrolled_by_b(platform)
    old = Enrollment.enrol(
        enrollment_id=uuid4(),
        centre_id=centre(platform, "centre-a@example.org"),
        candidate_id=theirs,
        certification_code="ENI-ACCESS",
        exam_duration_minutes=platform.ctx.catalogue.get("ENI-ACCESS").duration_minutes,
        rules=CURRENT_RULES,
        at=platform.ctx.now(),
    )
    platform.ctx.store.save(old)
    platform.settle()
    assert platform.projections.names_of_enrolment(old.id) == B_TYPED
    assert "LYONNAIS Bernard" in listed(browsers["a"], "lyon.b")
