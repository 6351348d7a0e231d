"""The web benchmark's load generator (`benchmarks.bench_web`), a process of its own started
as `python -m benchmarks.web_load`: asyncio, HTTP/1.1 written on streams (`Browser`), per
candidate a cookie jar and at most 6 keep-alive connections; a job in JSON on stdin, one
JSON line per level on stdout."""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from benchmarks.harness import Progress, note

HOST = "127.0.0.1"
SAVE_EVERY_S = 10.0
HEARTBEAT_EVERY_S = 5.0
PAGE_EVERY_S = 30.0
LOGIN_CONCURRENCY = 8
HTTP_TIMEOUT_S = 30.0
CONNECTIONS_PER_HOST = 6  # as browsers allow; further requests wait for one
KEEPALIVE_S = 4.0  # under uvicorn's 5 s: the client never reuses a connection being closed
ERROR_SAMPLES = 8
SEED = 20250317
KINDS = ("save", "heartbeat", "page")
STYLESHEET = "/static/vigie.css"
PASSWORD = "bench-web-pass-1"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


def client_address(number: int) -> str:
    """Candidate `number`'s own loopback address: 127.1.0.1, 127.1.0.2, … (250 per /24)."""
    return f"127.1.{number // 250}.{number % 250 + 1}"


# --- the load generator (its own process) ------------------------------------------------


