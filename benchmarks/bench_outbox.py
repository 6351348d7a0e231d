"""Outbox benchmark: deciding and sending mails against raw aiosmtplib, one run, all on 127.0.0.1.

Run: .venv/bin/python -m benchmarks.bench_outbox [--mails N] [--quick] [--database-url URL]
     [--profile]

One SMTP capture (aiosmtpd, `SmtpCapture`, in this process on its own thread) receives every
message. On each store (a temp SQLite file, then a throwaway PostgreSQL schema, unless
--database-url names one store):
  1. enrol N candidates with `enrol_candidate` (a ManualClock, SeededIds; enrolling sends
     nothing), then time `runner.run_until_quiet()` deciding the N invitation mails;
  2. time `sender.send_due(projections.mails_due(now))` delivering the N mails through
     `SmtpMailer` to the capture (load, render, build, SMTP, record MailSent), then check
     the capture holds exactly N distinct Message-IDs, the outbox's.
  In both phases the store's, renderer's and mailer's methods are wrapped in timers (on the
  instance, removed afterwards) to split each mail's time between them.
Then the references, with the mails the outbox handed to its mailer, under fresh ids:
  3. `SmtpMailer.send(Mail)` N times, no outbox (build + loop-thread hop + SMTP);
  4. raw aiosmtplib: one `aiosmtplib.SMTP` connected once, `send_message` N times, the
     `EmailMessage`s built beforehand with the adapter's `build_message` (timed apart).
With --profile, one more round of 300 mails per store is decided and sent under cProfile
(main thread only: time spent waiting for the mailer's loop thread shows as lock waits).
The figures are printed as a table and written to benchmarks/results/outbox-<timestamp>.json.
Nothing is asserted on times; a wrong delivery count stops the run. PostgreSQL is skipped,
with a note, when its server does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import pstats
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import aiosmtplib
import psycopg

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.capture import SmtpCapture
from adapters.mail.smtp import SmtpMailer, build_message, message_id
from app.ports.mailer import Mail
from app.use_cases.enrolment import enrol_candidate
from benchmarks.harness import (
    POSTGRES_SERVER,
    Progress,
    arguments,
    command_line,
    finish_facts,
    machine_facts,
    note,
    packages_text,
    postgres_settings,
    postgres_text,
    print_machine,
    server_of,
    settle_disk,
    sqlite_text,
    store_url,
    thousands,
    write_summary,
)
from domain.outbound_mail import MailStatus

TIME_ZONE = ZoneInfo("Europe/Paris")
START = datetime(2025, 3, 17, 9, 0, tzinfo=TIME_ZONE)
SENDER = "Vigie <no-reply@vigie.local>"  # SmtpMailer's default, passed explicitly to both
ENVELOPE_SENDER = "no-reply@vigie.local"
LOCAL_HOSTNAME = "vigie-bench"  # EHLO name: no FQDN lookup on connect
SMTP_TIMEOUT = 10.0
CERTIFICATION = "ENI-ACCESS"
BENCH_NAMESPACE = uuid.UUID("0d9c3f4e-6a41-4b8e-9c55-5e0f3b2a7d19")
PROFILE_MAILS = 300  # the extra round --profile runs, per store
PROFILE_LINES = 14


# --- small helpers -----------------------------------------------------------------------


def chunks(items: Sequence[uuid.UUID], parts: int = 10) -> Iterator[Sequence[uuid.UUID]]:
    size = max(1, -(-len(items) // parts))
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Timed:
    """`count` things done in `seconds`."""

    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else float("nan")

    @property
    def us_each(self) -> float:
        return self.seconds / self.count * 1e6 if self.count else float("nan")

    def as_json(self) -> dict[str, float]:
        return asdict(self) | {"per_s": self.per_s, "us_each": self.us_each}


@dataclass
class Part:
    """Time spent inside one kind of call during a timed phase (main thread)."""

    calls: int = 0
    seconds: float = 0.0


class Stopwatch:
    """Adds up the wall time of chosen methods of chosen objects while a phase runs.

    Each watched method is shadowed by a timing wrapper set as an instance attribute and
    removed on exit, so the product's code runs unchanged (two perf_counter calls added).
    """

    def __init__(self) -> None:
        self.parts: dict[str, Part] = {}
        self._undo: list[Callable[[], None]] = []

    def watch(
        self, owner: object, method: str, label: str, keep_first_arg: list[Any] | None = None
    ) -> None:
        original = getattr(owner, method)
        part = self.parts.setdefault(label, Part())

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                part.seconds += time.perf_counter() - started
                part.calls += 1
                if keep_first_arg is not None:
                    keep_first_arg.append(args[0])

        setattr(owner, method, timed)
        self._undo.append(lambda: delattr(owner, method))

    def __enter__(self) -> Stopwatch:
        return self

    def __exit__(self, *exc: object) -> None:
        while self._undo:
            self._undo.pop()()

    def with_rest(self, total: float) -> dict[str, Part]:
        """The parts, plus what the phase spent outside them."""
        rest = total - sum(p.seconds for p in self.parts.values())
        return self.parts | {"the rest": Part(0, rest)}


# --- the capture ---------------------------------------------------------------------------


@dataclass
class Delivered:
    messages: int
    distinct_ids: int
    avg_bytes: int  # as sent: the capture's trace headers left out


def check_delivered(capture: SmtpCapture, expected_ids: set[str], label: str) -> Delivered:
    """Exactly the expected Message-IDs, each once; the capture is emptied for the next phase."""
    # SmtpCapture stores a message before it answers 250, so all are there already; the
    # wait is a guard. Only headers are parsed: the full parse of `messages()` is slow.
    deadline = time.monotonic() + SMTP_TIMEOUT
    while len(deliveries := capture.deliveries()) < len(expected_ids):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    parser = BytesHeaderParser(policy=compat32)
    ids = [str(parser.parsebytes(d.raw)["Message-ID"]) for d in deliveries]
    trace = sum(
        len(f"Return-Path: <{d.mail_from}>\r\n")
        + sum(len(f"Delivered-To: {r}\r\n") for r in d.rcpt_tos)
        for d in deliveries
    )
    sent_bytes = sum(len(d.raw) for d in deliveries) - trace
    capture.clear()
    if len(ids) != len(expected_ids) or set(ids) != expected_ids:
        missing = len(expected_ids - set(ids))
        raise RuntimeError(
            f"{label}: the capture received {len(ids)} message(s), {len(set(ids))} distinct "
            f"Message-IDs, {missing} expected one(s) missing; expected {len(expected_ids)}"
        )
    return Delivered(len(ids), len(set(ids)), round(sent_bytes / max(len(deliveries), 1)))


# --- one store -----------------------------------------------------------------------------


@dataclass
class StoreResult:
    name: str
    enrol: Timed
    decide: Timed
    catch_up: Timed  # events folded into the read models before mails_due
    decide_parts: dict[str, Part]
    outbox: Timed
    outbox_parts: dict[str, Part]
    delivered: Delivered
    profile_decide: list[str] = field(default_factory=list)
    profile_send: list[str] = field(default_factory=list)


def make_platform(url: str, capture: SmtpCapture) -> Platform:
    mailer = SmtpMailer(
        capture.host,
        capture.port,
        sender=SENDER,
        timeout=SMTP_TIMEOUT,
        local_hostname=LOCAL_HOSTNAME,
    )
    try:
        return bootstrap(
            Settings(database_url=url, media_root=None, secret_key="b" * 32),
            clock=ManualClock(START),
            ids=SeededIds(7),
            mailer=mailer,
        )
    except BaseException:
        mailer.close()
        raise


def enrol(platform: Platform, count: int, prefix: str, label: str) -> Timed:
    """N new candidates, one enrolment each: each commit holds a Candidate and an Enrollment."""
    clock = platform.ctx.clock
    assert isinstance(clock, ManualClock)
    centre = uuid.uuid5(BENCH_NAMESPACE, "centre")
    settle_disk()
    progress = Progress(f"{label} enrol", count)
    elapsed = 0.0
    for i in range(count):
        clock.advance(seconds=1)
        started = time.perf_counter()
        enrol_candidate(
            platform.ctx,
            platform.projections,
            centre_id=centre,
            email=f"{prefix}{i:06d}@example.org",
            surname="Martin",
            first_name="Camille",
            certification_code=CERTIFICATION,
        )
        elapsed += time.perf_counter() - started
        progress.update(i + 1)
    return Timed(count, elapsed)


DECIDE_SAVE = "store.save (mail + position, 1 commit)"
DECIDE_READ = "store.read + store.position_of"
SEND_MAILER = "mailer.send (SmtpMailer)"
SEND_SAVE = "store.save (MailSent, 1 commit)"
SEND_GET = "store.get ×2 (mail, candidate)"
SEND_RENDER = "renderer.render (jinja text+html)"


def decide(platform: Platform, expected: int, label: str) -> tuple[Timed, dict[str, Part]]:
    """The policies follow the log: one OutboundMail + the tracking position per commit."""
    settle_disk()
    note(f"  [{label} decide] run_until_quiet over {expected:,} enrolments…")
    store = platform.ctx.store
    with Stopwatch() as watch:
        watch.watch(store, "save", DECIDE_SAVE)
        watch.watch(store, "read", DECIDE_READ)
        watch.watch(store, "position_of", DECIDE_READ)
        started = time.perf_counter()
        reactions = platform.runner.run_until_quiet()
        seconds = time.perf_counter() - started
    note(f"  [{label} decide] {reactions:,} reactions {seconds:6.1f}s")
    if reactions != expected:
        raise RuntimeError(f"{label}: {reactions} reactions, expected {expected} invitations")
    return Timed(reactions, seconds), watch.with_rest(seconds)


def catch_up(platform: Platform) -> Timed:
    started = time.perf_counter()
    applied = platform.projections.catch_up(platform.ctx.store)
    return Timed(applied, time.perf_counter() - started)


@dataclass
class Sent:
    timed: Timed
    parts: dict[str, Part]
    due: list[uuid.UUID]
    mails: list[Mail]  # what the outbox handed to the mailer: the references send the same


def send(platform: Platform, expected: int, label: str) -> Sent:
    """`send_due(mails_due(now))`, handed over in tenths only so that progress can be shown
    (send_due loops over its ids one by one either way)."""
    settle_disk()
    progress = Progress(f"{label} outbox send", expected)
    sent = 0
    mails: list[Mail] = []
    ctx = platform.ctx
    with Stopwatch() as watch:
        watch.watch(ctx.mailer, "send", SEND_MAILER, keep_first_arg=mails)
        watch.watch(ctx.store, "save", SEND_SAVE)
        watch.watch(ctx.store, "get", SEND_GET)
        watch.watch(platform.sender.renderer, "render", SEND_RENDER)
        started = time.perf_counter()
        due = platform.projections.mails_due(ctx.now())
        for part in chunks(due):
            report = platform.sender.send_due(part)
            if report.retried or report.given_up:
                raise RuntimeError(f"{label}: the outbox failed to send: {report.errors[:3]}")
            sent += report.sent
            progress.update(sent)
        seconds = time.perf_counter() - started
    if len(due) != expected or sent != expected:
        raise RuntimeError(f"{label}: {len(due)} mails due, {sent} sent; expected {expected}")
    return Sent(Timed(sent, seconds), watch.with_rest(seconds), due, mails)


def check_recorded(platform: Platform, due: Sequence[uuid.UUID], label: str) -> None:
    platform.projections.catch_up(platform.ctx.store)
    mails = platform.projections.mails
    unsent = [m for m in due if mails[m].status is not MailStatus.SENT]
    if unsent:
        raise RuntimeError(f"{label}: {len(unsent)} mail(s) not recorded as sent")


def profiled(work: Callable[[], object]) -> list[str]:
    """cProfile of the main thread only, by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    # Then Vigie's own functions by cumulative time: which step the leaves above belong to.
    print("Vigie's functions by cumulative time:", file=out)
    stats.sort_stats("cumulative").print_stats(r"src/(app|adapters)/", PROFILE_LINES)
    return [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and not line.lstrip().startswith(("Ordered by", "List reduced"))
    ]


