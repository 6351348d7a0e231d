"""The composition root: reads settings, picks an adapter for every port, wires the platform.

Nothing else constructs an adapter.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import math
import os
import re
import secrets
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

import psycopg
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from psycopg import sql

from adapters.checkpoints import (
    Checkpoints,
    MemoryCheckpoints,
    PostgresCheckpoints,
    SqliteCheckpoints,
)
from adapters.clock import ManualClock, SystemClock
from adapters.evidence_key import EphemeralEvidenceKey, FileEvidenceKey
from adapters.evidence_key_postgres import PostgresEvidenceKey
from adapters.ids import RandomIds, SeededIds
from adapters.keys.files import FileKeyStore
from adapters.keys.memory import MemoryKeyStore
from adapters.keys.postgres import PostgresKeyStore
from adapters.keys_schema import default_keys_schema
from adapters.launcher.builtin import BuiltinWorkspaces
from adapters.launcher.memory import MemoryLauncher
from adapters.leases import MemoryLeases, PostgresLeases, SqliteLeases
from adapters.log_listener import PostgresLogHead, install_announcement
from adapters.lti_client import HttpLtiClient
from adapters.mail.memory import MemoryMailer
from adapters.media.ice import IceServers, parse_ice_servers
from adapters.media.memory import FileMedia, MemoryMedia
from adapters.oidc import OidcSettings, OpenIdProvider
from adapters.persistence.settings import (
    DEFAULT_DATABASE_URL,
    asyncpg_connect,
    catalogue_lock,
    conninfo,
    eventsourcing_env,
)
from adapters.persistence.store import EventsourcingStore
from adapters.rate_limit_store import PostgresStore
from adapters.read_model_store import (
    MemoryReadModelStore,
    PostgresReadModelStore,
    SealedReadModelStore,
    SqliteReadModelStore,
)
from adapters.sessions.memory import MemorySessionStore
from adapters.sessions.postgres import PostgresSessionStore
from adapters.sessions.sqlite import SqliteSessionStore
from adapters.webhooks.http import HttpPoster
from adapters.workspace_heartbeats import (
    MemoryWorkspaceHeartbeats,
    PostgresWorkspaceHeartbeats,
    SqliteWorkspaceHeartbeats,
)
from app.catalogue import Catalogue, default_catalogue, load_folder
from app.context import Context
from app.deadlines import DeadlineReport, run_deadlines
from app.evidence_signature import EvidenceSigner
from app.exam_desk import desk_view
from app.links import LinkSigner
from app.lti_keys import ToolKeys
from app.lti_scores import PostReport, ScorePoster
from app.mail_rendering import MailRenderer, SupportContact
from app.outbox import OutboxSender, SendReport
from app.parked import ParkedReactions
from app.platform_key import recorded_key
from app.policies import PolicyRunner, default_policies
from app.ports.clock import Clock
from app.ports.exam_launcher import ExamLauncher
from app.ports.ids import Ids
from app.ports.key_store import KeyStore
from app.ports.leases import LeaseStore
from app.ports.lti_platform import LtiPlatformClient
from app.ports.mailer import Mailer
from app.ports.media_capture import MediaCapture
from app.ports.read_model_store import LogHead, ReadModelStore
from app.ports.sessions import SessionStore
from app.ports.webhooks import WebhookPoster
from app.ports.workspace_heartbeats import WorkspaceHeartbeats
from app.read_model_checkpoint import ReadModelKeeper, StartReport
from app.read_models import Projections
from app.time_format import TimeFormatter
from app.use_cases import portal
from app.webhooks import DeliveryReport, WebhookSender
from domain.errors import InvalidArgument
from domain.exam_attempt import ExamAttempt
from domain.internal_network import NONE_ALLOWED, AllowedNetworks
from domain.staff_groups import GroupRoles

NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def _host_node_id() -> str:
    """The host's name, made fit for a URL and an HAProxy server name."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()).strip("-.") or "node"
    return name[:63]


