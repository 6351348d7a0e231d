"""The ports' contracts, packaged so that an operator can check their own adapters.

One module per port holds that port's contract as pytest tests taking an `adapter` fixture:
the same bodies Vigie's own adapters pass (tests/property runs them). `vigie contract-tests`
runs one of them against an operator's factory through the `vigie_contracts.plugin` pytest plugin.

This module only names the contracts: importing it needs neither pytest nor hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortContract:
    """One port's packaged contract and the factory an operator must give for it."""

    port: str  # the name on the command line
    module: str  # the module holding the tests
    protocol: str  # the port they check
    factory: str  # the signature of the factory expected


PORTS: dict[str, PortContract] = {
    contract.port: contract
    for contract in (
        PortContract(
            "event-store",
            "vigie_contracts.event_store",
            "app.ports.event_store.EventStore",
            "(folder: Path) -> EventStore, or () -> EventStore: an empty store each call",
        ),
        PortContract(
            "mailer",
            "vigie_contracts.mailer",
            "app.ports.mailer.Mailer",
            "() -> Mailer | vigie_contracts.mailer.Harness (a Harness also says how to read what "
            "arrived; with a bare Mailer only the sender's side is checked)",
        ),
        PortContract(
            "media-capture",
            "vigie_contracts.media_capture",
            "app.ports.media_capture.MediaCapture",
            "(folder: Path) -> MediaCapture, or () -> MediaCapture: an empty store each call",
        ),
        PortContract(
            "key-store",
            "vigie_contracts.key_store",
            "app.ports.key_store.KeyStore",
            "(folder: Path) -> KeyStore, or () -> KeyStore: an empty store each call",
        ),
        PortContract(
            "read-model-store",
            "vigie_contracts.read_model_store",
            "app.ports.read_model_store.ReadModelStore",
            "(folder: Path) -> ReadModelStore, or () -> ReadModelStore: an empty store each call",
        ),
        PortContract("clock", "vigie_contracts.clock", "app.ports.clock.Clock", "() -> Clock"),
        PortContract("ids", "vigie_contracts.ids", "app.ports.ids.Ids", "() -> Ids"),
        PortContract(
            "exam-launcher",
            "vigie_contracts.exam_launcher",
            "app.ports.exam_launcher.ExamLauncher",
            "() -> ExamLauncher | vigie_contracts.exam_launcher.Harness (a Harness also reads what "
            "runs around the launcher and gives a launcher whose next start fails)",
        ),
        PortContract(
            "lti-platform",
            "vigie_contracts.lti_platform",
            "app.ports.lti_platform.LtiPlatformClient",
            "() -> vigie_contracts.lti_platform.Harness (the client and an LTI 1.3 platform it "
            "talks to)",
        ),
        PortContract(
            "workspace-heartbeats",
            "vigie_contracts.workspace_heartbeats",
            "app.ports.workspace_heartbeats.WorkspaceHeartbeats",
            "(folder: Path) -> WorkspaceHeartbeats, or () -> WorkspaceHeartbeats: empty each call",
        ),
        PortContract(
            "webhook-poster",
            "vigie_contracts.webhook_poster",
            "app.ports.webhooks.WebhookPoster",
            "() -> vigie_contracts.webhook_poster.Harness (for an HTTP poster: "
            "http_harness(poster), which adds a receiver on 127.0.0.1: allow the poster "
            "127.0.0.0/8 and nothing else of the platform's network)",
        ),
    )
}
