"""`vigie audit …`: replay, what-if, export, verify, verify-store, public-key (design:
docs/audit.md)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from adapters.bootstrap import Settings, checkpoints, evidence_signer, media_store, open_store
from adapters.checkpoints import Checkpoints, FileCheckpoint, FileCheckpoints
from adapters.persistence.store import EventsourcingStore
from app.audit import BATCH, WhatIfReport, replay_all, what_if
from app.evidence_bundle import build_bundle, verify_bundle
from app.evidence_signature import (
    EvidenceSigner,
    PublicKey,
    SignatureCheck,
    Signed,
    check_signature,
    sign_bundle,
)
from app.ports.event_store import AggregateNotFound
from app.ports.media_capture import MediaCapture
from app.replay import ReplayReport, replay_reviews
from domain.proctored_session import ProctoredSession
from domain.review import CitedReason
from domain.rules import rule_set
from domain.verdict import Recommendation
from ui import cli_words
from ui.arguments import uuid_argument
from ui.bundle_io import read_bundle, write_bundle

CHECKPOINT_NAME = "audit-replay"  # its name among the store's checkpoints


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_parser(commands: Any) -> None:
    """The `audit` command group."""
    audit = commands.add_parser("audit", help="replay, study, export and verify decisions")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    replay = sub.add_parser("replay", help="replay one decision (or --all) from the log")
    replay.add_argument("review_id", type=uuid_argument, nargs="?")
    replay.add_argument("--all", action="store_true", help="every decided review in the store")
    replay.add_argument(
        "--checkpoint",
        type=Path,
        help="a file where --all records its progress to resume (default: in the store's "
        "database, so any machine resumes it)",
    )
    replay.add_argument("--restart", action="store_true", help="ignore a checkpoint, start over")
    replay.add_argument("--batch", type=int, default=BATCH, help="reviews read per batch")
    replay.add_argument(
        "--stop-after", type=int, help="stop after about N reviews (run again to continue)"
    )
    whatif = sub.add_parser("what-if", help="re-run other rules over past decisions (no writes)")
    whatif.add_argument("--rules", required=True, help="a rule-set version, e.g. rules-2025-03")
    whatif.add_argument("--since", type=_date, help="decisions on or after this date")
    whatif.add_argument("--show", type=int, default=20, help="differences listed one by one")
    export = sub.add_parser("export", help="the evidence bundle of one decision")
    export.add_argument("review_id", type=uuid_argument)
    export.add_argument("-o", "--output", type=Path, help="a new folder, or a .zip file")
    verify = sub.add_parser("verify", help="check an evidence bundle offline")
    verify.add_argument("bundle", type=Path)
    verify.add_argument(
        "--public-key",
        metavar="FILE|URL",
        help="the platform's public key (PEM, or its JSON from "
        "/.well-known/vigie-evidence-key): the bundle must be signed by it",
    )
    sub.add_parser("verify-store", help="check the hash chain of every stored event")
    sub.add_parser(
        "verify-media",
        help="check every photo, recording and segment the log names against its digest",
    )
    key = sub.add_parser("public-key", help="the key that signs evidence bundles, for verifiers")
    key.add_argument("--format", choices=["pem", "json"], default="pem")


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Dispatch one `vigie audit` command."""
    out = out or sys.stdout
    command = args.audit_command
    if command == "verify":
        return verify(args.bundle, out, public_key=args.public_key)
    if command == "public-key":
        return print_public_key(evidence_signer(settings), args.format, out)
    store = open_store(settings)
    try:
        if command == "replay":
            if args.all:
                kept = FileCheckpoint(args.checkpoint) if args.checkpoint else checkpoints(settings)
                try:
                    return replay_everything(
                        store,
                        checkpoint=kept,
                        restart=args.restart,
                        batch=args.batch,
                        stop_after=args.stop_after,
                        out=out,
                    )
                finally:
                    kept.close()
            if args.review_id is None:
                print("vigie: audit replay needs a review id or --all", file=sys.stderr)
                return 2
            return replay_one(store, args.review_id, out)
        if command == "what-if":
            return study(store, args.rules, args.since, args.show, out)
        if command == "export":
            return export(store, args.review_id, args.output, out, evidence_signer(settings))
        if command == "verify-store":
            return verify_store(store, out)
        if command == "verify-media":
            return verify_media(store, media_store(settings), out)
    finally:
        store.close()
    return 2