def profile_round(
    platform: Platform, capture: SmtpCapture, label: str
) -> tuple[list[str], list[str]]:
    """One more, smaller round (fresh candidates) with cProfile on, after the timed phases."""
    count = PROFILE_MAILS
    enrol(platform, count, "profiled", f"{label} profiled")
    note(f"  [{label} profiled] decide and send {count} mails under cProfile…")
    top_decide = profiled(platform.runner.run_until_quiet)
    platform.projections.catch_up(platform.ctx.store)
    due = platform.projections.mails_due(platform.ctx.now())
    if len(due) != count:
        raise RuntimeError(f"{label} profiled: {len(due)} mails due, expected {count}")
    top_send = profiled(lambda: platform.sender.send_due(due))
    check_delivered(capture, {message_id(str(m)) for m in due}, f"{label} profiled")
    return top_decide, top_send


def bench_store(
    name: str, url: str, capture: SmtpCapture, config: Config
) -> tuple[StoreResult, list[Mail]]:
    note(f"== {name}: {url}")
    n = config.mails
    platform = make_platform(url, capture)
    try:
        enrolled = enrol(platform, n, "candidate", name)
        decided, decide_parts = decide(platform, n, name)
        caught_up = catch_up(platform)
        sent = send(platform, n, name)
        delivered = check_delivered(
            capture, {message_id(str(m)) for m in sent.due}, f"{name} outbox"
        )
        check_recorded(platform, sent.due, name)
        top_decide, top_send = (
            profile_round(platform, capture, name) if config.profile else ([], [])
        )
    finally:
        platform.close()
    result = StoreResult(
        name=name,
        enrol=enrolled,
        decide=decided,
        catch_up=caught_up,
        decide_parts=decide_parts,
        outbox=sent.timed,
        outbox_parts=sent.parts,
        delivered=delivered,
        profile_decide=top_decide,
        profile_send=top_send,
    )
    return result, sent.mails


