"""Webhooks (issue 16): a centre subscribes on its page; the worker's webhooks pass posts a
signed delivery for each of the centre's events (session created, exam submitted, decision
released, appeal decided) to a real HTTP receiver on 127.0.0.1, which checks every signature
with the Standard Webhooks library and fails the first requests; the deliveries are retried
with back-off until accepted, each accepted once, and the centre's delivery log shows every
attempt. On PostgreSQL."""

from __future__ import annotations

import html
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app import integrations
from app.mail_rendering import SupportContact
from app.tenancy import centre_of_operator
from app.use_cases import accounts, appeals, reviewing
from app.webhooks import WebhookSender, signed_headers
from domain.evidence import ReasonCode, Verdict
from domain.integrations import WebhookEvent
from domain.internal_network import AllowedNetworks
from domain.review import AppealOutcome, CitedReason, Review
from domain.staff import Role
from domain.webhook_delivery import DeliveryStatus, WebhookDelivery
from tests.acceptance.web import form_token, log_in
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from ui.worker import Passes
from ui.worker_health import POLICIES, WEBHOOKS

SECRET = b"w" * 32
PASSWORD = "centre-pass-1"
FAILING_FIRST = 5  # the receiver's first five requests fail (503)
EVERY_EVENT = ("session.created", "exam.submitted", "decision.released", "appeal.decided")


