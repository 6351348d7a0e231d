"""Prometheus metrics (issue 15), with the maintained `prometheus_client`.

What is counted where:
- request latency by route *template* (`/reviews/{review_id:uuid}`, never the raw path: a
  bounded number of series) and status class, timed around the whole app (`timed`);
- events appended per aggregate type, told by the store after each committed save
  (`watch_store`), whichever use case, policy or worker saved them;
- worker passes and their failures per kind of work (`ui.worker_health` counts them here too),
  the leases a worker holds (`vigie_worker_leases_held`, per kind),
  mails sent, retried and given up by the outbox;
- read at scrape time from the store and this process's read models (`StoreCollector`):
  outbox depth (pending and failed mails), projection lag and each policy's lag (events in
  the log not yet applied), and the live streams this process is recording.

Several processes (`vigie serve --workers N`): each has its own memory, so `vigie serve`
points PROMETHEUS_MULTIPROC_DIR at a folder before it starts them and the library's
multiprocess mode adds up the counters and histograms of every process at each scrape (the
values read at scrape time come from the process that answers; they are the store's, so any
process gives the same outbox depth). The variable must be set before this module is first
imported: prometheus_client picks its storage at import.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from domain.outbound_mail import MailStatus
from ui import gc_pauses
from ui.web.faults import request_id_of

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from adapters.bootstrap import Platform
    from adapters.persistence.store import EventsourcingStore
    from app.outbox import SendReport

# Litestar adds « ; charset=utf-8 » to every text/* type: given the library's whole type, a
# scrape read « charset=utf-8; charset=utf-8 » (an operator's check).
CONTENT_TYPE = CONTENT_TYPE_LATEST.removesuffix("; charset=utf-8")
disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series double the text and no dashboard reads them
UNMATCHED = "<unmatched>"  # a path no route answers (scanners): one series for all of them

REQUEST_SECONDS = Histogram(
    "vigie_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_APPENDED = Counter(
    "vigie_events_appended_total",
    "Events appended to the log, by aggregate type.",
    ["aggregate"],
)
WORKER_PASSES = Counter(
    "vigie_worker_passes_total", "Worker passes run, by kind of work.", ["kind"]
)
WORKER_FAILURES = Counter(
    "vigie_worker_pass_failures_total", "Worker passes that failed, by kind of work.", ["kind"]
)
WORKER_LEASES = Gauge(
    "vigie_worker_leases_held",
    "Kinds of background work whose lease this worker holds (1) or not (0).",
    ["kind"],
    multiprocess_mode="livesum",
)
OUTBOX_MAILS = Counter(
    "vigie_outbox_mails_total",
    "Mails the outbox handled, by outcome (sent, retried, given_up).",
    ["outcome"],
)


def multiprocess_dir() -> str | None:
    """The folder the processes share their counts through, when set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def watch_store(store: EventsourcingStore) -> None:
    """Count the events every committed save appends (once per store)."""
    if _count_events not in store.on_saved:
        store.on_saved.append(_count_events)


def _count_events(appended: Mapping[str, int]) -> None:
    for aggregate, count in appended.items():
        if count:
            EVENTS_APPENDED.labels(aggregate=aggregate).inc(count)


ACCESS = logging.getLogger("vigie.access")  # each answer, at INFO


def timed(app: ASGIApp) -> ASGIApp:
    """Wraps the app's ASGI handler: every HTTP answer, a 404 for an unknown path included,
    is timed under its route template (set in the scope by the router) and status class."""

    # Each (method, route, status) series found once (prometheus_client validates and locks
    # at every `labels` call); routes and statuses are few.
    children: dict[tuple[str, str, int], Any] = {}

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]  # a handler that raised past every exception handler

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            key = (scope.get("method", "GET"), scope.get("path_template") or UNMATCHED, status[0])
            child = children.get(key)
            if child is None:
                child = children[key] = REQUEST_SECONDS.labels(
                    method=key[0], route=key[1], status=f"{key[2] // 100}xx"
                )
            seconds = time.perf_counter() - started
            child.observe(seconds)
            gc_pauses.flush()  # the collections the collector's callback noted meanwhile
            if ACCESS.isEnabledFor(logging.INFO):
                # One line an answer at INFO (VIGIE_LOG_LEVEL=INFO): its path without the
                # query (a workspace's signature rides there), status, time and request id.
                ACCESS.info(
                    "%s %s %d %.1f ms",
                    key[0],
                    scope.get("path", ""),
                    status[0],
                    seconds * 1000,
                    extra={"request_id": request_id_of(scope)},
                )

    return handler