# --- the references ------------------------------------------------------------------------


@dataclass
class References:
    build: Timed  # build_message alone, no SMTP
    adapter: Timed
    adapter_delivered: Delivered
    raw: Timed
    raw_delivered: Delivered


def fresh_ids(mails: Sequence[Mail], kind: str) -> list[Mail]:
    """The same mails under new ids of the same length: distinct Message-IDs per phase."""
    return [
        Mail(
            str(uuid.uuid5(BENCH_NAMESPACE, f"{kind}:{m.mail_id}")),
            m.to,
            m.subject,
            m.text,
            m.html,
            m.language,
        )
        for m in mails
    ]


def adapter_only(capture: SmtpCapture, mails: Sequence[Mail]) -> Timed:
    """N `SmtpMailer.send` calls, as the outbox makes them, without the outbox."""
    mailer = SmtpMailer(
        capture.host,
        capture.port,
        sender=SENDER,
        timeout=SMTP_TIMEOUT,
        local_hostname=LOCAL_HOSTNAME,
    )
    try:
        progress = Progress("adapter-only send", len(mails))
        started = time.perf_counter()
        for i, mail in enumerate(mails):
            mailer.send(mail)
            progress.update(i + 1)
        return Timed(len(mails), time.perf_counter() - started)
    finally:
        mailer.close()