# --- replay ---------------------------------------------------------------------------------


def replay_one(store: EventsourcingStore, review_id: UUID, out: TextIO) -> int:
    try:
        (report,) = replay_reviews(store, [review_id])
    except AggregateNotFound as error:
        print(cli_words.said(error), file=sys.stderr)
        return cli_words.REFUSED
    print_report(report, out)
    return 0 if report.matches else 1


def print_report(report: ReplayReport, out: TextIO) -> None:
    """The evidence, the recommendation, the decision, and whether everything matches."""
    p = out.write
    p(
        f"review {report.review_id} ({report.certification_code}) under {report.rules_version}"
        f" / {report.verdict_version}\n"
    )
    p(f"evidence: {len(report.evidence)} items\n")
    for item in report.evidence:
        extra = []
        if item.flag is not None:
            extra.append(f"{item.flag.value} {item.confidence or 0:.2f}")
        if item.span is not None:
            extra.append(f"{item.span.start_s:g}s–{item.span.end_s:g}s")
        if item.during_exam:
            extra.append("during the exam")
        if item.note:
            extra.append(f"«{item.note}»")
        p(f"  {item.id}  {item.at.isoformat()}  {item.kind}  {' '.join(extra)}".rstrip() + "\n")
    for name, rec in (("recorded", report.recorded), ("replayed", report.replayed)):
        _print_recommendation(name, rec, out)
    decision = report.decision
    if report.first_verdict is None or decision is None:
        p("decision: undecided\n")
    else:
        p(
            f"decision: {report.first_verdict.value} by examiner {decision.examiner_id} on "
            f"{decision.decided_at.isoformat()}"
            f"{' (overdue)' if decision.overdue else ''}, on {decision.recommendation_version}\n"
        )
        for override in decision.overrides:
            p(
                f"  decided against ground {override.rule} {override.reason.value} "
                f"[{', '.join(override.evidence_ids)}]: «{override.justification}»\n"
            )
    _print_reasons(report.reasons, out)
    for cited in report.excused:
        p(f"  excused {cited.reason.value} citing {', '.join(cited.evidence_ids)}\n")
    _print_appeal(report, out)
    if report.matches:
        p(
            "MATCHES: same recommendation, every citation resolves to its stored event"
            + (", the final verdict follows from the appeal" if report.appeal else "")
            + "\n"
        )
    for difference in report.differences:
        p(f"DIFFERS: {difference}\n")


def _print_reasons(reasons: tuple[CitedReason, ...], out: TextIO) -> None:
    for cited in reasons:
        why = f" — {cited.justification}" if cited.justification else ""
        out.write(f"  reason {cited.reason.value} citing {', '.join(cited.evidence_ids)}{why}\n")


def _print_appeal(report: ReplayReport, out: TextIO) -> None:
    """The candidate's appeal, the second examiner's answer, and the final verdict."""
    p = out.write
    appeal = report.appeal
    if appeal is None:
        return
    p(f"appeal: lodged on {appeal.lodged_at.isoformat()}: «{appeal.candidate_reason}»\n")
    if not appeal.decided:
        who = f"examiner {appeal.examiner_id}" if appeal.examiner_id else "no examiner yet"
        p(f"  undecided ({who}); the final verdict is the first decision's for now\n")
    else:
        assert appeal.outcome is not None and appeal.decided_at is not None
        stance = "agrees with" if appeal.agrees else "disagrees with"
        p(
            f"  {appeal.outcome.value} by second examiner {appeal.examiner_id} on "
            f"{appeal.decided_at.isoformat()} ({stance} the first examiner)\n"
        )
        p(f"  answer: «{appeal.answer}»\n")
        _print_reasons(appeal.reasons, out)
    final = report.verdict.value if report.verdict else "undecided"
    p(f"final verdict: {final}{' (on appeal)' if appeal.decided else ''}\n")