@dataclass
class Receiver:
    """A centre's system: checks each request's signature, fails the first few, and keeps
    what it accepted (a repeated webhook-id would be a duplicate)."""

    secret: str = ""
    failing_first: int = FAILING_FIRST
    requests: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests += 1
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                self.bad_signatures += 1
                return 400
            if self.requests <= self.failing_first:
                return 503
            self.accepted.append(payload)
            self.accepted_ids.append(headers["webhook-id"])
            return 204


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = state.answer(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/vigie-hooks"
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(postgres_url: str) -> Iterator[Platform]:
    platform = bootstrap(
        Settings(
            database_url=postgres_url,
            media_root=None,
            secret_key=SECRET.decode(),
            # The receivers are on this machine: an operator's setting lets webhooks reach it.
            webhook_allowed_networks=AllowedNetworks.parse("127.0.0.0/8"),
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(21),
    )
    yield platform
    platform.close()


def subscribe_on_the_page(client: TestClient[Any], url: str, *events: str) -> str:
    path = "/operator/integrations"
    reply = client.post(
        f"{path}/webhooks",
        data={"url": url, "events": list(events), "_csrf_token": form_token(client, path)},
    )
    assert reply.status_code == 200, reply.text
    found = re.search(r'<code id="webhook-secret">([^<]+)</code>', reply.text)
    assert found is not None, "the signing secret is shown once"
    return html.unescape(found.group(1))


def through_an_appeal(platform: Platform, centre: UUID) -> Journey:
    """A candidate of the centre: session created, exam sent, invalidated and released,
    contested, and the appeal decided by a second examiner (overturned)."""
    first, second = (
        accounts.register_staff(
            platform.ctx, email=f"{n}@example.org", name=n, role=Role.EXAMINER, password=PASSWORD
        )
        for n in ("first", "second")
    )
    journey = Journey(platform, email="ada@example.org", centre_id=centre)
    review_id = journey.sent_for_review()
    review = platform.ctx.store.get(review_id, Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    journey.decided(
        first, Verdict.INVALIDATED, (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    )
    reviewing.release_results(platform.ctx, review_id, released_by=first)
    assert journey.candidate_id is not None
    appeals.lodge_appeal(
        platform.ctx, review_id, candidate_id=journey.candidate_id, reason="mes bouchons"
    )
    appeals.take_appeal(platform.ctx, review_id, second)
    appeals.decide_appeal(
        platform.ctx,
        review_id,
        examiner_id=second,
        outcome=AppealOutcome.OVERTURNED,
        answer="Les bouchons d'oreille étaient autorisés par votre centre pour cet examen ; "
        "la session est validée.",
    )
    platform.settle()
    return journey


def test_every_event_reaches_the_receiver_once_signed_after_retries_through_the_outbox(
    platform: Platform, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    staff_id = accounts.register_staff(
        platform.ctx, email="centre@example.org", name="C", role=Role.CENTRE, password=PASSWORD
    )
    app = create_app(platform, secret=SECRET, support=SupportContact())
    with TestClient(app) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        state.secret = subscribe_on_the_page(client, url, *EVERY_EVENT)
        # A second subscription, removed at once: nothing is ever sent to it.
        subscribe_on_the_page(client, url + "/removed", *EVERY_EVENT)
        [removed] = re.findall(
            r'data-webhook="([^"]+)"><code>[^<]*/removed</code>',
            client.get("/operator/integrations").text,
        )
        path = "/operator/integrations"
        client.post(
            f"{path}/webhooks/{removed}/remove", data={"_csrf_token": form_token(client, path)}
        )

        journey = through_an_appeal(platform, centre_of_operator(staff_id))
        # The web requests and the journey decided deliveries; none was posted yet: posting
        # is the worker's webhooks pass, never a request's.
        assert state.requests == 0

        passes = Passes.of(platform)
        clock = journey.clock
        assert passes.run(POLICIES) and passes.run(WEBHOOKS)  # 4 posted, 4 refused (503)
        assert state.requests == 4 and not state.accepted
        passes.run(WEBHOOKS)  # not due yet: the first retry waits 30 s
        assert state.requests == 4
        clock.advance(seconds=30)
        passes.run(WEBHOOKS)  # the 5th request still fails, the 3 others are accepted
        assert state.requests == 8 and len(state.accepted) == 3
        clock.advance(seconds=30)
        passes.run(WEBHOOKS)  # the second retry waits 1 min, not 30 s
        assert state.requests == 8
        clock.advance(seconds=30)
        passes.run(WEBHOOKS)
        assert state.requests == 9
        for _ in range(3):  # nothing more, however long the worker runs
            clock.advance(minutes=10)
            passes.run(POLICIES)
            passes.run(WEBHOOKS)
        assert state.requests == 9

        assert state.bad_signatures == 0
        assert sorted(p["type"] for p in state.accepted) == sorted(EVERY_EVENT)
        assert len(set(state.accepted_ids)) == len(state.accepted_ids) == 4
        by_type = {p["type"]: p for p in state.accepted}
        assert by_type["session.created"]["data"]["session_id"] == str(journey.session_id)
        assert by_type["exam.submitted"]["data"]["attempt_id"] == str(journey.attempt_id)
        assert by_type["decision.released"]["data"]["verdict"] == "invalidated"
        assert by_type["appeal.decided"]["data"]["verdict"] == "validated"
        assert by_type["appeal.decided"]["data"]["appeal_outcome"] == "overturned"
        assert all(p["data"]["enrollment_id"] == str(journey.enrollment_id) for p in state.accepted)
        assert "ada@example.org" not in json.dumps(state.accepted), "no personal data is sent"

        # Each delivery recorded once as delivered, in the store.
        deliveries = [platform.ctx.store.get(UUID(i), WebhookDelivery) for i in state.accepted_ids]
        assert all(d.status is DeliveryStatus.DELIVERED for d in deliveries)
        attempts = Counter(d.event_type.value for d in deliveries)
        assert attempts == Counter(EVERY_EVENT)
        assert {d.event_type.value: d.attempts for d in deliveries} == {
            "session.created": 3,
            "exam.submitted": 2,
            "decision.released": 2,
            "appeal.decided": 2,
        }

        # The centre's delivery log: every attempt, with its answer.
        log = client.get("/operator/integrations").text
        assert log.count('data-outcome="failed"') == 5
        assert log.count('data-outcome="delivered"') == 4
        assert "HTTP 503" in log and "HTTP 204" in log
        # Newest first, each attempt at its own time (a retry sat under its first try, so the
        # times went 07:18, 07:16, 07:15, 07:18: a tester's tour), each naming its candidate.
        times = [
            datetime.fromisoformat(t)
            for t in re.findall(
                r'<tr data-delivery="[^"]+" data-outcome="[^"]+" data-at="([^"]+)"', log
            )
        ]
        assert len(times) == 9 and times == sorted(times, reverse=True), times
        assert log.count(f'data-enrollment="{journey.enrollment_id}"') == 9
        assert log.count("MARTIN Camille") == 9


def test_a_receiver_that_never_answers_is_given_up_after_its_attempts(
    platform: Platform,
) -> None:
    """No server at the address: each attempt fails without an answer, and after the last
    one the delivery is given up (the log says so)."""
    staff_id = accounts.register_staff(
        platform.ctx, email="centre@example.org", name="C", role=Role.CENTRE, password=PASSWORD
    )
    integrations.subscribe_webhook(
        platform.ctx,
        staff_id,
        platform.webhook_key,
        url="http://127.0.0.1:9/nobody",  # the discard port: nothing listens on it
        events=(WebhookEvent.SESSION_CREATED,),
    )
    journey = Journey(platform, email="bob@example.org", centre_id=centre_of_operator(staff_id))
    journey.enrol()
    journey.create_session()
    sender = platform.webhooks
    assert sender is not None
    for _ in range(sender.max_attempts):
        platform.deliver_webhooks()
        journey.clock.advance(hours=1)
    [summary] = platform.projections.deliveries_of_centre(centre_of_operator(staff_id))
    assert summary.status is DeliveryStatus.FAILED
    assert len(summary.attempts) == sender.max_attempts
    assert summary.attempts[-1].outcome == "given up"
    assert summary.attempts[0].status_code is None and summary.attempts[0].error


def test_the_readme_verification_snippets_accept_our_signature_and_nothing_else() -> None:
    """The README's two ways of checking a webhook (Standard Webhooks' library, and the
    standard library alone) are run as written, on headers the sender makes."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    [plain] = [b for b in blocks if "def verified(" in b]
    [library] = [b for b in blocks if "def handle(" in b]
    secret = integrations.webhook_secret(b"k" * 32, UUID(int=1))
    body = b'{"type":"session.created","data":{}}'
    headers = signed_headers(secret, "delivery-1", datetime.now(UTC), body)
    scope: dict[str, Any] = {}
    exec(plain, scope)
    assert scope["verified"](secret, body, headers)
    assert not scope["verified"](secret, body + b" ", headers)
    another = integrations.webhook_secret(b"k" * 32, UUID(int=2))  # another webhook's
    assert not scope["verified"](another, body, headers)
    old = signed_headers(secret, "delivery-1", datetime.now(UTC) - timedelta(minutes=6), body)
    assert not scope["verified"](secret, body, old)
    processed: set[str] = set()
    scope = {
        "WHSEC": secret,
        "already_processed": lambda i: i in processed or processed.add(i),
    }
    exec(library, scope)
    assert scope["handle"](body, headers) == 204
    assert scope["handle"](body, headers) == 204  # a repeat: dropped
    assert scope["handle"](body + b" ", headers) == 400
    assert scope["handle"](body, old) == 400


def test_two_workers_post_each_delivery_once_the_claim_in_the_store_decides(
    platform: Platform, receiver: tuple[Receiver, str]
) -> None:
    """Senders of two workers take the same due deliveries at the same moment: each one is
    claimed in the store before its POST, so the receiver gets it once, recorded once."""
    state, url = receiver
    state.failing_first = 0
    staff_id = accounts.register_staff(
        platform.ctx, email="centre@example.org", name="C", role=Role.CENTRE, password=PASSWORD
    )
    made = integrations.subscribe_webhook(
        platform.ctx,
        staff_id,
        platform.webhook_key,
        url=url,
        events=(WebhookEvent.SESSION_CREATED,),
    )
    state.secret = made.secret
    for n in range(6):
        journey = Journey(
            platform, email=f"c{n}@example.org", centre_id=centre_of_operator(staff_id)
        )
        journey.enrol()
        journey.create_session()
    platform.projections.catch_up(platform.ctx.store)
    due = platform.projections.webhooks_due(platform.ctx.now())
    assert len(due) == 6
    first = platform.webhooks
    assert first is not None
    second = replace(first, name="webhooks-other-worker")
    start = threading.Barrier(2)

    def run(sender: WebhookSender) -> None:
        start.wait()
        sender.send_due(due)

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert state.requests == 6 and len(set(state.accepted_ids)) == 6
    delivered = [
        r.event
        for r in platform.ctx.store.read(0, 10_000)
        if isinstance(r.event, WebhookDelivery.Delivered)
    ]
    assert sorted(str(e.originator_id) for e in delivered) == sorted(map(str, due))
