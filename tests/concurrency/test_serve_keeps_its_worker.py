"""`vigie serve` starts its `vigie worker` again when it dies (issue 15): a worker SIGKILLed
while the server runs is replaced, and the background work (here, a reset mail) goes on. And
a SIGTERM to the server stops its worker cleanly."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from adapters.mail.capture import SmtpCapture
from tests.concurrency.served import start_served
from ui.serve import DEMO_EMAIL

_STARTED = re.compile(r"`vigie worker` process (\d+)")
_RESTARTED = re.compile(r"vigie worker process (\d+) started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_worker_is_started_again_and_the_mails_go_on(
    postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    with start_served(postgres_url, smtp_counter, tmp_path, web_processes=1) as served:
        found = _STARTED.search(served.banner)
        assert found is not None, served.banner
        first = int(found.group(1))
        os.kill(first, signal.SIGKILL)

        served.wait_for(lambda: _RESTARTED.search(served.output()) is not None, "a new worker")
        second = int(_RESTARTED.findall(served.output())[-1])
        assert second != first and _alive(second), served.output()
        assert f"vigie worker process {first} ended (signal SIGKILL)" in served.output()

        before = len(smtp_counter.deliveries())
        with served.client() as client:
            reply = served.post_form(
                client, "/password/forgot", {"email": DEMO_EMAIL, "account": "proctoring"}
            )
            assert reply.status_code == 200, reply.text
        # The killed worker's leases expire (10 s), then the new one holds them and sends.
        served.wait_for(
            lambda: len(smtp_counter.deliveries()) > before and served.pending_mails() == 0,
            "the new worker sent the reset mail",
            timeout=45,
        )
        assert _alive(second), served.output()

        # SIGTERM to the server alone (systemd, `kill`): it stops its worker, which gives its
        # leases back, rather than dying on the spot and leaving the worker behind.
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=30) == 0, served.output()
        deadline = time.monotonic() + 5
        while "gave back its lease" not in served.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "gave back its lease" in served.output(), served.output()
        assert not _alive(second), served.output()
