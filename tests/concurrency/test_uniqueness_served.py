"""Issue 12, item 6, against a real `vigie serve --workers 2` on PostgreSQL: N identical
enrolments at once make one account and one enrolment; the same CSV file twice, or twice at
once, enrols nobody twice; a CSV import killed with SIGKILL midway leaves all or nothing, and
the same file uploaded after the restart is imported whole. The counts are printed (-s)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from adapters.mail.capture import SmtpCapture
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.imports import CsvImport
from tests.concurrency.served import Served, count_deliveries, start_served
from ui.serve import CENTRE_EMAIL
from ui.web.enrolment_file import MAX_CSV_LINES

PARALLEL = 8
SEEDED = 2  # `vigie serve` seeds two demo candidates (two centres), an enrolment each


def counts(served: Served) -> Counter[str]:
    """How many of each event the log holds (by class name)."""
    store = served.store()
    try:
        found: Counter[str] = Counter()
        position = 0
        while page := store.read(position, 2000):
            found.update(type(r.event).__qualname__ for r in page)
            position = page[-1].position
        return found
    finally:
        store.close()


def registered(served: Served) -> tuple[int, int, int]:
    """(candidate accounts, enrolments, CSV imports) made since the server was seeded."""
    found = counts(served)
    return (
        found[Candidate.CandidateRegistered.__qualname__] - SEEDED,
        found[Enrollment.Enrolled.__qualname__] - SEEDED,
        found[CsvImport.CsvImported.__qualname__],
    )


def csv_file(lines: int, prefix: str) -> bytes:
    rows = ["email,surname,first_name,certification_code,language"]
    rows += [f"{prefix}{n}@example.org,Nom{n},Prénom{n},ENI-ACCESS,fr" for n in range(lines)]
    return ("\n".join(rows) + "\n").encode()


def upload(served: Served, client: httpx.Client, content: bytes) -> httpx.Response:
    """Choose the file, then press « Importer » on its preview (issue 13)."""
    token = served.form_token(client, "/operator")
    preview = client.post(
        "/operator/enrol-csv",
        files={"file": ("candidats.csv", content, "text/csv")},
        headers={"x-csrftoken": token},
        timeout=300.0,
    )
    fields = dict(re.findall(r'name="(content|digest)" value="([^"]*)"', preview.text))
    assert set(fields) == {"content", "digest"}, preview.text[-3000:]
    return client.post(
        "/operator/enrol-csv/confirm",
        data=fields,
        headers={"x-csrftoken": token},
        timeout=300.0,
    )


def test_eight_identical_enrolments_at_once_make_one_account_and_one_enrolment(
    served: Served,
) -> None:
    centre = served.staff_client(CENTRE_EMAIL)
    clients = [served.clone(centre) for _ in range(PARALLEL)]
    form = {
        "email": "jeanne.dupuis@example.org",
        "surname": "Dupuis",
        "first_name": "Jeanne",
        "certification_code": "ENI-ACCESS",
        "language": "fr",
    }
    tokens = [served.form_token(c, "/operator") for c in clients]
    barrier = threading.Barrier(PARALLEL)

    def enrol(index: int) -> int:
        barrier.wait()
        reply = clients[index].post("/operator/enrol", data={**form, "_csrf_token": tokens[index]})
        return reply.status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(enrol, range(PARALLEL)))
    accounts, enrolments, _ = registered(served)
    served.wait_until_sent(expected=3)  # the demo's two mails are settled before; then ours
    invitations = [
        m for m in served.capture.messages() if "jeanne.dupuis@example.org" in str(m["To"])
    ]
    print(
        f"\n{PARALLEL} identical enrolments at once: statuses {sorted(statuses)}, "
        f"{accounts} account, {enrolments} enrolment, {len(invitations)} invitation(s) "
        f"delivered; SMTP deliveries/Message-IDs {count_deliveries(served.capture)}"
    )
    assert all(s < 500 for s in statuses), served.output()[-3000:]
    assert (accounts, enrolments) == (1, 1)
    for client in [centre, *clients]:
        client.close()


def test_the_same_csv_twice_then_twice_at_once_enrols_nobody_twice(served: Served) -> None:
    centre = served.staff_client(CENTRE_EMAIL)
    first_file = csv_file(300, "a")
    started = time.monotonic()
    first = upload(served, centre, first_file)
    took = time.monotonic() - started
    again = upload(served, centre, first_file)
    assert first.status_code == again.status_code == 200
    assert 'data-imported="yes"' in first.text and 'data-already="yes"' in again.text
    assert "Ce fichier a déjà été importé le" in again.text
    after_twice = registered(served)

    second_file = csv_file(120, "b")
    clones = [served.clone(centre) for _ in range(2)]
    barrier = threading.Barrier(2)

    def send(client: httpx.Client) -> httpx.Response:
        barrier.wait()
        return upload(served, client, second_file)

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(send, clones))
    at_once = registered(served)
    print(
        f"\n300-line CSV imported in {took:.2f} s; the same file twice: "
        f"(accounts, enrolments, imports) = {after_twice}; a 120-line file twice at once: "
        f"statuses {[r.status_code for r in replies]}, totals {at_once}"
    )
    assert after_twice == (300, 300, 1)
    assert [r.status_code for r in replies] == [200, 200], served.output()[-3000:]
    assert sorted('data-already="yes"' in r.text for r in replies) == [False, True]
    assert at_once == (420, 420, 2)
    for client in [centre, *clones]:
        client.close()


# --- a server killed with SIGKILL while it imports ---------------------------------------------


@contextmanager
def killable_server(
    postgres_url: str, capture: SmtpCapture, folder: Path
) -> Iterator[tuple[Served, subprocess.Popen[str]]]:
    """`vigie serve --workers 2` in its own process group, so SIGKILL reaches every worker."""
    with start_served(postgres_url, capture, folder, process_group=True) as served:
        yield served, served.process


LARGE = MAX_CSV_LINES  # the largest file the page accepts


def writing_backend(database_url: str) -> bool:
    """Whether a PostgreSQL session has held the store's events-table lock for a while in
    this schema: a big insert (the import's one transaction) is under way; a worker's small
    saves hold it for a few milliseconds."""
    base, _, query = database_url.partition("?")
    schema = query.removeprefix("schema=")
    with psycopg.connect(base, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname LIKE '%%events' AND l.mode = 'ExclusiveLock' "
            "AND l.granted AND now() - a.xact_start > interval '50 milliseconds'",
            [schema],
        ).fetchone()
    return bool(row and row[0])


def test_a_csv_import_killed_midway_leaves_all_or_nothing_and_imports_whole_after_restart(
    postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    big = csv_file(LARGE, "k")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with killable_server(postgres_url, smtp_counter, tmp_path / "first") as (served, process):
        centre = served.staff_client(CENTRE_EMAIL)
        quiet = time.monotonic() + 60  # the demo's mails sent: nobody else writes
        while served.pending_mails() and time.monotonic() < quiet:
            time.sleep(0.2)
        started = time.monotonic()
        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(upload(served, centre, big).status_code)
            except httpx.HTTPError as error:
                outcome.append(type(error).__name__)

        sender = threading.Thread(target=send)
        sender.start()
        # Kill while the one transaction writes the file's events (or, if that moment is
        # missed, while the server still decides them).
        deadline = time.monotonic() + 60
        writing = False
        while not writing and time.monotonic() < deadline and sender.is_alive():
            writing = writing_backend(postgres_url)
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        killed_after = time.monotonic() - started
        sender.join(timeout=30)
        centre.close()
        after_kill = registered(served)
    with killable_server(postgres_url, smtp_counter, tmp_path / "second") as (served, _):
        restarted = registered(served)
        centre = served.staff_client(CENTRE_EMAIL)
        started = time.monotonic()
        reply = upload(served, centre, big)
        took = time.monotonic() - started
        whole = registered(served)
        again = upload(served, centre, big)
        already = 'data-already="yes"' in again.text
        centre.close()
    print(
        f"\n{LARGE}-line CSV, server killed (SIGKILL) {killed_after:.1f} s into the upload, "
        f"{'while writing its transaction' if writing else 'before it wrote'} "
        f"(the upload got {outcome}): (accounts, enrolments, imports) after the kill "
        f"{after_kill}, after the restart {restarted}; uploaded again: {reply.status_code} in "
        f"{took:.1f} s, {whole}; a third time: already imported = "
        f"{already}"
    )
    assert outcome and outcome[0] != 200, "the import finished before the kill: not midway"
    assert after_kill in ((0, 0, 0), (LARGE, LARGE, 1))
    assert restarted == after_kill
    assert reply.status_code == 200 and 'data-imported="yes"' in reply.text
    assert whole == (LARGE, LARGE, 1)
    assert already