def _print_recommendation(name: str, rec: Recommendation | None, out: TextIO) -> None:
    if rec is None:
        out.write(f"{name}: none\n")
        return
    out.write(f"{name}: {rec.verdict.value} ({rec.version})\n")
    for kind, findings in (("ground", rec.grounds), ("hint", rec.hints)):
        for finding in findings:
            out.write(
                f"  {kind} {finding.rule} {finding.reason.value}: {finding.explanation} "
                f"[{', '.join(finding.evidence_ids)}]\n"
            )


def _store_key(store: EventsourcingStore) -> str:
    """Which store a checkpoint belongs to (the URL's hash: no password in the file)."""
    return hashlib.sha256(store.database_url.encode()).hexdigest()[:16]


def replay_everything(
    store: EventsourcingStore,
    *,
    checkpoint: Checkpoints | Path,
    restart: bool = False,
    batch: int = BATCH,
    stop_after: int | None = None,
    out: TextIO,
) -> int:
    """Every decided review, resumable from the checkpoint (in the store's database, or a
    file) after any interruption."""
    if isinstance(checkpoint, Path):
        checkpoint = FileCheckpoint(checkpoint)
    # A file may be carried to another store; a checkpoint kept in the store cannot, and
    # every node names the store by its own URL (another host name, the same database).
    owner = _store_key(store) if isinstance(checkpoint, FileCheckpoints) else "this store"
    state = _load_checkpoint(checkpoint, owner, restart)
    if state["position"]:
        print(
            f"resuming after log position {state['position']:,} "
            f"({state['reviews']:,} reviews already replayed)",
            file=sys.stderr,
        )
    head = store.head()
    run_reviews = run_events = 0
    started = last_line = time.perf_counter()
    try:
        for done in replay_all(store, after=state["position"], batch=batch):
            for report in done.reports:
                if not report.matches:
                    differences = [str(d) for d in report.differences]
                    state["mismatches"].append(
                        {"review": str(report.review_id), "differences": differences}
                    )
            run_reviews += len(done.reports)
            run_events += done.events_read
            state["position"] = done.position
            state["reviews"] += len(done.reports)
            state["events"] += done.events_read
            now = time.perf_counter()
            state["seconds"] += now - started - state.get("_counted", 0.0)
            state["_counted"] = now - started
            _save_checkpoint(checkpoint, state)
            if now - last_line >= 1.0:
                last_line = now
                _progress(state, head, run_reviews, now - started)
            if stop_after is not None and run_reviews >= stop_after:
                _progress(state, head, run_reviews, now - started)
                print(
                    f"stopped after {run_reviews:,} reviews; run the same command to continue",
                    file=sys.stderr,
                )
                return 0 if not state["mismatches"] else 1
    except KeyboardInterrupt:
        print(
            f"\ninterrupted after log position {state['position']:,}; run the same command "
            f"to continue (checkpoint in {checkpoint.where})",
            file=sys.stderr,
        )
        return 130
    seconds = time.perf_counter() - started
    # The log was read to its end: the events after the last decided review were read too
    # (a complete run said « 163/175 (93%) », an operator's check).
    state["position"] = max(state["position"], head)
    state["complete"] = True
    _save_checkpoint(checkpoint, state)
    _progress(state, head, run_reviews, seconds)
    rate = run_reviews / seconds if seconds else 0.0
    out.write(
        f"replayed {state['reviews']:,} decided reviews ({run_reviews:,} in this run), "
        f"{state['events']:,} events read\n"
        f"this run: {seconds:.1f}s, {rate:,.0f} reviews/s, "
        f"{(run_events / seconds if seconds else 0):,.0f} events/s\n"
    )
    mismatches = state["mismatches"]
    if not mismatches:
        out.write("mismatches: none — every decision replays to what was recorded\n")
        return 0
    out.write(f"mismatches: {len(mismatches)}\n")
    for item in mismatches:
        for difference in item["differences"]:
            out.write(f"  {item['review']}: {difference}\n")
    return 1


