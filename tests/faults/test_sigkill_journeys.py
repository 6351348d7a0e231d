"""Issue 14, the fault suite's SIGKILLs: a real `vigie serve --workers 2` (its own process
group) is killed with SIGKILL at random moments while many journeys go on over HTTP — the
centre enrols candidates one by one and imports a CSV file, candidates answer their exam,
finish and validate it, the examiner takes, decides and releases each review, candidates
whose exam was invalidated appeal and a second examiner decides — and restarted each time.

After each kill (the server dead, PostgreSQL untouched): every answer the server acknowledged
(201) is the one stored, or one sent after it; the CSV import is all or nothing. After the
last restart: every journey completes (each step is sent again as a person would, after
checking whether it was done), each enrolment exists once, every decided mail reached SMTP
exactly once (one delivery per Message-ID), and no request answered 5xx.

The kill moments and the answers come from a seed, printed (and noted in the summary);
`VIGIE_FAULT_SEED=<seed>` plays the same moments again (the threads' interleaving, not).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.mail.capture import SmtpCapture
from adapters.persistence.store import EventsourcingStore
from app.use_cases import accounts
from app.use_cases.reviewing import review_id_for
from domain.evidence import ReasonCode
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.outbound_mail import OutboundMail
from domain.review import Review
from domain.staff import Role
from tests.concurrency.served import Served, count_deliveries, start_served
from tests.concurrency.test_uniqueness_served import csv_file
from tests.conftest import morning_clock_offset
from tests.faults import prepared, tally
from ui.serve import CENTRE_EMAIL, DEMO_PASSWORD, EXAMINER_EMAIL
from ui.worker import DEADLINES_EVERY_S

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

SEED_VARIABLE = "VIGIE_FAULT_SEED"
KILLS = 3
EXAMS = 5  # candidates who answer, finish, validate and are reviewed
APPEALS = 2  # of them, invalidated by the examiner (headphones) and appealed: upheld
ENROLMENTS = 6  # enrolled one by one by the centre
CSV_LINES = 120  # one file, imported whole or not at all
ROUNDS = 2  # every question answered twice
# The outbox's claims last 2 minutes: the last restart's clock is past them, so the mails a
# killed sender had claimed are sent (the clock never goes back between restarts).
LATER_S = 150.0
SECOND_EXAMINER = "seconde.examinatrice@example.org"
APPEAL_REASON = "je portais des bouchons d'oreille prescrits par mon médecin"
CSV_PREFIX = "fichier"


def appeals(candidate: prepared.Candidate) -> bool:
    """The first APPEALS candidates are invalidated, appeal, and the appeal is upheld."""
    return int(candidate.email.removeprefix("examen").split("@")[0]) < APPEALS


class Killed(Exception):
    """The server went away mid-request: the step is tried again after the restart."""


@dataclass
class Seen:
    """What the test saw over HTTP, across every life of the server."""

    sent: dict[tuple[UUID, str], list[str]] = field(default_factory=dict)
    acknowledged: dict[tuple[UUID, str], int] = field(default_factory=dict)  # index in sent
    server_errors: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Life:
    """One run of the server and the people's clients on it (cookies kept across lives)."""

    served: Served
    clients: dict[str, httpx.Client]
    dead: threading.Event = field(default_factory=threading.Event)


