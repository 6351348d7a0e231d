"""Two `vigie serve` nodes on one machine as on two (issue 15, point 8): the deployment test
(tests/deploy/test_two_nodes.py) and the web benchmark's two-node run (`bench_web --nodes 2`)
both start them from here (tests may import benchmarks, never the reverse).

Each node runs in a network namespace of its own, with its own data folder, so nothing can
pass between them through loopback or a shared file: what they share is what a real
deployment shares. The namespaces hang on a bridge the test creates in the machine's own
namespace; on the bridge's address live

- PostgreSQL and Redis — the machine's servers on 127.0.0.1, reached by the kernel's own
  forwarding (nftables: the bridge's port translated to 127.0.0.1's, and the node's address
  to 127.0.0.1, which their access rules accept), as a network carries a real deployment's
  packets; where `nft` is missing, through `socat` relays bound to the bridge, with
  TCP_NODELAY as the clients' own sockets have it. The test never touches their
  configuration. (A relay is a process of its own on each round trip: on two cores it took
  a tenth of a core from the nodes under the web benchmark's load, and a scheduler's turn
  on every query, which no deployment pays);
- an S3 server (moto's) and an SMTP capture, bound to the bridge address;
- HAProxy, in front of both nodes, on 127.0.0.1 — the address users and the test speak to.

Every name carries a random suffix after a prefix (`VIGIE_NETNS_PREFIX`, default `nd`), so two
runs side by side do not meet, and everything is removed when the context ends, even after a
failure. Root is needed (`ip netns`). The nodes trust HAProxy's X-Forwarded-For
(FORWARDED_ALLOW_IPS: the bridge address it connects from), as docs/deploy.md asks of an
operator: the log-in limits count per candidate's address, not per proxy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from uuid import uuid4

import boto3
import httpx

from adapters.mail.capture import SmtpCapture

SECRET_KEY = "n" * 64
NODE_PORT = 8000
START_TIMEOUT_S = 90.0
# moto accepts any keys; they are set so boto3 never looks for a real account's.
KEYS = {"aws_access_key_id": "vigie-test", "aws_secret_access_key": "vigie-test-secret"}
PREFIX = os.environ.get("VIGIE_NETNS_PREFIX", "nd")  # of every namespace, link and bridge


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def available() -> str | None:
    """Why this machine cannot run the cluster, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "socat", "haproxy"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2 socat haproxy)"
    return None


@dataclass
class Network:
    """A bridge in this namespace and one namespace per node, each on a veth pair."""

    tag: str
    subnet: str  # "10.a.b" of a /24
    namespaces: list[str] = field(default_factory=list)
    forwarding: bool = False  # its nftables table made (`forward`)

    @property
    def bridge(self) -> str:
        return f"{self.tag}-br"

    @property
    def host_address(self) -> str:
        return f"{self.subnet}.1"

    def address_of(self, number: int) -> str:
        return f"{self.subnet}.{number + 2}"

    def create(self, nodes: int) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.host_address}/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for number in range(nodes):
            namespace = f"{self.tag}-{number}"
            outside, inside = f"{self.tag}-{number}h", f"{self.tag}-{number}c"
            _run("ip", "netns", "add", namespace)
            self.namespaces.append(namespace)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            _run("ip", "link", "set", inside, "netns", namespace)
            _run("ip", "link", "set", outside, "master", self.bridge, "up")
            inner = ("ip", "netns", "exec", namespace)
            _run(*inner, "ip", "addr", "add", f"{self.address_of(number)}/24", "dev", inside)
            _run(*inner, "ip", "link", "set", inside, "up")
            _run(*inner, "ip", "link", "set", "lo", "up")

    def forward(self, port: int, target_port: int) -> None:
        """The bridge's `port` reaches 127.0.0.1's `target_port`, translated by the kernel
        (nftables, in a table of this network's own): the destination on the way in, and
        the source too, so the server sees a local client as with a relay."""
        if not self.forwarding:
            self.forwarding = True
            # Packets for 127.0.0.1 that came in on the bridge are dropped unless told.
            _run("sysctl", "-qw", f"net.ipv4.conf.{self.bridge}.route_localnet=1")
            _run("nft", "add", "table", "ip", self.tag)
            _run("nft", "add", "chain", "ip", self.tag, "in", _NAT_CHAIN.format("prerouting", -100))
            _run("nft", "add", "chain", "ip", self.tag, "local", _NAT_CHAIN.format("input", 100))
        _run(
            *("nft", "add", "rule", "ip", self.tag, "in", "iifname", self.bridge),
            *("ip", "daddr", self.host_address, "tcp", "dport", str(port)),
            *("dnat", "to", f"127.0.0.1:{target_port}"),
        )
        _run(
            *("nft", "add", "rule", "ip", self.tag, "local"),
            *("ip", "saddr", f"{self.subnet}.0/24", "ip", "daddr", "127.0.0.1"),
            *("tcp", "dport", str(target_port), "snat", "to", "127.0.0.1"),
        )

    def remove(self) -> None:
        if self.forwarding:
            subprocess.run(
                ["nft", "delete", "table", "ip", self.tag], capture_output=True, check=False
            )
        for namespace in self.namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)


