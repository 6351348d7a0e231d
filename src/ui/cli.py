"""The `vigie` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from uuid import UUID

from adapters.bootstrap import Settings, bootstrap
from app.ports.event_store import AggregateNotFound
from app.read_models import describe
from app.replay import replay_review
from domain.errors import DomainError


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie", description="Proctored certification exams with replayable decisions."
    )
    parser.add_argument(
        "--database-url",
        help="memory:, sqlite:///path or postgresql://user@host:port/db "
        "(default: $VIGIE_DATABASE_URL or sqlite:///vigie-data/vigie.sqlite)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="play the guide's whole journey and print its timeline")
    history = commands.add_parser("history", help="print every event of one aggregate")
    history.add_argument("aggregate_id", type=_uuid)
    replay = commands.add_parser("replay", help="replay a review's decision from the log")
    replay.add_argument("review_id", type=_uuid)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vigie` console script."""
    args = _parser().parse_args(argv)
    settings = Settings.from_env(database_url=args.database_url)
    try:
        if args.command == "demo":
            from ui.demo import run_demo

            return run_demo(settings, sys.stdout)
        if args.command == "history":
            return _history(settings, args.aggregate_id)
        if args.command == "replay":
            return _replay(settings, args.review_id)
    except (DomainError, ValueError) as error:
        print(f"vigie: {error}", file=sys.stderr)
        return 2
    return 2


def _history(settings: Settings, aggregate_id: UUID) -> int:
    platform = bootstrap(settings)
    try:
        events = platform.ctx.store.history(aggregate_id)
        if not events:
            print(
                f"vigie: no events for {aggregate_id} in {settings.database_url}", file=sys.stderr
            )
            return 1
        for event in events:
            print(
                f"{event.originator_version:>4}  {event.timestamp.isoformat()}  "
                f"{type(event).__qualname__:<40} {describe(event)}"
            )
        return 0
    finally:
        platform.close()


def _replay(settings: Settings, review_id: UUID) -> int:
    platform = bootstrap(settings)
    try:
        try:
            report = replay_review(platform.ctx.store, review_id)
        except AggregateNotFound as error:
            print(f"vigie: {error}", file=sys.stderr)
            return 1
        print(f"review {review_id} under {report.rules_version} / {report.verdict_version}")
        print(f"evidence: {len(report.evidence)} items")
        for name, rec in (("recorded", report.recorded), ("replayed", report.replayed)):
            if rec is None:
                print(f"{name}: none")
                continue
            print(f"{name}: {rec.verdict.value}")
            for finding in (*rec.grounds, *rec.hints):
                print(
                    f"  {finding.rule} {finding.reason.value}: {finding.explanation} "
                    f"[{', '.join(finding.evidence_ids)}]"
                )
        print(f"decision: {report.verdict.value if report.verdict else 'undecided'}")
        for cited in report.reasons:
            print(f"  {cited.reason.value} citing {', '.join(cited.evidence_ids)}")
        if report.matches:
            print("MATCHES: same recommendation, every citation resolves to its stored event")
            return 0
        for difference in report.differences:
            print(f"DIFFERS: {difference}")
        return 1
    finally:
        platform.close()


if __name__ == "__main__":
    raise SystemExit(main())