def _progress(state: dict[str, Any], head: int, run_reviews: int, seconds: float) -> None:
    share = state["position"] / head * 100 if head else 100.0
    rate = run_reviews / seconds if seconds else 0.0
    print(
        f"audit replay: {state['reviews']:,} reviews, log position {state['position']:,}/"
        f"{head:,} ({share:.0f}%), {rate:,.0f} reviews/s, "
        f"{len(state['mismatches'])} mismatch(es)",
        file=sys.stderr,
        flush=True,
    )


def _load_checkpoint(kept: Checkpoints, store_key: str, restart: bool) -> dict[str, Any]:
    fresh: dict[str, Any] = {
        "store": store_key,
        "position": 0,
        "reviews": 0,
        "events": 0,
        "seconds": 0.0,
        "mismatches": [],
        "complete": False,
    }
    text = None if restart else kept.load(CHECKPOINT_NAME)
    if text is None:
        return fresh
    try:
        state = json.loads(text)
    except ValueError:
        return fresh
    if state.get("store") != store_key or state.get("complete"):
        return fresh
    state.pop("_counted", None)
    return {**fresh, **state}


def _save_checkpoint(kept: Checkpoints, state: dict[str, Any]) -> None:
    """Replaced whole (a row, or a file written aside then renamed): a crash never leaves
    half a checkpoint."""
    saved = {k: v for k, v in state.items() if not k.startswith("_")}
    kept.save(CHECKPOINT_NAME, json.dumps(saved, indent=1))


# --- what-if --------------------------------------------------------------------------------


def study(
    store: EventsourcingStore, version: str, since: date | None, show: int, out: TextIO
) -> int:
    rules = rule_set(version)
    head = store.head()
    report = what_if(store, rules, since=since)
    if store.head() != head:  # the promise: a study never writes
        raise RuntimeError("the what-if study wrote to the log")
    print_what_if(report, show, out)
    return 0


def print_what_if(report: WhatIfReport, show: int, out: TextIO) -> None:
    p = out.write
    since = f" since {report.since.isoformat()}" if report.since else ""
    p(
        f"what-if {report.rules_version} / {report.verdict_version} over {report.reviews:,} "
        f"decided reviews{since}: {len(report.differences):,} would differ "
        "(nothing was written)\n"
    )
    for difference in report.differences[:show]:
        p(f"  {difference.review_id} {difference.certification_code} {difference.month}: ")
        p(difference.describe() + "\n")
    if len(report.differences) > show:
        p(f"  … and {len(report.differences) - show:,} more\n")
    if not report.buckets:
        return
    p(
        f"{'certification':<16} {'month':<8} {'reviews':>8} {'changed':>8} "
        f"{'inval. rec.':>11} {'inval. what-if':>14} {'inval. exam.':>12} {'overturned':>10} "
        f"{'false flags rec.':>16} {'what-if':>8}\n"
    )
    for (code, month), b in sorted(report.buckets.items()):
        r = b.rate
        p(
            f"{code:<16} {month:<8} {b.reviews:>8,} {b.changed:>8,} "
            f"{r(b.recorded_invalidations, b.reviews):>11.1%} "
            f"{r(b.alternative_invalidations, b.reviews):>14.1%} "
            f"{r(b.examiner_invalidations, b.reviews):>12.1%} {b.overturned:>10,} "
            f"{r(b.recorded_false_flags, b.recorded_flagged):>16.1%} "
            f"{r(b.alternative_false_flags, b.alternative_flagged):>8.1%}\n"
        )
    p(
        "inval. = share of reviews recommended (rec., what-if) or decided (exam., the final "
        "verdict after any appeal) invalid; overturned = invalidations reversed on appeal; "
        "false flags = share of flagged reviews finally validated\n"
    )


