"""Issue 15 against a real `vigie serve --workers 2`: every scrape of `/metrics` adds up the
counts of every process writing to the platform's metrics folder (prometheus_client's
multiprocess mode), whichever process answers it; `/ready` answers with its three checks."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.concurrency.served import Served

REQUESTS = 40
# Another process (as `vigie worker` started with the same PROMETHEUS_MULTIPROC_DIR would be)
# counts a request of its own; no web process has counted it.
ANOTHER_PROCESS = """
from ui.metrics import REQUEST_SECONDS
REQUEST_SECONDS.labels(method="GET", route="/from-another-process", status="2xx").observe(0.01)
"""


def _count(text: str, route: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "vigie_http_request_duration_seconds_count"
                and sample.labels.get("route") == route
            ):
                return sample.value
    return 0.0


def test_every_scrape_adds_up_every_process_counts(served: Served) -> None:
    with served.client() as client:
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"store", "media", "smtp", "rate_limits"}

    def health(_: int) -> int:
        with served.client() as one:  # a new connection each: either process may take it
            return one.get("/health").status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(health, range(REQUESTS))) == {200}
    folder = Path(os.readlink(f"/proc/{served.process.pid}/cwd")) / "vigie-data" / "metrics"
    assert len(list(folder.glob("histogram_*.db"))) >= 1
    subprocess.run(
        [sys.executable, "-c", ANOTHER_PROCESS],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        check=True,
        timeout=60,
    )
    for _ in range(6):  # new connections: both web processes answer some of the scrapes
        with served.client() as scraper:
            reply = scraper.get("/metrics")
            assert reply.status_code == 200, reply.text[:200]  # from 127.0.0.1, no proxy
            assert _count(reply.text, "/health") == REQUESTS
            assert _count(reply.text, "/from-another-process") == 1
