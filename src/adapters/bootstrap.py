"""The composition root: reads settings, picks an adapter for every port, wires the platform.

Nothing else constructs an adapter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from adapters.clock import ManualClock, SystemClock
from adapters.ids import RandomIds, SeededIds
from adapters.launcher.memory import MemoryLauncher
from adapters.mail.memory import MemoryMailer
from adapters.media.memory import FileMedia, MemoryMedia
from adapters.persistence.settings import DEFAULT_DATABASE_URL
from adapters.persistence.store import EventsourcingStore
from app.catalogue import Catalogue, default_catalogue
from app.context import Context
from app.policies import PolicyRunner, default_policies
from app.ports.clock import Clock
from app.ports.ids import Ids
from app.read_models import Projections


@dataclass
class Settings:
    """Where things live; every field has an embedded default."""

    database_url: str = DEFAULT_DATABASE_URL
    media_root: str | None = "vigie-data/media"
    time_zone: str = "Europe/Paris"

    @classmethod
    def from_env(cls, **overrides: str | None) -> Settings:
        """VIGIE_DATABASE_URL, VIGIE_MEDIA_ROOT, VIGIE_TIME_ZONE; explicit overrides win."""
        values: dict[str, str | None] = {
            "database_url": os.environ.get("VIGIE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "media_root": os.environ.get("VIGIE_MEDIA_ROOT", "vigie-data/media"),
            "time_zone": os.environ.get("VIGIE_TIME_ZONE", "Europe/Paris"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(
            database_url=values["database_url"] or DEFAULT_DATABASE_URL,
            media_root=values["media_root"],
            time_zone=values["time_zone"] or "Europe/Paris",
        )


@dataclass
class Platform:
    """Everything wired: the use-case context, the policy runner, the read models."""

    ctx: Context
    runner: PolicyRunner
    projections: Projections
    mailer: MemoryMailer
    launcher: MemoryLauncher
    store: EventsourcingStore
    extras: dict[str, object] = field(default_factory=dict)

    def settle(self) -> None:
        """Let policies react and read models catch up (what a worker does continuously)."""
        self.runner.run_until_quiet()
        self.projections.catch_up(self.ctx.store)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: Ids | None = None,
    catalogue: Catalogue | None = None,
) -> Platform:
    """Wire the platform from settings; tests pass a manual clock and seeded ids."""
    settings = settings or Settings.from_env()
    store = EventsourcingStore(settings.database_url)
    mailer = MemoryMailer()
    launcher = MemoryLauncher()
    media = FileMedia(Path(settings.media_root)) if settings.media_root else MemoryMedia()
    ctx = Context(
        store=store,
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        catalogue=catalogue or default_catalogue(),
        mailer=mailer,
        launcher=launcher,
        media=media,
        time_zone=settings.time_zone,
    )
    projections = Projections()
    projections.catch_up(store)
    return Platform(
        ctx, PolicyRunner(ctx, default_policies()), projections, mailer, launcher, store
    )


__all__ = ["ManualClock", "Platform", "SeededIds", "Settings", "bootstrap"]