class StoreCollector(Collector):
    """Values read at scrape time: the outbox, the lags, the live streams."""

    def __init__(self, platform: Platform, live_streams: int | None = None) -> None:
        self.platform = platform
        self.live_streams = live_streams

    def collect(self) -> Iterable[Metric]:
        platform = self.platform
        head = platform.store.head()
        behind = max(0, head - platform.projections.position)  # before the catch-up below
        # A web process's read models move only when a page reads them (no worker thread
        # in it): caught up here, the outbox's depth is the store's, whichever process answers.
        platform.projections.catch_up(platform.ctx.store)
        mails = list(platform.projections.mails.values())
        depth = GaugeMetricFamily(
            "vigie_outbox_mails", "Mails in the outbox, by status.", labels=["status"]
        )
        for status in (MailStatus.PENDING, MailStatus.FAILED):
            depth.add_metric([status.value], sum(1 for m in mails if m.status is status))
        yield depth
        yield GaugeMetricFamily("vigie_log_head", "The log's last notification id.", value=head)
        yield GaugeMetricFamily(
            "vigie_projection_lag_events",
            "Events in the log the answering process's read models have not applied yet.",
            value=behind,
        )
        lag = GaugeMetricFamily(
            "vigie_policy_lag_events",
            "Events in the log a policy has not processed yet (the workers' lag).",
            labels=["policy"],
        )
        for policy in platform.runner.policies:
            lag.add_metric([policy.name], max(0, head - platform.store.position_of(policy.name)))
        yield lag
        if self.live_streams is not None:
            yield GaugeMetricFamily(
                "vigie_live_streams",
                "Live streams the answering process is recording.",
                value=self.live_streams,
            )


class _Default(Collector):
    """This process's own metrics (one process: no multiprocess folder)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _registry(platform: Platform, live_streams: int | None = None) -> CollectorRegistry:
    """Every process's counts (or this one's), then the values read at scrape time."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    registry.register(StoreCollector(platform, live_streams))
    return registry


def exposition(platform: Platform, live_streams: int | None = None) -> bytes:
    """The text a scrape gets."""
    gc_pauses.flush()
    return generate_latest(_registry(platform, live_streams))


def serve_worker_metrics(port: int, platform: Platform) -> Any:
    """`vigie worker --metrics-port`: its own endpoint on 127.0.0.1 (the worker has no web
    app); the same text as the web's `/metrics`."""
    from prometheus_client import start_http_server

    try:
        return start_http_server(port, addr="127.0.0.1", registry=_registry(platform))
    except OSError as error:  # a sentence, as `vigie serve --port` says (an operator's review)
        raise ValueError(
            f"--metrics-port {port}: 127.0.0.1:{port} cannot be used ({error.strerror}); "
            "stop the process that holds it (an older worker still stopping?) or choose "
            "another --metrics-port"
        ) from None


def count_mails(report: SendReport) -> None:
    """One outbox pass's outcomes (its failures: `retried` and `given_up`)."""
    for outcome, count in (
        ("sent", report.sent),
        ("retried", report.retried),
        ("given_up", report.given_up),
    ):
        if count:
            OUTBOX_MAILS.labels(outcome=outcome).inc(count)


def count_leases(kinds: Iterable[str], held: Iterable[str]) -> None:
    """Which kinds of work this worker holds the lease of, after a lease round."""
    holding = set(held)
    for kind in kinds:
        WORKER_LEASES.labels(kind=kind).set(1 if kind in holding else 0)