def build_all(mails: Sequence[Mail]) -> tuple[Timed, list[tuple[EmailMessage, str]]]:
    started = time.perf_counter()
    built = [(build_message(mail, SENDER), mail.to) for mail in mails]
    return Timed(len(mails), time.perf_counter() - started), built


async def raw_sends(capture: SmtpCapture, messages: Sequence[tuple[EmailMessage, str]]) -> Timed:
    """aiosmtplib alone: connect once (untimed), `send_message` N times, QUIT (untimed)."""
    client = aiosmtplib.SMTP(
        hostname=capture.host,
        port=capture.port,
        timeout=SMTP_TIMEOUT,
        local_hostname=LOCAL_HOSTNAME,
    )
    await client.connect()
    try:
        progress = Progress("raw aiosmtplib send", len(messages))
        started = time.perf_counter()
        for i, (message, recipient) in enumerate(messages):
            await client.send_message(message, sender=ENVELOPE_SENDER, recipients=[recipient])
            progress.update(i + 1)
        return Timed(len(messages), time.perf_counter() - started)
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
        client.close()


def references(capture: SmtpCapture, mails: Sequence[Mail]) -> References:
    note(f"== references: {len(mails):,} mails rendered by the outbox, fresh ids")
    adapter_mails = fresh_ids(mails, "adapter")
    adapter = adapter_only(capture, adapter_mails)
    adapter_delivered = check_delivered(
        capture, {message_id(m.mail_id) for m in adapter_mails}, "adapter-only"
    )
    raw_mails = fresh_ids(mails, "raw")
    build, messages = build_all(raw_mails)
    raw = asyncio.run(raw_sends(capture, messages))
    raw_delivered = check_delivered(capture, {message_id(m.mail_id) for m in raw_mails}, "raw")
    return References(build, adapter, adapter_delivered, raw, raw_delivered)


# --- stores --------------------------------------------------------------------------------


@dataclass
class StoreSpec:
    name: str
    url: str | None  # None: a temp SQLite file, or a fresh schema on POSTGRES_SERVER


def spec_url(spec: StoreSpec) -> str | None:
    """What `store_url` makes the store from: None for a temp SQLite file, a fresh schema
    on POSTGRES_SERVER, or the URL given."""
    if spec.name == "SQLite" and spec.url is None:
        return None
    return spec.url or POSTGRES_SERVER