class World:
    """The journeys' steps, each one re-runnable: it checks the store before acting."""

    def __init__(self, seen: Seen, exams: list[prepared.Candidate], store: EventsourcingStore):
        self.seen = seen
        self.exams = exams
        self.life: Life | None = None
        self.store = store  # one for every thread: opening one creates its tables

    # --- talking to the server ---

    @property
    def now(self) -> Life:
        assert self.life is not None
        return self.life

    def send(self, who: str, method: str, path: str, **options: Any) -> httpx.Response:
        life = self.now
        if life.dead.is_set():
            raise Killed()
        try:
            reply = life.clients[who].request(method, path, **options)
        except httpx.TransportError as gone:
            raise Killed() from gone
        with self.seen.lock:
            self.seen.requests += 1
            if reply.status_code >= 500:
                self.seen.server_errors.append(
                    f"{method} {path} → {reply.status_code}: {reply.text[-300:]}"
                )
        return reply

    def form(self, who: str, path: str, data: dict[str, str], page: str) -> httpx.Response:
        token_page = self.send(who, "GET", page)
        found = re.search(r'name="_csrf_token" value="([^"]+)"', token_page.text)
        assert found is not None, f"no form on {page}: {token_page.status_code}"
        return self.send(who, "POST", path, data={**data, "_csrf_token": found.group(1)})

    def api(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        token = self.now.clients[who].cookies.get("vigie_csrf") or ""
        return self.send(who, "POST", path, json=body, headers={"x-csrftoken": token})

    def read(self, stream: UUID, kind: type[Any]) -> Any:
        return self.store.get(stream, kind)

    def review(self, candidate: prepared.Candidate) -> Review:
        """The candidate's review, once the served workers opened it (waits for them)."""
        assert candidate.attempt_id is not None
        review_id = review_id_for(candidate.attempt_id)
        deadline = time.monotonic() + 60
        while True:
            if self.now.dead.is_set():
                raise Killed()
            with contextlib.suppress(LookupError):
                review: Review = self.read(review_id, Review)
                if review.recommendation is not None:
                    return review
            assert time.monotonic() < deadline, f"no review for {candidate.email}"
            time.sleep(0.1)

    # --- the steps ---

    def answer(self, candidate: prepared.Candidate, question: str, text: str) -> None:
        key = (candidate.attempt_id, question)
        assert candidate.attempt_id is not None
        with self.seen.lock:
            texts = self.seen.sent.setdefault(key, [])  # type: ignore[arg-type]
            if not texts or texts[-1] != text:
                texts.append(text)
            index = len(texts) - 1
        reply = self.api(
            candidate.email,
            f"/api/attempts/{candidate.attempt_id}/answers",
            {"question_id": question, "answer": text},
        )
        if reply.status_code == 409:  # other writers kept saving first: send it again
            return self.answer(candidate, question, text)
        assert reply.status_code == 201, reply.text[-500:]
        with self.seen.lock:
            self.seen.acknowledged[key] = index  # type: ignore[index]

    def finish(self, candidate: prepared.Candidate) -> None:
        assert candidate.attempt_id is not None
        if self.read(candidate.attempt_id, ExamAttempt).validation_code is not None:
            return
        path = f"/api/attempts/{candidate.attempt_id}/actions/finish"
        reply = self.api(candidate.email, path, {})
        assert reply.status_code == 200, reply.text[-500:]

    def validate(self, candidate: prepared.Candidate) -> None:
        assert candidate.attempt_id is not None
        attempt = self.read(candidate.attempt_id, ExamAttempt)
        if attempt.status is AttemptStatus.VALIDATED:
            return
        path = f"/api/attempts/{candidate.attempt_id}/actions/validate"
        reply = self.api(candidate.email, path, {"code": attempt.validation_code})
        assert reply.status_code == 200, reply.text[-500:]

    def assign(self, candidate: prepared.Candidate) -> None:
        review = self.review(candidate)
        if review.examiner_id is not None:
            return
        path = f"/examiner/reviews/{review.id}"
        reply = self.form("examiner", f"{path}/assign", {}, page=path)
        assert reply.status_code in (302, 303), reply.text[-500:]

    def decide(self, candidate: prepared.Candidate) -> None:
        review = self.review(candidate)
        if review.verdict is not None:
            return
        assert review.recommendation is not None
        assert review.recommendation.grounds == (), review.recommendation
        body: dict[str, Any] = {"verdict": "validated"}
        if appeals(candidate):  # the examiner saw headphones at the exam's launch
            launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
            reasons = [{"reason": ReasonCode.HEADPHONES.value, "evidence_ids": [launched.id]}]
            body = {"verdict": "invalidated", "reasons": reasons}
        reply = self.api("examiner", f"/api/reviews/{review.id}/decision", body)
        assert reply.status_code == 201, reply.text[-500:]

    def release(self, candidate: prepared.Candidate) -> None:
        review = self.review(candidate)
        if review.released:
            return
        path = f"/examiner/reviews/{review.id}"
        reply = self.form("examiner", f"{path}/release", {}, page=path)
        assert reply.status_code in (302, 303), reply.text[-500:]

    def appeal(self, candidate: prepared.Candidate) -> None:
        if self.review(candidate).appeal is not None:
            return
        page = f"/results/{candidate.session_id}"
        reply = self.form(candidate.email, f"{page}/appeal", {"reason": APPEAL_REASON}, page)
        assert reply.status_code in (302, 303), reply.text[-500:]

    def take_appeal(self, candidate: prepared.Candidate) -> None:
        review = self.review(candidate)
        assert review.appeal is not None
        if review.appeal.examiner_id is not None:
            return
        page = f"/examiner/appeals/{review.id}"
        reply = self.form("second", f"{page}/take", {}, page)
        assert reply.status_code in (302, 303), reply.text[-500:]

    def decide_appeal(self, candidate: prepared.Candidate) -> None:
        review = self.review(candidate)
        assert review.appeal is not None
        if review.appeal.outcome is not None:
            return
        page = f"/examiner/appeals/{review.id}"
        # Upheld: overturning takes the recording played first (APPEAL-VIEWED), and the
        # prepared sessions' media are not in the served media store.
        answer = "les écouteurs sont visibles pendant tout l'examen, la décision est maintenue"
        data = {"outcome": "upheld", "answer": answer}
        reply = self.form("second", f"{page}/decide", data, page)
        assert reply.status_code in (302, 303), reply.text[-500:]

    def enrol(self, number: int) -> None:
        data = {
            "email": f"inscrit{number}@example.org",
            "surname": f"Nom{number}",
            "first_name": "Alex",
            "certification_code": "ENI-ACCESS",
            "language": "fr",
        }
        reply = self.form("centre", "/operator/enrol", data, page="/operator")
        assert reply.status_code in (302, 303), reply.text[-500:]

    def import_csv(self, content: bytes) -> None:
        """Choose the file, then « Importer » its preview; the same file again changes nothing."""
        page = self.send("centre", "GET", "/operator")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text[-500:]
        headers = {"x-csrftoken": token.group(1)}
        files = {"file": ("candidats.csv", content, "text/csv")}
        preview = self.send("centre", "POST", "/operator/enrol-csv", files=files, headers=headers)
        fields = dict(re.findall(r'name="(content|digest)" value="([^"]*)"', preview.text))
        assert set(fields) == {"content", "digest"}, preview.text[-2000:]
        reply = self.send(
            "centre", "POST", "/operator/enrol-csv/confirm", data=fields, headers=headers
        )
        assert reply.status_code == 200, reply.text[-500:]
        assert 'data-imported="yes"' in reply.text or 'data-already="yes"' in reply.text


Step = Callable[[], None]


def journeys(world: World, rng: random.Random, content: bytes) -> list[list[Step]]:
    """Each journey's steps in order: exams (answers, finish, validate, review, appeal), the
    enrolments one by one, the CSV import."""
    found: list[list[Step]] = []
    for candidate in world.exams:
        steps: list[Step] = []
        for round_ in range(ROUNDS):
            order = list(candidate.questions)
            rng.shuffle(order)
            for question in order:
                text = f"{candidate.email} {question} tour {round_} {rng.randrange(10**6)}"
                steps.append(lambda c=candidate, q=question, t=text: world.answer(c, q, t))
        for action in (world.finish, world.validate, world.assign, world.decide, world.release):
            steps.append(lambda a=action, c=candidate: a(c))  # type: ignore[misc]
        if appeals(candidate):
            for action in (world.appeal, world.take_appeal, world.decide_appeal):
                steps.append(lambda a=action, c=candidate: a(c))  # type: ignore[misc]
        found.append(steps)
    found += [[lambda n=n: world.enrol(n)] for n in range(ENROLMENTS)]  # type: ignore[misc]
    found.append([lambda: world.import_csv(content)])
    return found


def drive(steps: list[Step], cursor: list[int], failures: list[BaseException]) -> None:
    """Runs a journey's steps from where it stopped, until the server dies under it."""
    while cursor[0] < len(steps):
        try:
            steps[cursor[0]]()
        except Killed:
            return
        except BaseException as failure:  # shown by the test, not lost in a thread
            failures.append(failure)
            return
        cursor[0] += 1


def check_after_kill(world: World, csv_emails: list[str]) -> tuple[int, int]:
    """The server is dead: every acknowledged answer is stored (or one sent after it), and the
    CSV import is all or nothing. Returns (answers checked, CSV lines enrolled)."""
    checked = 0
    for attempt_id in {key[0] for key in world.seen.acknowledged}:
        answers = world.read(attempt_id, ExamAttempt).answers
        for (aid, question), index in world.seen.acknowledged.items():
            if aid != attempt_id:
                continue
            texts = world.seen.sent[(aid, question)]
            assert answers.get(question) in texts[index:], (
                f"acknowledged answer lost: {question} is {answers.get(question)!r}, "
                f"acknowledged {texts[index]!r}"
            )
            checked += 1
    platform = world.now.served.platform(world.now.served.now())
    try:
        platform.projections.catch_up(platform.ctx.store)
        enrolled = sum(platform.projections.find_by_email(e) is not None for e in csv_emails)
    finally:
        platform.close()
    assert enrolled in (0, len(csv_emails)), f"a partial CSV import: {enrolled} lines"
    return checked, enrolled


@contextlib.contextmanager
def life_of(
    postgres_url: str, capture: SmtpCapture, folder: Path, offset: float, cookies: dict[str, Any]
) -> Iterator[Life]:
    """One run of the server, with the people's clients carrying their cookies over."""
    with start_served(
        postgres_url, capture, folder, process_group=True, clock_offset_s=offset
    ) as served:
        clients = {who: served.client(cookies=jar) for who, jar in cookies.items()}
        try:
            yield Life(served, clients)
        finally:
            for who, client in clients.items():
                cookies[who] = client.cookies
                client.close()


def prepare(life: Life) -> list[prepared.Candidate]:
    """Before the first kill: the candidates are brought to their exam (the served workers
    provision the workspaces), a second examiner is registered, everyone logs in once."""
    served = life.served
    exams = prepared.in_exam(served, [f"examen{n}@example.org" for n in range(EXAMS)])
    platform = served.platform(served.now())
    try:
        accounts.register_staff(
            platform.ctx,
            email=SECOND_EXAMINER,
            name="Seconde",
            role=Role.EXAMINER,
            password=prepared.PASSWORD,
        )
    finally:
        platform.close()
    logins = [(c.email, "/login", c.email, prepared.PASSWORD) for c in exams] + [
        ("examiner", "/staff/login", EXAMINER_EMAIL, DEMO_PASSWORD),
        ("second", "/staff/login", SECOND_EXAMINER, prepared.PASSWORD),
        ("centre", "/staff/login", CENTRE_EMAIL, DEMO_PASSWORD),
    ]
    for who, page, email, password in logins:
        client = served.client()
        reply = served.post_form(client, page, {"email": email, "password": password})
        assert reply.status_code in (302, 303), reply.text[-500:]
        life.clients[who] = client
    return exams


def senders_of_copies(capture: SmtpCapture, database_url: str) -> dict[str, list[str]]:
    """For each Message-ID delivered more than once, the senders that claimed its mail."""
    seen: Counter[str] = Counter(str(m["Message-ID"]) for m in capture.messages())
    copied = {m.strip("<>").removesuffix("@vigie") for m, n in seen.items() if n > 1}
    store = EventsourcingStore(database_url)
    try:
        return {
            mail_id: [
                e.sender
                for e in store.history(UUID(mail_id))
                if isinstance(e, OutboundMail.SendClaimed)
            ]
            for mail_id in copied
        }
    finally:
        store.close()


def settled_mails(served: Served) -> int:
    """Until the workers decided every mail the journeys call for (the last steps' mails are
    decided after their reply) and sent them all; returns how many were decided.

    After a SIGKILL the dead worker's leases run out first (LEASE_TERM_S), and until then
    no mail is decided: a CI run counted 97 decided while the restarted worker waited, then
    saw 154 delivered. So: this server's worker holds every lease, every policy reacted to
    the log as it is, and the count holds across a deadlines pass (the later clock's facts)."""
    served.wait_for(served.workers_hold_every_lease, "the restarted worker holds every lease", 60)
    decided = -1
    while True:
        served.wait_for(served.policies_caught_up, "the policies reacted to the log", 60)
        now = served.mails_decided()
        served.wait_until_sent(now, timeout=90)
        if now == decided and served.policies_caught_up():
            return decided
        decided = now
        time.sleep(DEADLINES_EVERY_S)


def kill(life: Life) -> None:
    life.dead.set()
    os.killpg(life.served.process.pid, signal.SIGKILL)
    life.served.process.wait(timeout=10)


def test_sigkills_during_many_journeys_lose_no_acknowledged_answer_no_mail_and_no_import(
    postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(2**31))
    print(f"\nSIGKILL seed {seed} ({SEED_VARIABLE}={seed} replays its kill moments)")
    tally.note(f"SIGKILL journeys: seed {seed}")
    rng = random.Random(seed)
    offset = morning_clock_offset()
    seen = Seen()
    cookies: dict[str, Any] = {}
    content = csv_file(CSV_LINES, CSV_PREFIX)
    csv_emails = [f"{CSV_PREFIX}{n}@example.org" for n in range(CSV_LINES)]
    started = time.monotonic()

    world: World | None = None
    steps: list[list[Step]] = []
    cursors: list[list[int]] = []
    targets: list[int] = []
    kills: list[str] = []
    failures: list[BaseException] = []
    answers_checked = 0
    prepared_in = 0.0
    for number in range(KILLS + 1):
        last = number == KILLS
        folder = tmp_path / "served"  # one working folder: a restart in place
        with life_of(
            postgres_url, smtp_counter, folder, offset + (LATER_S if last else 0.0), cookies
        ) as life:
            if world is None:
                # After the server made the tables: two makers at once collide.
                world = World(seen, prepare(life), EventsourcingStore(postgres_url))
                steps = journeys(world, rng, content)
                cursors = [[0] for _ in steps]
                total = sum(map(len, steps))
                # The kills come at random points of the journeys' progress (steps done).
                targets = sorted(rng.sample(range(3, total - 3), KILLS))
                prepared_in = time.monotonic() - started
            world.life = life
            drivers = [
                threading.Thread(target=drive, args=(journey, cursor, failures), daemon=True)
                for journey, cursor in zip(steps, cursors, strict=True)
            ]
            for driver in drivers:
                driver.start()
            if not last:
                jitter = rng.uniform(0.0, 0.05)  # mid-request rather than between two
                while sum(c[0] for c in cursors) < targets[number] and not failures:
                    time.sleep(0.002)
                time.sleep(jitter)
                done = sum(c[0] for c in cursors)
                kill(life)
                kills.append(f"at {done}/{total} steps")
            for driver in drivers:
                driver.join(timeout=120)
                assert not driver.is_alive(), "a journey is stuck"
            if failures:
                raise failures[0]
            if not last:
                checked, enrolled = check_after_kill(world, csv_emails)
                answers_checked += checked
                kills[-1] += f": {checked} acknowledged answers stored, CSV {enrolled} lines"
                continue
            # The last life: every journey completed; the mails settle.
            assert [c[0] for c in cursors] == [len(s) for s in steps]
            served_mails = settled_mails(life.served)
            output = life.served.output()
            finals = check_after_kill(world, csv_emails)  # the same checks on the final state
            answers_checked += finals[0]
            platform = life.served.platform(life.served.now())
            try:
                platform.projections.catch_up(platform.ctx.store)
                enrolled_once = [
                    platform.projections.find_by_email(f"inscrit{n}@example.org")
                    for n in range(ENROLMENTS)
                ]
            finally:
                platform.close()
            exams = [c.attempt_id for c in world.exams if c.attempt_id is not None]
            reviews = [world.read(review_id_for(a), Review) for a in exams]
            attempts = [world.read(a, ExamAttempt) for a in exams]
    assert world is not None
    world.store.close()

    deliveries, message_ids = count_deliveries(smtp_counter)
    copies = senders_of_copies(smtp_counter, postgres_url)
    took = time.monotonic() - started
    journeys_run = len(steps)
    print(
        f"{journeys_run} journeys ({EXAMS} exams of which {APPEALS} appealed, {ENROLMENTS} "
        f"enrolments, a {CSV_LINES}-line CSV), {sum(map(len, steps))} steps, "
        f"{seen.requests} requests; prepared in {prepared_in:.1f} s, all in {took:.1f} s\n"
        f"kills: {kills}\nanswers checked: {answers_checked}; mails decided {served_mails}, "
        f"delivered {deliveries}, distinct Message-IDs {message_ids} (copies after a kill: "
        f"{sum(len(c) - 1 for c in copies.values()) if copies else 0}); "
        f"5xx: {len(seen.server_errors)}"
    )
    tally.count("journeys run", journeys_run)
    tally.count("SIGKILLs", len(kills))
    tally.count("vigie serve restarts", len(kills))
    tally.count("answers checked", answers_checked)
    tally.count("mails checked", deliveries)
    tally.note(f"SIGKILL journeys: kills at {kills}")

    assert seen.server_errors == [], seen.server_errors[:5]
    assert all(a.status is AttemptStatus.VALIDATED for a in attempts)
    assert all(r.released for r in reviews)
    appealed = [r for r in reviews if r.appeal is not None]
    assert (
        len(exams) == EXAMS
        and len(appealed) == APPEALS
        and all(r.appeal and r.appeal.outcome for r in appealed)
    )
    assert all(enrolled_once), "an enrolment is missing"
    assert finals[1] == CSV_LINES
    # Every decided mail arrived, one Message-ID each: a receiver that drops a copy with a
    # Message-ID it has seen (as mail clients do) sees each mail once.
    assert message_ids == served_mails, output[-3000:]
    # A copy is only the one SMTP cannot avoid: a sender killed after the server accepted the
    # mail and before « sent » was stored (outbox.py); the next sender, after the dead one's
    # claim ran out, sent it again with the same Message-ID. Never two live senders.
    for mail_id, claims in copies.items():
        assert len(set(claims)) >= 2, f"mail {mail_id} sent twice by one sender: {claims}"
    assert deliveries - message_ids <= 2 * len(kills)  # two worker processes per killed server