@dataclass
class Node:
    """One `vigie serve` in its namespace."""

    name: str
    namespace: str
    address: str
    folder: Path
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    workers: int = 1  # `vigie serve --workers`: one per node, as docs/deploy.md says
    demo: bool = True  # `--demo`: the demo accounts (the first node seeds them)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{NODE_PORT}"

    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the node's whole process group, as a machine that loses power."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    """What a test talks to: the proxy's URL, the nodes, the shared services."""

    url: str  # HAProxy, the address users have
    nodes: list[Node]
    env: dict[str, str]  # the settings every node runs with (the test process may use them)
    database_url: str  # as the test process reaches it (127.0.0.1)
    bucket: str
    capture: SmtpCapture
    s3_endpoint: str
    haproxy_log: Path
    folder: Path  # the nodes' data folders and HAProxy's files are under it
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)  # HAProxy, relays

    def client(self, url: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=url or self.url, follow_redirects=False, timeout=60.0)

    def keys_in_bucket(self) -> list[str]:
        s3 = boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1", **KEYS)
        pages = s3.get_paginator("list_objects_v2")
        return sorted(
            o["Key"]
            for page in pages.paginate(Bucket=self.bucket)
            for o in page.get("Contents", [])
        )

    def output(self) -> str:
        return "\n".join(f"--- node {n.name}\n{n.output()[-3000:]}" for n in self.nodes)


_NAT_CHAIN = "{{ type nat hook {} priority {}; }}"


def _reach(network: Network, target_port: int, processes: list[subprocess.Popen[bytes]]) -> int:
    """A port on the bridge's address that reaches 127.0.0.1's `target_port`: forwarded by
    the kernel, or relayed by socat where nftables is missing."""
    port = _free_port()
    if shutil.which("nft") is not None:
        network.forward(port, target_port)
    else:
        processes.append(_relay(network.host_address, port, target_port))
    return port


def _relay(listen_host: str, listen_port: int, target_port: int) -> subprocess.Popen[bytes]:
    """A TCP relay from the bridge to a server that listens on 127.0.0.1 only, with
    TCP_NODELAY on both of its sockets. Without it, what one side writes in several parts
    (psycopg's pipeline sends a save's statements as they come) leaves socat in several
    segments, each after the first held back by Nagle's algorithm until the other side's
    delayed ACK (~40 ms): an answer save
    through two nodes took p50 100 ms and p99 286 ms at 1,000 candidates, 7 and 48 ms with
    the option (libpq and asyncpg set it on their own sockets; a relay must too)."""
    return subprocess.Popen(
        [
            "socat",
            f"TCP-LISTEN:{listen_port},bind={listen_host},fork,reuseaddr,nodelay",
            f"TCP:127.0.0.1:{target_port},nodelay",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


SHIPPED_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "haproxy.cfg"


def _haproxy(
    folder: Path, port: int, nodes: list[Node], fast_checks: bool
) -> subprocess.Popen[bytes]:
    """The shipped configuration as it is (deploy/haproxy.cfg), its addresses from the
    environment as an operator gives them; with `fast_checks` its health checks are made
    faster, so the test does not wait seconds for HAProxy to see a killed node (a load
    benchmark keeps them as shipped: a check times out after its interval, and 300 ms is
    short for a node answering hundreds of requests a second)."""
    assert [n.name for n in nodes] == ["node-a", "node-b"], "the shipped file names two nodes"
    shipped = SHIPPED_CONFIG.read_text()
    assert "inter 2s fall 2 rise 1" in shipped, "the shipped health checks changed: update here"
    config = folder / "haproxy.cfg"
    if fast_checks:
        shipped = shipped.replace("inter 2s fall 2 rise 1", "inter 300ms fall 2 rise 1")
    config.write_text(shipped)
    env = {
        **os.environ,
        "VIGIE_PROXY_BIND": f"127.0.0.1:{port}",
        "VIGIE_NODE_A": f"{nodes[0].address}:{NODE_PORT}",
        "VIGIE_NODE_B": f"{nodes[1].address}:{NODE_PORT}",
    }
    subprocess.run(["haproxy", "-c", "-f", str(config)], env=env, check=True, capture_output=True)
    log = folder / "haproxy.log"
    return subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


def start_node(node: Node, env: dict[str, str]) -> None:
    """`vigie serve` inside the node's namespace, in its own process group; returns once it
    answers /health on its own address."""
    node.folder.mkdir(parents=True, exist_ok=True)
    node.lines.clear()
    node_env = {**env, "VIGIE_NODE_ID": node.name}
    node.process = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            node.namespace,
            sys.executable,
            "-m",
            "ui.cli",
            "serve",
            "--demo" if node.demo else "--no-demo",
            "--workers",
            str(node.workers),
            "--host",
            node.address,
            "--port",
            str(NODE_PORT),
        ],
        cwd=node.folder,
        env=node_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    threading.Thread(target=_drain, args=(node.process, node.lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise AssertionError(f"node {node.name} stopped:\n{node.output()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{node.url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"node {node.name} never answered:\n{node.output()}")


@contextlib.contextmanager
def cluster(
    postgres_url: str,
    *,
    nodes: int = 2,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    demo: bool = True,
    prefix: str = PREFIX,
    fast_checks: bool = True,
) -> Iterator[Cluster]:
    """Two nodes (or `nodes`) behind HAProxy on one fresh PostgreSQL schema, Redis, a fresh
    bucket and an SMTP capture. `postgres_url` is the test's fresh schema on 127.0.0.1; each
    node runs `vigie serve --workers <workers>`, with the demo accounts when `demo`; HAProxy's
    health checks every 300 ms when `fast_checks`, else as shipped (2 s)."""
    from moto.server import ThreadedMotoServer

    tag = f"{prefix}{uuid4().hex[:5]}"
    network = Network(tag, f"10.{random.randint(200, 250)}.{random.randint(1, 250)}")
    folder = Path(tempfile.mkdtemp(prefix=f"vigie-{tag}-"))
    processes: list[subprocess.Popen[bytes]] = []
    members: list[Node] = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, True)
        stack.callback(network.remove)
        network.create(nodes)
        host = network.host_address
        pg_port = urlparse(postgres_url).port or 5432  # the test suite's may be a throwaway one
        pg_relay = _reach(network, pg_port, processes)
        redis_relay = _reach(network, 6379, processes)
        # Its server logs every request on stderr; a load benchmark's uploads are not news.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto = ThreadedMotoServer(ip_address=host, port=_free_port(), verbose=False)
        moto.start()
        stack.callback(moto.stop)
        s3_endpoint = f"http://{host}:{moto._port}"
        bucket = f"vigie-{uuid4().hex[:16]}"
        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS).create_bucket(
            Bucket=bucket
        )
        capture = stack.enter_context(SmtpCapture(host=host))
        proxy_port = _free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env = {
            **base,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "VIGIE_DATABASE_URL": postgres_url.replace(
                f"@127.0.0.1:{pg_port}/", f"@{host}:{pg_relay}/"
            ).replace(f"@localhost:{pg_port}/", f"@{host}:{pg_relay}/"),
            "VIGIE_SECRET_KEY": SECRET_KEY,
            "VIGIE_BASE_URL": f"http://127.0.0.1:{proxy_port}",
            "VIGIE_SMTP_URL": f"smtp://{capture.host}:{capture.port}",
            "VIGIE_REDIS_URL": f"redis://{host}:{redis_relay}/0",
            "VIGIE_MEDIA_URL": f"s3://{bucket}/media",
            "VIGIE_S3_ENDPOINT_URL": s3_endpoint,
            "VIGIE_S3_REGION": "us-east-1",
            "VIGIE_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
            "VIGIE_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
            # HAProxy connects from the bridge address: its X-Forwarded-For is believed.
            "FORWARDED_ALLOW_IPS": host,
            **(extra_env or {}),
        }
        assert env["VIGIE_DATABASE_URL"] != postgres_url, (
            f"not a 127.0.0.1:{pg_port} URL: {postgres_url}"
        )
        for number, namespace in enumerate(network.namespaces):
            node = Node(
                f"node-{chr(ord('a') + number)}",
                namespace,
                network.address_of(number),
                folder / f"node-{number}",
                workers=workers,
                demo=demo,
            )
            members.append(node)
            stack.callback(node.kill)
        for node in members:  # one after the other: the first seeds the demo accounts
            start_node(node, env)
        proxy = _haproxy(folder, proxy_port, members, fast_checks)
        processes.append(proxy)
        for process in processes:
            stack.callback(_stop, process)
        _wait_healthy(f"http://127.0.0.1:{proxy_port}/health")
        yield Cluster(
            url=f"http://127.0.0.1:{proxy_port}",
            nodes=members,
            env=env,
            database_url=postgres_url,
            bucket=bucket,
            capture=capture,
            s3_endpoint=s3_endpoint,
            haproxy_log=folder / "haproxy.log",
            folder=folder,
            services=processes,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"HAProxy never answered at {url}")


__all__ = ["KEYS", "SECRET_KEY", "Cluster", "Node", "available", "cluster", "start_node"]
