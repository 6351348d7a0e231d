"""Issue 15, web processes do no background work: `vigie serve --no-worker` answers
pages and records their facts, and nothing else happens (no mail decided or sent, no policy
moves) until a `vigie worker` runs; then the worker does it all."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.mail.capture import SmtpCapture
from app.policies import default_policies
from tests.concurrency.served import start_served, start_worker
from ui.serve import DEMO_EMAIL


def test_served_web_processes_leave_every_reaction_to_a_worker(
    postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    # One web process: it starts faster than two, and worker_app (each of `--workers N`)
    # is the same app without the worker thread it used to start.
    with start_served(
        postgres_url, smtp_counter, tmp_path / "web", worker=False, web_processes=1
    ) as served:
        assert "--no-worker" in served.banner
        with served.client() as client:
            reply = served.post_form(
                client, "/password/forgot", {"email": DEMO_EMAIL, "account": "proctoring"}
            )
            assert reply.status_code == 200, reply.text
        time.sleep(1.5)  # three passes of the worker thread the web processes used to run
        store = served.store()
        try:
            policies = default_policies()
            assert [store.position_of(p.name) for p in policies] == [0] * len(policies)
            assert store.head() > 0  # the demo and the request were recorded
        finally:
            store.close()
        assert served.mails_decided() == 0
        assert smtp_counter.deliveries() == []

        offset = served.clock_offset.total_seconds()
        with start_worker(
            postgres_url, smtp_counter, tmp_path / "worker", clock_offset_s=offset
        ) as worker:
            # Two demo invitations and the reset: decided and sent by the worker alone.
            assert served.wait_until_decided(3, timeout=30) >= 3, worker.output()
            served.wait_for(
                lambda: len(smtp_counter.deliveries()) >= 3 and served.pending_mails() == 0,
                "the worker sent the mails",
            )