# --- export and verify ----------------------------------------------------------------------


def export(
    store: EventsourcingStore,
    review_id: UUID,
    output: Path | None,
    out: TextIO,
    signer: EvidenceSigner,
) -> int:
    try:
        files = sign_bundle(build_bundle(store, review_id), signer)
    except AggregateNotFound as error:
        print(cli_words.said(error), file=sys.stderr)
        return cli_words.REFUSED
    target = write_bundle(files, output or Path(f"evidence-{review_id}.zip"))
    manifest = json.loads(files["manifest.json"])
    out.write(
        f"evidence bundle of review {review_id}: {target}\n"
        f"{manifest['chain_length']} events, chain head {manifest['chain_head']}\n"
        f"signed by key {PublicKey(signer.public_key()).fingerprint}\n"
        f"check it anywhere with: vigie audit verify {target} --public-key <the platform's "
        "key: vigie audit public-key, or /.well-known/vigie-evidence-key>\n"
    )
    return 0 if manifest["matches"] else 1


def print_public_key(signer: EvidenceSigner, form: str, out: TextIO) -> int:
    """The evidence signing key's public half: PEM (with its fingerprint on stderr), or the
    JSON the platform publishes at /.well-known/vigie-evidence-key."""
    key = PublicKey(signer.public_key())
    if form == "json":
        out.write(json.dumps(key.published(), indent=1) + "\n")
    else:
        out.write(key.pem())
        print(f"fingerprint {key.fingerprint}", file=sys.stderr)
    return 0


def _trusted_key(source: str) -> PublicKey:
    """A public key from a file or an http(s) address (PEM or the platform's JSON)."""
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=10) as answer:
                return PublicKey.parse(answer.read())
        except OSError as error:
            raise ValueError(f"--public-key: cannot read {source}: {error}") from None
    try:
        return PublicKey.parse(Path(source).read_bytes())
    except OSError as error:
        raise ValueError(f"--public-key: cannot read {source}: {error.strerror}") from None


def verify(bundle: Path, out: TextIO, *, public_key: str | None = None) -> int:
    """The chain and the files (as before), then the signature: each said on its own line,
    so a reader sees which one failed."""
    try:
        files = read_bundle(bundle)
        trusted = _trusted_key(public_key) if public_key else None
    except ValueError as error:
        print(f"vigie: {error}", file=sys.stderr)
        return 2
    check = verify_bundle(files)
    if check.intact:
        out.write(f"chain: INTACT: {bundle}: {check.lines} events chained, every file as listed\n")
    else:
        out.write(f"chain: ALTERED: first altered entry: {check.first_altered}\n")
        for problem in check.problems:
            out.write(f"  {problem}\n")
    signed = check_signature(files, trusted)
    out.write(f"signature: {_say_signature(signed)}\n")
    whole = check.intact and signed.holds
    if whole:
        out.write("INTACT\n")
    elif check.intact and signed.status in (Signed.OTHER_KEY, Signed.NOT_SIGNED):
        out.write("NOT VERIFIED: whole, but not shown to come from the key given\n")
    else:
        out.write("ALTERED\n")
    return 0 if whole else 1


def _say_signature(signed: SignatureCheck) -> str:
    if signed.status is Signed.VALID:
        whose = (
            "the key given"
            if signed.expected
            else "the key inside the bundle; pass --public-key to check it is the platform's"
        )
        return f"VALID: signed by {signed.fingerprint} ({whose})"
    if signed.status is Signed.NOT_SIGNED:
        if signed.expected:
            return "NOT SIGNED: nothing shows this bundle comes from the key given"
        return "NOT SIGNED (an older bundle): only its chain is checked"
    if signed.status is Signed.OTHER_KEY:
        return f"OTHER KEY: signed by {signed.fingerprint}, not by the key given {signed.expected}"
    if signed.status is Signed.ALTERED:
        return "FAILED: manifest.json (or the signature) was changed after signing"
    return f"UNREADABLE: signature.json is not a signature ({signed.detail})"


