"""Issue 14, recovery: PostgreSQL restarted under load (a throwaway cluster this test starts,
never the machine's shared server) while a real `vigie serve --workers 2` keeps answering
requests that read and write the store and the key store. Once the server is back, no
request answers 5xx; while it is down, a 5xx is the clear « try again » page in French."""

from __future__ import annotations

import functools
import itertools
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.mail.capture import SmtpCapture
from tests.concurrency.served import Served, start_served
from tests.conftest import Cluster, throwaway_cluster
from tests.faults import tally
from ui.serve import CENTRE_EMAIL, EXAMINER_EMAIL

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

LOADERS = 4
OUTAGE_S = 3.0  # PostgreSQL stopped this long (longer than the store's own retries, 2 s)
AFTER_S = 6.0  # load kept up this long once PostgreSQL answers again
UNAVAILABLE = "momentanément indisponible"  # the French « try again » page's words


@dataclass(frozen=True)
class Reply:
    started: float  # time.monotonic() when the request was sent
    ended: float  # and when its answer (or the failure) came
    what: str
    status: int  # 0: no reply (the connection failed)
    text: str


def _load(
    served: Served,
    logged_in: list[httpx.Client],
    stop: threading.Event,
    number: int,
    replies: list[Reply],
) -> list[Reply]:
    """One person's requests in a loop: the centre enrols (store + key store), the examiner
    reads the reviews due, the candidate reads their sessions (personal data: the key store)."""
    with (
        served.clone(logged_in[0]) as centre,
        served.clone(logged_in[1]) as examiner,
        served.clone(logged_in[2]) as candidate,
    ):
        token = served.form_token(centre, "/operator")
        for n in itertools.count():
            if stop.is_set():
                return replies
            enrolment = {
                "email": f"pg{number}-{n}@example.org",
                "surname": f"Nom{n}",
                "first_name": "Alex",
                "certification_code": "ENI-ACCESS",
                "language": "fr",
                "_csrf_token": token,
            }
            requests = [
                ("enrol", functools.partial(centre.post, "/operator/enrol", data=enrolment)),
                ("operator page", lambda: centre.get("/operator")),
                ("reviews due", lambda: examiner.get("/examiner/reviews")),
                ("my exams", lambda: candidate.get("/exams")),
            ]
            for what, send in requests:
                started = time.monotonic()
                try:
                    answer = send()
                    reply = Reply(started, time.monotonic(), what, answer.status_code, answer.text)
                except httpx.TransportError as error:
                    reply = Reply(started, time.monotonic(), what, 0, repr(error))
                replies.append(reply)
                time.sleep(0.02)
    return replies


def _outage(cluster: Cluster) -> None:
    """Stopped at once (connections die as in a crash), down a while, started again."""
    stop = [*cluster.pg_ctl, "-m", "immediate", "-w", "stop"]
    subprocess.run(stop, check=True, capture_output=True, timeout=60)
    time.sleep(OUTAGE_S)
    subprocess.run([*cluster.pg_ctl, "-w", "start"], check=True, capture_output=True, timeout=60)


def test_a_postgresql_restart_under_load_gives_no_5xx_once_it_is_back(
    smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    with (
        throwaway_cluster() as cluster,
        start_served(cluster.url, smtp_counter, tmp_path) as served,
    ):
        stop = threading.Event()
        candidate = served.client()
        served.log_in_candidate(candidate)
        logged_in = [served.staff_client(CENTRE_EMAIL), served.staff_client(EXAMINER_EMAIL)]
        logged_in.append(candidate)
        with ThreadPoolExecutor(LOADERS) as pool:
            seen: list[list[Reply]] = [[] for _ in range(LOADERS)]
            loads = [
                pool.submit(_load, served, logged_in, stop, n, seen[n]) for n in range(LOADERS)
            ]
            # Every loader is under way (a loaded machine takes a while) before the outage.
            under_way = time.monotonic() + 60
            while min(map(len, seen)) < 8 and time.monotonic() < under_way:
                time.sleep(0.05)
            down = time.monotonic()
            _outage(cluster)
            back = time.monotonic()
            time.sleep(AFTER_S)
            stop.set()
            replies = [r for load in loads for r in load.result()]
        for client in logged_in:
            client.close()
        output = served.output()
    # A request still under way when PostgreSQL stopped belongs to the outage: its clear
    # « try again » is right (the session written after the route can meet it too).
    before = [r for r in replies if r.ended < down]
    during = [r for r in replies if r.ended >= down and r.started < back]
    after = [r for r in replies if r.started >= back]
    failed_after = [
        (r.what, r.status, r.text[-300:]) for r in after if r.status >= 500 or r.status == 0
    ]
    print(
        f"\nPostgreSQL restarted in {back - down:.1f} s under {LOADERS} loaders: "
        f"{len(before)} requests before, {len(during)} during, {len(after)} after; statuses "
        f"during {sorted({r.status for r in during})}, after {sorted({r.status for r in after})}"
    )
    tally.count("postgresql restarts")
    tally.count("requests across a postgresql restart", len(replies))
    assert before and after
    assert [r for r in before if r.status >= 500] == [], output[-3000:]
    assert failed_after == [], output[-5000:]
    # While it was down: a 5xx is the clear page in French, never a bare 500.
    unclear = [(r.what, r.status) for r in during if r.status >= 500 and UNAVAILABLE not in r.text]
    assert unclear == [], output[-3000:]