def postgres_reachable(server: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(server, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


def stores_to_run(config: Config) -> tuple[list[StoreSpec], list[str]]:
    if config.database_url:
        scheme = urlparse(config.database_url).scheme
        name = {"sqlite": "SQLite", "postgres": "PostgreSQL", "postgresql": "PostgreSQL"}.get(
            scheme, "memory"
        )
        return [StoreSpec(name, config.database_url)], []
    specs = [StoreSpec("SQLite", None)]
    skipped = []
    why = postgres_reachable(POSTGRES_SERVER)
    if why is None:
        specs.append(StoreSpec("PostgreSQL", None))
    else:
        skipped.append(f"PostgreSQL skipped: {POSTGRES_SERVER} unreachable ({why})")
        note(skipped[-1])
    return specs, skipped


# --- report --------------------------------------------------------------------------------


def outbox_machine_facts(specs: Sequence[StoreSpec]) -> dict[str, Any]:
    facts = machine_facts(
        ("eventsourcing", "aiosmtplib", "aiosmtpd", "jinja2", "msgspec", "psycopg")
    )
    facts["switch_interval_ms"] = sys.getswitchinterval() * 1000
    for spec in specs:
        if spec.name == "PostgreSQL":
            facts["postgresql"] = postgres_settings(
                server_of(spec.url or POSTGRES_SERVER),
                ("server_version", "fsync", "synchronous_commit"),
            )
    return facts


ROW = "{:<11} {:<50} {:>9} {:>9} {:>7}  {}"


def part_rows(phase: Timed, parts: dict[str, Part]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for i, (label, part) in enumerate(parts.items()):
        prefix = "  of which: " if i == 0 else "            "
        calls = f", {part.calls / phase.count:.1f} calls/mail" if part.calls else ""
        rows.append(
            (
                f"{prefix}{label}",
                "",
                thousands(part.seconds / phase.count * 1e6),
                "",
                f"{part.seconds / phase.seconds:4.0%}{calls}",
            )
        )
    return rows


def print_report(
    facts: dict[str, Any],
    command: str,
    config: Config,
    results: Sequence[StoreResult],
    refs: References,
    skipped: Sequence[str],
    capture_port: int,
) -> None:
    print_machine(facts, command)
    print(f"packages: {packages_text(facts)}")
    servers = sqlite_text(facts)
    if "postgresql" in facts:
        servers += f"; {postgres_text(facts['postgresql'])}"
    print(f"stores  : {servers}")
    print(
        f"smtp    : SmtpCapture (aiosmtpd) on 127.0.0.1:{capture_port} in this process, its own "
        "thread;\n          SmtpMailer's event loop in another thread; one connection each, "
        "reused"
    )
    for line in skipped:
        print(f"note    : {line}")
    print()
    raw = refs.raw
    header = ROW.format("store", "measure", "per s", "µs/mail", "vs raw", "note")
    print(header)
    print("-" * (len(header) + 30))
    for r in results:
        d = r.delivered
        rows = [
            (
                "enrol_candidate (setup, 1 commit each)",
                thousands(r.enrol.per_s),
                thousands(r.enrol.us_each),
                "—",
                f"{r.enrol.count:,} candidates and enrolments",
            ),
            (
                "decided/s: runner.run_until_quiet()",
                thousands(r.decide.per_s),
                thousands(r.decide.us_each),
                "—",
                f"{r.decide.count:,} invitations",
            ),
            *part_rows(r.decide, r.decide_parts),
            (
                "outbox sent/s: send_due(mails_due(now))",
                thousands(r.outbox.per_s),
                thousands(r.outbox.us_each),
                f"{r.outbox.per_s / raw.per_s:.2f}",
                f"{d.distinct_ids:,} distinct Message-IDs, {d.avg_bytes:,} B avg",
            ),
            *part_rows(r.outbox, r.outbox_parts),
            (
                "projection catch-up (events/s; setup)",
                thousands(r.catch_up.per_s),
                "",
                "",
                f"{r.catch_up.count:,} events in {r.catch_up.seconds:.2f}s",
            ),
        ]
        for i, row in enumerate(rows):
            print(ROW.format(r.name if i == 0 else "", *row))
        print()
    ref_rows = [
        (
            "adapter-only sent/s: SmtpMailer.send(Mail)",
            thousands(refs.adapter.per_s),
            thousands(refs.adapter.us_each),
            f"{refs.adapter.per_s / raw.per_s:.2f}",
            f"{refs.adapter_delivered.distinct_ids:,} distinct, "
            f"{refs.adapter_delivered.avg_bytes:,} B avg",
        ),
        (
            "raw aiosmtplib sent/s: send_message, 1 conn",
            thousands(raw.per_s),
            thousands(raw.us_each),
            "1.00",
            f"{refs.raw_delivered.distinct_ids:,} distinct, {refs.raw_delivered.avg_bytes:,} B avg",
        ),
        (
            "  build_message alone (before raw, no SMTP)",
            thousands(refs.build.per_s),
            thousands(refs.build.us_each),
            "",
            "inside adapter-only, outside raw",
        ),
    ]
    for i, row in enumerate(ref_rows):
        print(ROW.format("reference" if i == 0 else "", *row))
    print()
    print(
        f"{config.mails:,} mails per phase, each phase run once. µs/mail = wall time / mails. "
        "'vs raw' = rate / raw rate.\n"
        "'of which' rows: wall time inside those calls during the timed phase (main thread), "
        "per mail,\nand its share of the phase; 'the rest' is the phase's own code outside "
        "them (aggregate\nmutations, Mail construction, GIL hand-overs)."
    )
    print()
    for r in results:
        for title, lines in (("decide", r.profile_decide), ("send_due", r.profile_send)):
            if lines:
                print(
                    f"cProfile of {r.name} {title} ({PROFILE_MAILS} extra mails), main thread, "
                    "by own time:"
                )
                print("\n".join(lines))
                print()


def write_json(
    facts: dict[str, Any],
    command: str,
    config: Config,
    results: Sequence[StoreResult],
    refs: References,
    skipped: Sequence[str],
) -> Path:
    raw_rate = refs.raw.per_s
    summary = {
        "command": command,
        "machine": facts,
        "config": asdict(config),
        "skipped": list(skipped),
        "stores": {
            r.name: {
                "enrol": r.enrol.as_json(),
                "decide": r.decide.as_json(),
                "catch_up": r.catch_up.as_json(),
                "outbox": r.outbox.as_json() | {"ratio_to_raw": r.outbox.per_s / raw_rate},
                "outbox_delivered": asdict(r.delivered),
                "decide_parts": {k: asdict(v) for k, v in r.decide_parts.items()},
                "outbox_parts": {k: asdict(v) for k, v in r.outbox_parts.items()},
                "profile_decide": r.profile_decide,
                "profile_send": r.profile_send,
            }
            for r in results
        },
        "reference": {
            "adapter": refs.adapter.as_json() | {"ratio_to_raw": refs.adapter.per_s / raw_rate},
            "adapter_delivered": asdict(refs.adapter_delivered),
            "raw_aiosmtplib": refs.raw.as_json(),
            "raw_delivered": asdict(refs.raw_delivered),
            "build_message": refs.build.as_json(),
        },
    }
    return write_summary("outbox", summary)


# --- main ----------------------------------------------------------------------------------


@dataclass
class Config:
    mails: int
    database_url: str | None
    profile: bool


def parse_args(argv: list[str] | None = None) -> Config:
    parser = arguments(__doc__)
    parser.add_argument("--mails", type=int, help="mails per phase (2,000; quick 20)")
    parser.add_argument(
        "--database-url",
        help="one store instead of the default SQLite temp file + PostgreSQL schema: "
        "sqlite:///new-file, memory:, or postgresql://user@host:port/db[?schema=new_name] "
        "(the schema is created, then dropped)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"cProfile an extra round of {PROFILE_MAILS} mails per store (decide and send)",
    )
    args = parser.parse_args(argv)
    mails = args.mails or (20 if args.quick else 2_000)
    if mails < 1:
        parser.error("--mails must be positive")
    return Config(mails=mails, database_url=args.database_url, profile=args.profile)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    command = command_line()
    specs, skipped = stores_to_run(config)
    facts = outbox_machine_facts(specs)
    started = time.perf_counter()
    results: list[StoreResult] = []
    first_mails: list[Mail] = []
    capture = SmtpCapture().start()
    port = capture.port
    try:
        for spec in specs:
            with store_url(spec_url(spec)) as url:
                result, mails = bench_store(spec.name, url, capture, config)
            results.append(result)
            first_mails = first_mails or mails
        refs = references(capture, first_mails)
    finally:
        capture.stop()
    finish_facts(facts, started)
    print_report(facts, command, config, results, refs, skipped, port)
    path = write_json(facts, command, config, results, refs, skipped)
    print(f"JSON summary: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