def verify_store(store: EventsourcingStore, out: TextIO) -> int:
    started = time.perf_counter()

    def progress(n: int) -> None:
        if n % 100_000 == 0:
            print(f"verify-store: {n:,} events checked", file=sys.stderr, flush=True)

    report = store.verify_chain(progress)
    seconds = time.perf_counter() - started
    out.write(
        f"{report.events:,} events in {report.streams:,} streams checked in {seconds:.1f}s: "
        f"{report.chained:,} chained, {report.unchained:,} unchained (history from before the "
        "chain, unless named below)\n"
        f"heads digest {report.heads_digest} (keep it elsewhere to detect a rewritten tail)\n"
    )
    if report.intact:
        out.write("INTACT: every stored event matches its hash and its predecessor, and decodes\n")
        return 0
    out.write(
        f"ALTERED: {len(report.breaks)} stream(s) quarantined; first: {report.breaks[0]}\n"
        "their pages are withheld, the rest of the platform works; restore each stream from "
        "a backup (or remove the rows named) and run this check again:\n"
    )
    for chain_break in report.breaks:
        out.write(f"QUARANTINED: {chain_break}\n")
    return 1


# --- the media the log names ----------------------------------------------------------------

# Each fact that names a kept file, with its digest (sha256 of its bytes, as the media store
# made it when the file was kept).
# (An environment recording from before issue 12 names no file: app.recording finds it by
# its digest, and this check leaves it out.)
_KEPT_MEDIA = (
    ProctoredSession.FacePhotoTaken,
    ProctoredSession.IdPhotoTaken,
    ProctoredSession.EnvironmentRecordingStopped,
)
_SEGMENTS = (ProctoredSession.SegmentRecorded, ProctoredSession.ScreenSegmentRecorded)


def verify_media(store: EventsourcingStore, media: MediaCapture, out: TextIO) -> int:
    """Every photo, recording and live segment the log names, read back from the media
    store and hashed: the chain (`verify-store`) proves the log unchanged, not the files it
    points to. An operator's review found two live segments overwritten in the bucket after
    a node died (fixed since), which the chain check called INTACT."""
    named: dict[str, str] = {}
    deleted: set[str] = set()
    after = 0
    while page := store.read(after, 1000):
        for recorded in page:
            event = recorded.event
            if isinstance(event, _SEGMENTS):  # kept under the store's own reference
                named[media.live_segment(event.media_id)] = event.content_hash
            elif isinstance(event, _KEPT_MEDIA) and event.media_id:
                named[event.media_id] = event.content_hash
            elif isinstance(event, ProctoredSession.MediaDeleted):
                deleted.update(event.media_ids)
        after = page[-1].position
    missing: list[str] = []
    altered: list[str] = []
    for number, (media_id, digest) in enumerate(sorted(named.items()), start=1):
        if media_id in deleted:
            continue  # erased or past retention, as recorded
        try:
            data = media.load(media_id)
        except KeyError:
            missing.append(media_id)
            continue
        if f"sha256:{hashlib.sha256(data).hexdigest()}" != digest:
            altered.append(media_id)
        if number % 1000 == 0:
            print(f"verify-media: {number:,} files checked", file=sys.stderr, flush=True)
    kept = len(named) - len(named.keys() & deleted)
    out.write(
        f"{len(named):,} files named by the log: {kept:,} kept, "
        f"{len(named) - kept:,} deleted as recorded\n"
    )
    for media_id in missing:
        out.write(f"MISSING: {media_id} (the log names it; the media store has no such file)\n")
    for media_id in altered:
        out.write(f"ALTERED: {media_id} (its bytes no longer match the digest the log holds)\n")
    if missing or altered:
        out.write(
            f"NOT INTACT: {len(missing):,} missing, {len(altered):,} altered; restore them "
            "from a backup of the media store\n"
        )
        return 1
    out.write("INTACT: every file the log names is there, byte for byte\n")
    return 0