@dataclass
class LevelTraffic:
    """What the client saw in one level's measured window."""

    candidates: int
    window_s: float
    latencies: dict[str, list[float]]  # per kind, successes only, seconds
    errors: dict[str, int]
    error_samples: list[str]
    lateness: list[float]  # how late each request started against its schedule, seconds
    client_cpu_s: float
    saves_ok_total: int  # every acknowledged save, warm-up and drain included
    saves_failed_total: int  # every failed one (a timed-out save may still be recorded)
    completed_in_window: int  # requests that came back (or failed) within the window


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: bytes) -> tuple[Reply, list[str], bool]:
        """The reply, its Set-Cookie values, and whether the connection may be reused."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookies.append(value)
            headers[name] = value
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(part[:-2] for part in parts)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await self.reader.read()
            return Reply(status, headers, body), cookies, False
        reusable = headers.get("connection", "").lower() != "close"
        return Reply(status, headers, body), cookies, reusable


class Browser:
    """A candidate's browser, lean enough for a thousand in one process on this machine:
    HTTP/1.1 written by hand on asyncio streams (httpx spent 2-3 ms of CPU a request, a
    whole core at 1,000 candidates, and started its own requests seconds late), its own
    loopback address, a cookie jar, and keep-alive connections closed after KEEPALIVE_S
    idle, before the server's timeout, as a browser would not race it."""

    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self.cookies: dict[str, str] = {}
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(CONNECTIONS_PER_HOST)

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Accept: */*"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Type: {content_type}")
            lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        async with self._slots:
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> Reply:
        connection = await self._connection()
        try:
            async with asyncio.timeout(HTTP_TIMEOUT_S):
                reply, cookies, reusable = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        self._remember(cookies)
        if reusable:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()
        return reply

    async def _connection(self) -> Connection:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            fresh = now - connection.idle_since < KEEPALIVE_S
            if fresh and not connection.writer.is_closing() and not connection.reader.at_eof():
                return connection
            connection.close()
        async with asyncio.timeout(HTTP_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                HOST, self.port, local_addr=(self.address, 0)
            )
        return Connection(reader, writer)

    def _remember(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            pair, *attributes = header.split(";")
            name, _, value = pair.strip().partition("=")
            gone = any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes)
            if gone or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


class Candidate:
    """One simulated candidate on an exam in progress, in their own browser."""

    def __init__(self, number: int, spec: dict[str, Any], port: int) -> None:
        self.number = number
        self.email: str = spec["email"]
        self.attempt_id: str = spec["attempt_id"]
        self.answers = [json.dumps(body).encode() for body in spec["answers"]]
        self.answered = 0
        self.stylesheet_etag = ""
        self.browser = Browser(client_address(number), port)

    async def log_in(self) -> None:
        page = await self.browser.request("GET", "/login")
        found = _TOKEN.search(page.body.decode())
        if page.status != 200 or found is None:
            raise RuntimeError(f"{self.email}: GET /login answered {page.status}")
        form = urlencode({"email": self.email, "password": PASSWORD, "_csrf_token": found[1]})
        reply = await self.browser.request(
            "POST", "/login", form.encode(), "application/x-www-form-urlencoded"
        )
        if reply.status not in (302, 303):
            raise RuntimeError(f"{self.email}: log-in answered {reply.status}")

    async def save(self) -> int:
        body = self.answers[self.answered % len(self.answers)]
        self.answered += 1
        csrf = {"x-csrftoken": self.browser.cookies.get("vigie_csrf", "")}
        path = f"/api/attempts/{self.attempt_id}/answers"
        return (await self.browser.request("POST", path, body, headers=csrf)).status

    async def heartbeat(self) -> int:
        return (await self.browser.request("GET", f"/api/attempts/{self.attempt_id}")).status

    async def page(self) -> int:
        """The portal page, then its stylesheet revalidated as a browser does."""
        reply = await self.browser.request("GET", f"/portal/{self.attempt_id}")
        if not 200 <= reply.status < 300:
            return reply.status
        headers = {"If-None-Match": self.stylesheet_etag} if self.stylesheet_etag else {}
        sheet = await self.browser.request("GET", STYLESHEET, headers=headers)
        if sheet.status == 200:
            self.stylesheet_etag = sheet.headers.get("etag", "")
        return 200 if sheet.status == 304 else sheet.status


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def drive_level(
    candidates: Sequence[Candidate], warmup_s: float, window_s: float, seed: int, tag: str
) -> LevelTraffic:
    """Every candidate's three schedules, each on a random phase; requests scheduled in the
    window are measured (a warm-up before it, the requests in flight after it drained)."""
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.2
    measure_from = begin + warmup_s
    end = measure_from + window_s
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: Counter[str] = Counter()
    samples: list[str] = []
    lateness: list[float] = []
    acknowledged, failed = [0], [0]
    completed = [0]
    rng = random.Random(seed)

    async def one(call: Any, kind: str, due: float) -> None:
        late = loop.time() - due
        started = time.perf_counter()
        try:
            status = await call()
            failure = "" if 200 <= status < 300 else f"HTTP {status}"
        except Exception as error:  # every transport failure counts as an error
            failure = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        seconds = time.perf_counter() - started
        if measure_from <= loop.time() < end:
            completed[0] += 2 if kind == "page" else 1  # a page load: two requests
        if kind == "save":
            (failed if failure else acknowledged)[0] += 1
        if due >= measure_from:
            lateness.append(late)
            if failure:
                errors[kind] += 1
                if len(samples) < ERROR_SAMPLES:
                    samples.append(f"{kind}: {failure}")
            else:
                latencies[kind].append(seconds)

    async def periodic(candidate: Candidate, kind: str, period: float) -> None:
        """Open loop, as a page's timers: each request leaves on time, whether the previous
        one came back or not (the browser still queues beyond its connections)."""
        call = getattr(candidate, kind)
        due = begin + rng.uniform(0, period)
        flying: set[asyncio.Task[None]] = set()
        while due < end:
            await asyncio.sleep(max(0.0, due - loop.time()))
            task = asyncio.create_task(one(call, kind, due))
            flying.add(task)
            task.add_done_callback(flying.discard)
            due += period
        if flying:
            await asyncio.gather(*flying)

    async def markers() -> float:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        emit(f"start {tag}")
        cpu = time.process_time()
        await asyncio.sleep(max(0.0, end - loop.time()))
        emit(f"end {tag}")
        return time.process_time() - cpu

    periods = {"save": SAVE_EVERY_S, "heartbeat": HEARTBEAT_EVERY_S, "page": PAGE_EVERY_S}
    tasks = [periodic(candidate, kind, periods[kind]) for candidate in candidates for kind in KINDS]
    client_cpu = (await asyncio.gather(markers(), *tasks))[0]
    assert client_cpu is not None
    return LevelTraffic(
        candidates=len(candidates),
        window_s=window_s,
        latencies=latencies,
        errors=dict(errors),
        error_samples=samples,
        lateness=lateness,
        client_cpu_s=client_cpu,
        saves_ok_total=acknowledged[0],
        saves_failed_total=failed[0],
        completed_in_window=completed[0],
    )


async def client_main(job: dict[str, Any]) -> dict[str, Any]:
    candidates = [Candidate(i, spec, job["port"]) for i, spec in enumerate(job["candidates"])]
    login_s = 0.0
    try:
        if job["log_in"]:
            started = time.perf_counter()
            gate = asyncio.Semaphore(LOGIN_CONCURRENCY)
            progress = Progress("log in (untimed)", len(candidates))

            async def one(candidate: Candidate) -> None:
                async with gate:
                    await candidate.log_in()
                    progress.step()

            await asyncio.gather(*(one(c) for c in candidates))
            login_s = time.perf_counter() - started
        levels = []
        for n in job["levels"]:
            emit(f"level {n}")  # the driver begins these candidates' exams, then says go
            reply = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            if reply.strip() != "go":
                raise RuntimeError(f"the driver did not say go before level {n}")
            note(
                f"  [{job['label']}] {n} candidates: {job['warmup_s']:.0f}s warm-up, "
                f"{job['window_s']:.0f}s measured…"
            )
            traffic = await drive_level(
                candidates[:n], job["warmup_s"], job["window_s"], SEED + n, str(n)
            )
            levels.append(asdict(traffic))
        if job.get("profile_window_s"):
            n = max(job["levels"])
            note(
                f"  [{job['label']}] {n} candidates again, {job['profile_window_s']:.0f}s under "
                "py-spy…"
            )
            traffic = await drive_level(
                candidates[:n], 1.0, job["profile_window_s"], SEED + n + 1, "profile"
            )
            levels.append(asdict(traffic) | {"profile": True})
        return {"login_s": login_s, "levels": levels}
    finally:
        for candidate in candidates:
            candidate.browser.close()


def client_process() -> int:
    """The load generator: the job then a 'go' per level on stdin; markers, then the result,
    on stdout."""
    job = json.loads(sys.stdin.readline())
    result = asyncio.run(client_main(job))
    emit("result " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(client_process())
