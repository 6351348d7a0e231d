"""`vigie privacy`: erasure on request and the subject-access export (issue 8)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from adapters.bootstrap import Settings, bootstrap
from app.privacy import erase_candidate, export_candidate
from domain.operator import check_operator
from ui.arguments import uuid_argument
from ui.cli_words import ERASED_WORDS, english
from ui.operator import by_argument, system_account


def add_parser(commands: Any) -> None:
    privacy = commands.add_parser("privacy", help="personal data: erase, export (GDPR)")
    actions = privacy.add_subparsers(dest="privacy_command", required=True)
    erase = actions.add_parser(
        "erase",
        help="forget a candidate: their key is destroyed, their media deleted; every "
        "decision still replays",
    )
    erase.add_argument("candidate_id", type=uuid_argument)
    erase.add_argument("--reason", required=True, help="why (the request's reference…)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    by_argument(erase)
    export = actions.add_parser("export", help="everything held about a candidate, as JSON")
    export.add_argument("candidate_id", type=uuid_argument)
    export.add_argument("-o", "--output", help="a file (default: standard output)")


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    platform = bootstrap(settings)
    try:
        if args.privacy_command == "export":
            data = _in_english(
                export_candidate(platform.ctx, platform.projections, args.candidate_id)
            )
            text = json.dumps(data, ensure_ascii=False, indent=2)
            if args.output:
                Path(args.output).write_text(text + "\n", encoding="utf-8")
                print(f"exported {len(data['history'])} facts to {args.output}", file=out)
            else:
                print(text, file=out)
            return 0
        # A --by the log cannot keep is refused before the question, not after it.
        check_operator(args.by, system_account())
        if not args.yes:
            answer = input(f"Erase {args.candidate_id} for good? Type 'erase': ")
            if answer.strip() != "erase":
                print("nothing erased", file=out)
                return 1
        report = erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            args.candidate_id,
            reason=args.reason,
            by=args.by,
            system_account=system_account(),
        )
        if report.recorded and platform.keeper is not None:
            # The saved read models still name the person: replaced now, their key destroyed.
            platform.projections.catch_up(platform.ctx.store)
            platform.keeper.save()
        state = "erased now" if report.recorded else "already erased"
        print(
            f"{args.candidate_id}: {state}; key destroyed: {report.key_destroyed}; "
            f"{len(report.media_deleted)} media deleted in {len(report.sessions)} session(s)"
            + (
                f"; {len(report.media_missing)} not found in the media store"
                if report.media_missing
                else ""
            )
            + (
                f"; {len(report.media_left)} left (the media store could not be reached: "
                "run the erasure again)"
                if report.media_left
                else ""
            ),
            file=out,
        )
        return 1 if report.media_left else 0
    finally:
        platform.close()


def _in_english(data: Any) -> Any:
    """The export in the command's language: an erased person's data reads « [erased] »
    (the export read « "email": "[effacé]" » on an English command), her erased birth date
    too (the log keeps a placeholder day)."""
    if isinstance(data, dict):
        kept = {key: _in_english(value) for key, value in data.items()}
        profile = (
            kept.get("personal_data", {}).get("portal_profile") if data.get("erased") else None
        )
        if isinstance(profile, dict):
            profile["birth_date"] = ERASED_WORDS
        return kept
    if isinstance(data, list):
        return [_in_english(value) for value in data]
    if isinstance(data, str):
        return english(data)
    return data