@dataclass
class Settings:
    """Where things live; every field has an embedded default."""

    database_url: str = DEFAULT_DATABASE_URL
    media_root: str | None = "vigie-data/media"
    time_zone: str = "Europe/Paris"
    smtp_url: str | None = None  # None: mails stay in memory (tests, embedded capture off)
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None  # None: read or create vigie-data/secret.key
    launcher: str = "builtin"  # builtin | memory | libvirt
    libvirt_uri: str = "qemu:///system"
    libvirt_template: str | None = None
    catalogue_dir: str | None = None  # None: the shipped Access certification
    support: SupportContact = field(default_factory=SupportContact)
    # Per-candidate keys (issue 8): "files:<folder>" or "postgres" (a table beside the
    # events); None: memory for a `memory:` store, a `keys` folder beside a SQLite file, the
    # table for PostgreSQL.
    key_store: str | None = None
    # Seconds added to the system clock (VIGIE_CLOCK_OFFSET; 0 in production): rehearsals and
    # test servers that must live at another hour of the day.
    clock_offset_s: float = 0.0
    # The evidence signing key's PEM file (VIGIE_EVIDENCE_KEY, issue 14); None: beside the
    # SQLite file, else vigie-data/ (generated once), or one per process for `memory:`.
    evidence_key: str | None = None
    # Media on S3-compatible object storage (issue 15): `s3://bucket/prefix`; None keeps them
    # in `media_root`, which then holds only the live recorder's unfinished segments.
    media_url: str | None = None
    s3_endpoint_url: str | None = None  # MinIO, Ceph, Garage...; None: AWS itself
    s3_region: str | None = None
    s3_access_key_id: str | None = None  # None: boto3's own chain (AWS_*, instance roles)
    s3_secret_access_key: str | None = None
    # The PostgreSQL schema of the secrets (VIGIE_KEYS_SCHEMA, issue 15): the candidates'
    # keys, second-factor secrets, the evidence key; None: adapters.keys_schema's default.
    keys_schema: str | None = None
    # Redis for the rate-limit buckets (VIGIE_REDIS_URL, issue 15); None: a table in a
    # PostgreSQL store, a vigie-data/rate-limit folder on one machine.
    redis_url: str | None = None
    # This node's name (VIGIE_NODE_ID, issue 15): recorded as the owner of the live connections
    # it holds, so a live view is sent to it (deploy/haproxy.cfg); default the host's name.
    node_id: str = field(default_factory=_host_node_id)
    # STUN/TURN servers of the live connections (VIGIE_ICE_SERVERS, VIGIE_TURN_SECRET,
    # VIGIE_TURN_TTL); none by default: every peer reaches the server directly.
    ice: IceServers = field(default_factory=IceServers)
    # Staff single sign-on through an OpenID provider (VIGIE_OIDC_*, issue 16); None: local
    # accounts only.
    oidc: OidcSettings | None = None
    # The internal networks and hosts a centre's webhook may reach
    # (VIGIE_WEBHOOK_ALLOWED_NETWORKS, issue 16): none by default, so no webhook reaches the
    # platform's own machine or network (tests and `make run` allow 127.0.0.0/8).
    webhook_allowed_networks: AllowedNetworks = NONE_ALLOWED

    @classmethod
    def from_env(cls, **overrides: str | None) -> Settings:
        """VIGIE_DATABASE_URL, VIGIE_MEDIA_ROOT, VIGIE_TIME_ZONE; explicit overrides win."""
        values: dict[str, str | None] = {
            "database_url": os.environ.get("VIGIE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "media_root": os.environ.get("VIGIE_MEDIA_ROOT", "vigie-data/media"),
            "time_zone": os.environ.get("VIGIE_TIME_ZONE", "Europe/Paris"),
            "smtp_url": os.environ.get("VIGIE_SMTP_URL"),
            "base_url": os.environ.get("VIGIE_BASE_URL", "http://127.0.0.1:8000"),
            "secret_key": os.environ.get("VIGIE_SECRET_KEY"),
            "launcher": os.environ.get("VIGIE_LAUNCHER", "builtin"),
            "libvirt_uri": os.environ.get("VIGIE_LIBVIRT_URI", "qemu:///system"),
            "libvirt_template": os.environ.get("VIGIE_LIBVIRT_TEMPLATE"),
            "catalogue_dir": os.environ.get("VIGIE_CATALOGUE_DIR"),
            "key_store": os.environ.get("VIGIE_KEY_STORE"),
            "clock_offset_s": os.environ.get("VIGIE_CLOCK_OFFSET"),
            "evidence_key": os.environ.get("VIGIE_EVIDENCE_KEY"),
            "media_url": os.environ.get("VIGIE_MEDIA_URL"),
            "s3_endpoint_url": os.environ.get("VIGIE_S3_ENDPOINT_URL"),
            "s3_region": os.environ.get("VIGIE_S3_REGION"),
            "s3_access_key_id": os.environ.get("VIGIE_S3_ACCESS_KEY_ID"),
            "s3_secret_access_key": os.environ.get("VIGIE_S3_SECRET_ACCESS_KEY"),
            "keys_schema": os.environ.get("VIGIE_KEYS_SCHEMA"),
            "redis_url": os.environ.get("VIGIE_REDIS_URL"),
            "node_id": os.environ.get("VIGIE_NODE_ID"),
            "ice_servers": os.environ.get("VIGIE_ICE_SERVERS"),
            "turn_secret": os.environ.get("VIGIE_TURN_SECRET"),
            "turn_ttl": os.environ.get("VIGIE_TURN_TTL"),
            "webhook_allowed_networks": os.environ.get("VIGIE_WEBHOOK_ALLOWED_NETWORKS"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(
            database_url=values["database_url"] or DEFAULT_DATABASE_URL,
            media_root=values["media_root"],
            time_zone=values["time_zone"] or "Europe/Paris",
            smtp_url=values["smtp_url"],
            base_url=values["base_url"] or "http://127.0.0.1:8000",
            secret_key=values["secret_key"],
            launcher=values["launcher"] or "builtin",
            libvirt_uri=values["libvirt_uri"] or "qemu:///system",
            libvirt_template=values["libvirt_template"],
            catalogue_dir=values["catalogue_dir"],
            key_store=values["key_store"],
            clock_offset_s=_seconds("VIGIE_CLOCK_OFFSET", values["clock_offset_s"]),
            evidence_key=values["evidence_key"],
            media_url=_media_url(values["media_url"]),
            s3_endpoint_url=values["s3_endpoint_url"] or None,
            s3_region=values["s3_region"] or None,
            s3_access_key_id=values["s3_access_key_id"] or None,
            s3_secret_access_key=values["s3_secret_access_key"] or None,
            keys_schema=values["keys_schema"] or None,
            redis_url=values["redis_url"] or None,
            node_id=_node_id(values["node_id"]),
            ice=parse_ice_servers(values["ice_servers"], values["turn_secret"], values["turn_ttl"]),
            oidc=oidc_settings(os.environ),
            webhook_allowed_networks=webhook_allowed_networks(values["webhook_allowed_networks"]),
            support=SupportContact(
                # Set but empty (a compose file's `${VIGIE_SUPPORT_PHONE:-}`) is unset.
                email=os.environ.get("VIGIE_SUPPORT_EMAIL") or SupportContact.email,
                phone=os.environ.get("VIGIE_SUPPORT_PHONE") or SupportContact.phone,
                # Without a chat of its own, the link (footer and mails) opens /support.
                chat_url=os.environ.get("VIGIE_SUPPORT_CHAT_URL")
                or (values["base_url"] or "http://127.0.0.1:8000").rstrip("/") + "/support",
            ),
        )

    def to_env(self) -> dict[str, str]:
        """The VIGIE_* variables that give another process these same settings (the worker
        `vigie serve` starts, its web processes): `from_env` reads them back."""
        values: dict[str, str | float | int | None] = {
            "VIGIE_DATABASE_URL": self.database_url,
            "VIGIE_MEDIA_ROOT": self.media_root or "",
            "VIGIE_TIME_ZONE": self.time_zone,
            "VIGIE_SMTP_URL": self.smtp_url,
            "VIGIE_BASE_URL": self.base_url,
            "VIGIE_SECRET_KEY": self.secret_key,
            "VIGIE_LAUNCHER": self.launcher,
            "VIGIE_LIBVIRT_URI": self.libvirt_uri,
            "VIGIE_LIBVIRT_TEMPLATE": self.libvirt_template,
            "VIGIE_CATALOGUE_DIR": self.catalogue_dir,
            "VIGIE_KEY_STORE": self.key_store,
            "VIGIE_CLOCK_OFFSET": repr(self.clock_offset_s),
            "VIGIE_EVIDENCE_KEY": self.evidence_key,
            "VIGIE_MEDIA_URL": self.media_url,
            "VIGIE_S3_ENDPOINT_URL": self.s3_endpoint_url,
            "VIGIE_S3_REGION": self.s3_region,
            "VIGIE_S3_ACCESS_KEY_ID": self.s3_access_key_id,
            "VIGIE_S3_SECRET_ACCESS_KEY": self.s3_secret_access_key,
            "VIGIE_KEYS_SCHEMA": self.keys_schema,
            "VIGIE_REDIS_URL": self.redis_url,
            "VIGIE_NODE_ID": self.node_id,
            "VIGIE_ICE_SERVERS": ",".join(self.ice.urls) or None,
            "VIGIE_TURN_SECRET": self.ice.turn_secret,
            "VIGIE_TURN_TTL": self.ice.turn_ttl_s,
            **(oidc_env(self.oidc) if self.oidc else {}),
            "VIGIE_SUPPORT_EMAIL": self.support.email,
            "VIGIE_SUPPORT_PHONE": self.support.phone,
            "VIGIE_SUPPORT_CHAT_URL": self.support.chat_url,
            "VIGIE_WEBHOOK_ALLOWED_NETWORKS": str(self.webhook_allowed_networks) or None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


def webhook_allowed_networks(text: str | None) -> AllowedNetworks:
    """VIGIE_WEBHOOK_ALLOWED_NETWORKS: networks, addresses and host names of the platform's
    own network that a centre's webhook may reach (`127.0.0.0/8,::1`, `10.20.0.0/16`,
    `erp.corp.example`); unset, none. A value that is none of them stops the start, naming
    the setting, rather than refusing every webhook later."""
    try:
        return AllowedNetworks.parse(text)
    except InvalidArgument as error:
        raise ValueError(f"VIGIE_WEBHOOK_ALLOWED_NETWORKS: {error.message}") from None


def oidc_settings(env: Mapping[str, str]) -> OidcSettings | None:
    """VIGIE_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _GROUPS (group=role; ...), and the
    optional _NAME, _SCOPES, _GROUPS_CLAIM; None when no issuer is set. A half-given
    configuration is an error naming the setting, never a sign-in that fails later."""
    issuer = env.get("VIGIE_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    groups = env.get("VIGIE_OIDC_GROUPS", "")
    try:
        mapping = GroupRoles.parse(groups)
    except InvalidArgument as error:
        raise ValueError(str(error)) from None
    return OidcSettings(
        issuer=issuer,
        client_id=env.get("VIGIE_OIDC_CLIENT_ID", "").strip(),
        client_secret=env.get("VIGIE_OIDC_CLIENT_SECRET", ""),
        groups=mapping,
        name=env.get("VIGIE_OIDC_NAME", "").strip(),
        scopes=env.get("VIGIE_OIDC_SCOPES", "").strip() or OidcSettings.scopes,
        groups_claim=env.get("VIGIE_OIDC_GROUPS_CLAIM", "").strip() or OidcSettings.groups_claim,
    )


def oidc_env(oidc: OidcSettings) -> dict[str, str]:
    """The VIGIE_OIDC_* variables `oidc_settings` reads back."""
    return {
        "VIGIE_OIDC_ISSUER": oidc.issuer,
        "VIGIE_OIDC_CLIENT_ID": oidc.client_id,
        "VIGIE_OIDC_CLIENT_SECRET": oidc.client_secret,
        "VIGIE_OIDC_GROUPS": oidc.groups.text(),
        "VIGIE_OIDC_NAME": oidc.name,
        "VIGIE_OIDC_SCOPES": oidc.scopes,
        "VIGIE_OIDC_GROUPS_CLAIM": oidc.groups_claim,
    }


@dataclass
class Platform:
    """Everything wired: the use-case context, the workers, the read models."""

    ctx: Context
    runner: PolicyRunner
    projections: Projections
    sender: OutboxSender
    launcher: ExamLauncher
    store: EventsourcingStore
    links: LinkSigner
    keys: KeyStore = field(default_factory=MemoryKeyStore)
    # Read on demand (operator page, CLI): most processes never list them.
    parked: ParkedReactions = field(default_factory=ParkedReactions)
    # Signs evidence bundles (issue 14); its public half is published for verifiers.
    signer: EvidenceSigner = field(default_factory=EphemeralEvidenceKey)
    # Web sessions, failed log-ins and second factors, beside the events (issue 14).
    sessions: SessionStore = field(default_factory=MemorySessionStore)
    # The built-in workspaces' heartbeats and marks, beside the events (issue 15).
    heartbeats: WorkspaceHeartbeats = field(default_factory=MemoryWorkspaceHeartbeats)
    # Which worker does which kind of background work (issue 15), beside the events.
    leases: LeaseStore = field(default_factory=MemoryLeases)
    # The read models' saved state (issue 15): loaded at start, saved by the worker passes.
    keeper: ReadModelKeeper | None = None
    started: StartReport | None = None  # how this process's read models got current
    # Staff single sign-on (issue 16), when VIGIE_OIDC_ISSUER names a provider.
    single_sign_on: OpenIdProvider | None = None
    # Webhook deliveries (issue 16), posted by the worker's `webhooks` pass only.
    webhooks: WebhookSender | None = None

    @property
    def webhook_key(self) -> bytes:
        """What webhook secrets are derived from (app.integrations.webhook_secret)."""
        assert self.webhooks is not None, "bootstrap() wires the webhook sender"
        return self.webhooks.platform_key

    def deliver_webhooks(self) -> DeliveryReport:
        """One pass of the webhook sender over the due deliveries (the worker's job)."""
        assert self.webhooks is not None, "bootstrap() wires the webhook sender"
        self.projections.catch_up(self.ctx.store)
        report = self.webhooks.send_due(self.projections.webhooks_due(self.ctx.now()))
        self.projections.catch_up(self.ctx.store)
        return report

    # LTI 1.3 (issue 16): the HTTP client to learning platforms (a test swaps it for one
    # pointed at its own platform: the same class).
    lti_client: LtiPlatformClient = field(default_factory=HttpLtiClient)

    @functools.cached_property
    def lti_keys(self) -> ToolKeys:
        """The tool's key ring (its private keys sealed with the key store's ring key; the
        opened ones kept for this process)."""
        return ToolKeys(self.ctx, self.keys)

    @functools.cached_property
    def score_poster(self) -> ScorePoster:
        """Posts the due score reports to the learning platforms (the worker's outbox pass)."""
        return ScorePoster(self.ctx, self.lti_client, self.lti_keys)

    def post_scores(self) -> PostReport:
        """Due score reports posted (issue 16), the read models caught up after."""
        self.projections.catch_up(self.ctx.store)
        report = self.score_poster.post_due(self.projections.scores_due(self.ctx.now()))
        self.projections.catch_up(self.ctx.store)
        return report

    @property
    def mailer(self) -> Mailer:
        """The mailer the outbox sends through."""
        return self.ctx.mailer

    def settle(self, runner: PolicyRunner | None = None) -> SendReport:
        """One worker pass: policies react (those of `runner`, else all), due mails go out,
        read models catch up. The workers' job (`vigie worker`; tests and the demo call it
        in-process), never a web request's."""
        (runner or self.runner).run_until_quiet()
        self.projections.catch_up(self.ctx.store)
        report = self.sender.send_due(self.projections.mails_due(self.ctx.now()))
        self.projections.catch_up(self.ctx.store)
        self.post_scores()
        if self.keeper is not None:
            self.keeper.save_if_due()  # the next start replays only what follows
        return report

    def tick(self, runner: PolicyRunner | None = None) -> DeadlineReport:
        """The deadline process at the clock's now, then a worker pass."""
        (runner or self.runner).run_until_quiet()
        report = run_deadlines(self.ctx, self.projections)
        self.sessions.purge(self.ctx.clock.now())  # ended sessions never linger (issue 14)
        self.settle(runner)
        return report

    def close(self) -> None:
        """Release the store's and the mailer's connections."""
        self.ctx.mailer.close()
        self.heartbeats.close()
        if self.projections.head is not None:
            self.projections.head.close()
        if self.keeper is not None:
            self.keeper.saved.close()
        self.store.close()
        if isinstance(self.keys, PostgresKeyStore):
            self.keys.close()
        if isinstance(self.sessions, PostgresSessionStore):
            self.sessions.close()
        self.leases.close()
        if self.webhooks is not None:
            self.webhooks.poster.close()


def _node_id(value: str | None) -> str:
    """VIGIE_NODE_ID checked at start: it travels in URLs (`?node=`) and names HAProxy's
    server for this node, so letters, digits, `-`, `_` and `.` only."""
    if not value:
        return _host_node_id()
    if not NODE_ID.fullmatch(value):
        raise ValueError(
            f"VIGIE_NODE_ID: letters, digits, '-', '_' or '.' (at most 63), not {value!r}"
        )
    return value


def _media_url(value: str | None) -> str | None:
    """VIGIE_MEDIA_URL checked at start (a clear error naming it, not a failed first photo)."""
    if not value:
        return None
    from adapters.media.s3 import parse_media_url

    parse_media_url(value)
    return value


def _seconds(name: str, value: str | None) -> float:
    """A number of seconds from a setting, or a clear error naming it."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name}: a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds):
        raise ValueError(f"{name}: a finite number of seconds, not {value!r}")
    return seconds


def key_store(settings: Settings) -> KeyStore:
    """The per-candidate key store the settings name (see Settings.key_store)."""
    choice = settings.key_store
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    if choice and choice.startswith("files:"):
        return FileKeyStore(Path(choice.removeprefix("files:")))
    if choice == "postgres" or (choice is None and module == "eventsourcing.postgres"):
        if module != "eventsourcing.postgres":
            raise ValueError("VIGIE_KEY_STORE=postgres needs a PostgreSQL database URL")
        return PostgresKeyStore(
            conninfo(env), keys_schema(settings), store_schema=env["POSTGRES_SCHEMA"]
        )
    if choice not in (None, "memory"):
        raise ValueError(f"VIGIE_KEY_STORE: files:<folder>, postgres or memory, not {choice!r}")
    if module == "eventsourcing.sqlite" and choice is None:
        database = Path(env["SQLITE_DBNAME"])
        return FileKeyStore(database.parent / "keys")
    return MemoryKeyStore()


def keys_schema(settings: Settings) -> str:
    """The PostgreSQL schema that keeps the secrets, out of the event log's (issue 15)."""
    if settings.keys_schema:
        return settings.keys_schema
    return default_keys_schema(eventsourcing_env(settings.database_url)["POSTGRES_SCHEMA"])


def _ensure_store_schema(settings: Settings) -> None:
    """A PostgreSQL store's `?schema=` created on first use (issue 15: a fresh schema named
    in VIGIE_DATABASE_URL stopped the first start with a traceback); the library creates its
    tables, not the schema."""
    env = eventsourcing_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres" or env["POSTGRES_SCHEMA"] == "public":
        return
    with (
        psycopg.connect(conninfo(env), autocommit=True, connect_timeout=5) as connection,
        # Two nodes starting at once: IF NOT EXISTS alone can still race into this.
        contextlib.suppress(psycopg.errors.UniqueViolation),
    ):
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(env["POSTGRES_SCHEMA"]))
        )


@contextlib.contextmanager
def _tables_lock(settings: Settings) -> Iterator[None]:
    """On PostgreSQL, one process at a time creates the platform's tables and functions
    (two workers or web processes starting at once race in the catalogue otherwise). The
    store's recorder takes a lock of its own around the library's tables (postgres_recorder.py,
    on a connection of its pool), so a store opened alone (a CLI, a test) does not race a
    starting process either."""
    with catalogue_lock(eventsourcing_env(settings.database_url), "vigie-tables"):
        yield


def session_store(settings: Settings) -> SessionStore:
    """Sessions in the event store's database: its SQLite file or its PostgreSQL schema
    (every worker process shares them); in memory for a `memory:` store."""
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.postgres":
        return PostgresSessionStore(
            conninfo(env),
            schema=env["POSTGRES_SCHEMA"],
            keys_schema=keys_schema(settings),
            connect=asyncpg_connect(env),
        )
    if module == "eventsourcing.sqlite" and env["SQLITE_DBNAME"] != ":memory:":
        return SqliteSessionStore(Path(env["SQLITE_DBNAME"]))
    return MemorySessionStore()


def workspace_heartbeats(settings: Settings) -> WorkspaceHeartbeats:
    """The built-in workspaces' state in the event store's database (issue 15): its SQLite
    file or its PostgreSQL schema, so every node serves and judges every workspace; in
    memory for a `memory:` store."""
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.postgres":
        return PostgresWorkspaceHeartbeats(conninfo(env), env["POSTGRES_SCHEMA"])
    if module == "eventsourcing.sqlite" and env["SQLITE_DBNAME"] != ":memory:":
        return SqliteWorkspaceHeartbeats(Path(env["SQLITE_DBNAME"]))
    return MemoryWorkspaceHeartbeats()


def checkpoints(settings: Settings) -> Checkpoints:
    """Long jobs' checkpoints in the store's database (issue 15): any node resumes them."""
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.postgres":
        return PostgresCheckpoints(conninfo(env), env["POSTGRES_SCHEMA"])
    if module == "eventsourcing.sqlite" and env["SQLITE_DBNAME"] != ":memory:":
        return SqliteCheckpoints(Path(env["SQLITE_DBNAME"]))
    return MemoryCheckpoints()


def lease_store(settings: Settings) -> LeaseStore:
    """The workers' leases in the store's database (issue 15): every worker sharing the store
    reads them; in memory for a `memory:` store (one process: its worker is a thread)."""
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.postgres":
        return PostgresLeases(conninfo(env), env["POSTGRES_SCHEMA"])
    if module == "eventsourcing.sqlite" and env["SQLITE_DBNAME"] != ":memory:":
        return SqliteLeases(Path(env["SQLITE_DBNAME"]))
    return MemoryLeases()


def read_model_store(settings: Settings, keys: KeyStore | None = None) -> ReadModelStore:
    """The read models' saved state in the store's database (issue 15): every process and
    every node starts from the newest; sealed with keys of the key store (erasure)."""
    env = eventsourcing_env(settings.database_url)
    module = env["PERSISTENCE_MODULE"]
    inner: ReadModelStore
    if module == "eventsourcing.postgres":
        inner = PostgresReadModelStore(conninfo(env), env["POSTGRES_SCHEMA"])
    elif module == "eventsourcing.sqlite" and env["SQLITE_DBNAME"] != ":memory:":
        inner = SqliteReadModelStore(Path(env["SQLITE_DBNAME"]))
    else:
        inner = MemoryReadModelStore()
    return SealedReadModelStore(inner, keys or key_store(settings))


def log_head(settings: Settings, store: EventsourcingStore) -> LogHead | None:
    """The log's head heard through LISTEN/NOTIFY on PostgreSQL (web processes); None
    elsewhere: catch-ups read the store (a SQLite file is polled, cheaply)."""
    env = eventsourcing_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return None
    return PostgresLogHead(asyncpg_connect(env), env["POSTGRES_SCHEMA"], lambda: store.last_saved)


def _announce_appends(settings: Settings) -> None:
    """On PostgreSQL, every commit that appends events announces its last position."""
    env = eventsourcing_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        install_announcement(conninfo(env), env["POSTGRES_SCHEMA"])


RATE_LIMIT_DIR = Path("vigie-data/rate-limit")  # one machine: shared by its processes


def rate_limit_store(settings: Settings) -> Store:
    """Where the log-in and reset forms' buckets live (issue 15): Redis when VIGIE_REDIS_URL
    names one; else a table in a PostgreSQL store (every node shares it); else a folder every
    process of this machine shares."""
    if settings.redis_url:
        if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"VIGIE_REDIS_URL: expected redis://host:port[/db], not {settings.redis_url!r}"
            )
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="vigie-rate-limit")
    env = eventsourcing_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return PostgresStore(conninfo(env), env["POSTGRES_SCHEMA"])
    return FileStore(RATE_LIMIT_DIR, create_directories=True)


def _secret(settings: Settings) -> bytes:
    """The key that signs links: from settings, else kept beside an embedded store."""
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.database_url.startswith("memory:"):
        return secrets.token_bytes(32)
    path = Path("vigie-data/secret.key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def webhook_key(settings: Settings) -> bytes:
    """What webhook signing secrets are derived from: the platform's key, through its own
    HMAC label (a webhook secret reveals nothing of the key that signs links)."""
    return hmac.new(_secret(settings), b"vigie-webhook-secrets", hashlib.sha256).digest()


EVIDENCE_KEY_FILE = "evidence-signing-key.pem"


def evidence_signer(settings: Settings) -> EvidenceSigner:
    """The platform's evidence signing key: the file the settings name, else kept with the
    other secrets (beside a SQLite file, as its candidates' keys; vigie-data/ otherwise),
    created on first use; a key per process for a `memory:` store."""
    if settings.evidence_key:
        return FileEvidenceKey(Path(settings.evidence_key))
    if settings.database_url.startswith("memory:"):
        return EphemeralEvidenceKey()
    env = eventsourcing_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return FileEvidenceKey(Path(env["SQLITE_DBNAME"]).parent / EVIDENCE_KEY_FILE)
    # PostgreSQL (issue 15): in the keys' schema, so every node signs with the same key.
    return PostgresEvidenceKey(
        conninfo(env), keys_schema(settings), legacy=Path("vigie-data") / EVIDENCE_KEY_FILE
    )


class SettingMissing(ValueError):
    """A setting a shared deployment cannot do without (names it and how to make one)."""


def require_shared_settings(settings: Settings) -> None:
    """Refuse to start a node of a shared store without an explicit secret key (issue 15).

    On PostgreSQL several machines may serve the same platform; a key made up on each
    machine would sign links and seal second factors that the other nodes reject. SQLite and
    `memory:` are one machine's: their embedded default (vigie-data/secret.key) stays. The
    evidence key needs no setting there: it is kept in the database's keys schema."""
    if eventsourcing_env(settings.database_url)["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return
    if not settings.secret_key:
        raise SettingMissing(
            "VIGIE_SECRET_KEY is not set. On PostgreSQL, several machines may share the "
            "store, and each would make up its own key: every node must be given the same "
            "one. Make one with `python3 -c 'import secrets; print(secrets.token_hex(32))'`, "
            "keep it with your other secrets, and set VIGIE_SECRET_KEY to it on every node."
        )
    if len(settings.secret_key) < 32:
        raise SettingMissing(
            "VIGIE_SECRET_KEY is too short: at least 32 characters (make one with "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`)."
        )


KEY_FINGERPRINT_LABEL = b"vigie-platform-key-fingerprint"


def key_fingerprint(settings: Settings) -> UUID:
    """What the store keeps of the secret key (app.platform_key): an HMAC of a fixed label,
    cut to an id; the key cannot be found from it."""
    digest = hmac.new(_secret(settings), KEY_FINGERPRINT_LABEL, hashlib.sha256).digest()
    return UUID(bytes=digest[:16])


def require_the_platform_key(platform: Platform, settings: Settings) -> None:
    """Refuse to start a node of a shared store whose VIGIE_SECRET_KEY is not the one the
    platform's other nodes use (an operator's review: a third node with another key started
    silently, and one mailed link in N was « not valid » behind the load balancer). The first
    node records its key's fingerprint; SQLite and `memory:` are one machine's."""
    if eventsourcing_env(settings.database_url)["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return
    if recorded_key(platform.ctx, key_fingerprint(settings)) != key_fingerprint(settings):
        raise SettingMissing(
            "VIGIE_SECRET_KEY differs from the one this platform's other nodes use (the "
            "store holds another key's fingerprint): the links this node would sign, the "
            "others would refuse. Give it the same VIGIE_SECRET_KEY as the other nodes; if "
            "you changed the key on every node on purpose, record the new one with "
            "`vigie secret-key adopt`."
        )


def _launcher(
    settings: Settings, links: LinkSigner, heartbeats: WorkspaceHeartbeats, clock: Clock
) -> ExamLauncher:
    if settings.launcher == "memory":
        return MemoryLauncher()
    if settings.launcher == "builtin":
        # The exam tab shows the support contact (R26) and times in the centre's zone.
        return BuiltinWorkspaces(
            links,
            heartbeats,
            clock,
            support=settings.support,
            time_zone=settings.time_zone,
        )
    if settings.launcher == "libvirt":
        from adapters.launcher.libvirt import LibvirtLauncher

        if settings.libvirt_template:
            return LibvirtLauncher(settings.libvirt_uri, Path(settings.libvirt_template))
        return LibvirtLauncher(settings.libvirt_uri)
    raise ValueError(f"VIGIE_LAUNCHER: builtin, memory or libvirt, not {settings.launcher!r}")


def _mailer(settings: Settings) -> Mailer:
    if not settings.smtp_url:
        return MemoryMailer()
    from adapters.mail.smtp import DEFAULT_SENDER, SmtpMailer

    parsed = urlparse(settings.smtp_url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError(
            f"VIGIE_SMTP_URL: expected smtp://[user:password@]host:port, not {settings.smtp_url!r}"
        )
    query = parse_qs(parsed.query)
    return SmtpMailer(
        parsed.hostname,
        parsed.port or (465 if parsed.scheme == "smtps" else 25),
        use_tls=parsed.scheme == "smtps",
        start_tls=query.get("starttls", ["no"])[0] in ("1", "yes", "true"),
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        # `?from=`: the address the platform's mails come from (a relay refuses or flags a
        # sender of a domain it does not serve); the default is no one's.
        sender=_sender(query["from"][0]) if "from" in query else DEFAULT_SENDER,
    )


def _sender(given: str) -> str:
    if "@" not in parseaddr(given)[1]:
        raise ValueError(
            f"VIGIE_SMTP_URL: from= must be an address, as in from=Vigie%20<no-reply@example.org>,"
            f" not {given!r}"
        )
    return given


def media_store(settings: Settings) -> MediaCapture:
    """Photos, recordings and live segments: S3 when VIGIE_MEDIA_URL names a bucket, else the
    media folder, else memory."""
    if settings.media_url:
        from adapters.media.s3 import S3Media  # boto3 is imported only when it is used

        return S3Media(
            settings.media_url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    return FileMedia(Path(settings.media_root)) if settings.media_root else MemoryMedia()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: Ids | None = None,
    catalogue: Catalogue | None = None,
    mailer: Mailer | None = None,
    media: MediaCapture | None = None,
    listen: bool = False,
    poster: WebhookPoster | None = None,
) -> Platform:
    """Wire the platform from settings; tests pass a manual clock, seeded ids, a mailer, a
    media store (one whose disk fills up, issue 14). The read models start from their saved
    state; with `listen` (web processes), they hear the log's head on PostgreSQL."""
    settings = settings or Settings.from_env()
    with _tables_lock(settings):
        _ensure_store_schema(settings)
        keys = key_store(settings)
        store = EventsourcingStore(settings.database_url, keys=keys)
        sessions = session_store(settings)
        signer = evidence_signer(settings)
        heartbeats = workspace_heartbeats(settings)
        leases = lease_store(settings)
        saved = read_model_store(settings, keys)
        _announce_appends(settings)
    links = LinkSigner(_secret(settings), settings.base_url)
    clock = clock or SystemClock(timedelta(seconds=settings.clock_offset_s))
    launcher = _launcher(settings, links, heartbeats, clock)
    if media is None:
        media = media_store(settings)
    ctx = Context(
        store=store,
        clock=clock,
        ids=ids or RandomIds(),
        catalogue=catalogue
        or (load_folder(Path(settings.catalogue_dir)) if settings.catalogue_dir else None)
        or default_catalogue(),
        mailer=mailer or _mailer(settings),
        launcher=launcher,
        media=media,
        time_zone=settings.time_zone,
        sessions=sessions,
        webhook_allowed=settings.webhook_allowed_networks,
    )
    if isinstance(launcher, BuiltinWorkspaces):
        launcher.bind(
            lambda attempt_id: desk_view(ctx, attempt_id),
            lambda attempt_id, question_id, text, choices: portal.answer_question(
                ctx, attempt_id, question_id=question_id, answer=text, choices=choices
            ),
            lambda attempt_id: portal.finish_exam(ctx, attempt_id),
            lambda attempt_id: ctx.store.get(attempt_id, ExamAttempt, to_read=True).candidate_id,
            lambda attempt_id: portal.leave_workspace(ctx, attempt_id),
        )
    renderer = MailRenderer(links, settings.support, TimeFormatter(settings.time_zone))
    head = log_head(settings, store) if listen else None
    if isinstance(head, PostgresLogHead):
        store.watch_streams(head)  # the heartbeat's attempt, known current without a query
    projections = Projections(head)
    parked = ParkedReactions()
    keeper = ReadModelKeeper(store, saved, projections, parked, store.remember_quarantine)
    started = keeper.start()
    return Platform(
        ctx=ctx,
        runner=PolicyRunner(ctx, default_policies()),
        projections=projections,
        sender=OutboxSender(ctx, renderer),
        launcher=launcher,
        store=store,
        links=links,
        keys=keys,
        signer=signer,
        sessions=sessions,
        heartbeats=heartbeats,
        leases=leases,
        parked=parked,
        keeper=keeper,
        started=started,
        webhooks=WebhookSender(
            ctx,
            poster or HttpPoster(allowed=settings.webhook_allowed_networks),
            webhook_key(settings),
            SystemClock(),
        ),
        single_sign_on=OpenIdProvider(settings.oidc) if settings.oidc else None,
    )


def open_store(settings: Settings | None = None) -> EventsourcingStore:
    """The event store alone (it is also the AuditLog): for tools that only read the log, such
    as `vigie audit`, without catching up every read model first."""
    settings = settings or Settings.from_env()
    return EventsourcingStore(settings.database_url, keys=key_store(settings))


__all__ = [
    "ManualClock",
    "Platform",
    "SeededIds",
    "SettingMissing",
    "Settings",
    "bootstrap",
    "checkpoints",
    "evidence_signer",
    "keys_schema",
    "lease_store",
    "open_store",
    "rate_limit_store",
    "read_model_store",
    "require_shared_settings",
    "workspace_heartbeats",
]
