"""The evidence bundle of one decision, and its offline check (design: docs/audit.md).

Files (names → bytes; the UI writes them to a folder or a zip):

- `events.jsonl`: every event of the review and of the streams its evidence cites, one
  canonical JSON object per line: `seq`, `prev` (the previous line's hash), `stream`,
  `version`, `topic`, `event` (the stored payload as JSON), `payload` (the stored payload's
  exact text), `stored_hash`/`stored_prev` (the store's own chain, null for old unchained
  rows) and `hash` = sha256(prev hash bytes | the line's canonical JSON without `hash`).
- `media.json`: the media references (ids, content hashes) the events carry.
- `rules.json`: the rule set frozen in the review.
- `decision.json`: the final verdict; the first examiner's decision, its reasons and cited
  evidence, and the grounds decided against, each with its written justification; the
  appeal, when there is one (the candidate's reason, the second examiner, outcome, answer
  and reasons); the recorded and the replayed recommendation, and whether everything
  matches. The appeal's events are in `events.jsonl` like every other event of the review.
- `manifest.json`: the format, the review, sha256 of every other file, the chain's head and
  length.
- `signature.json`: the platform's Ed25519 signature over the manifest, with its public key
  (`app.evidence_signature`; older bundles have none).

`verify_bundle` needs nothing but the files: it walks the lines and names the first altered
one, then checks the store hashes, the media references and every file against the manifest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec

from app.evidence_signature import SIGNATURE
from app.hash_chain import GENESIS, canonical_json, file_hash, line_hash, stored_event_hash
from app.ports.audit_log import AuditLog, StoredRecord
from app.ports.event_store import AggregateNotFound
from app.replay import AppealFacts, ReplayReport, replay_reviews
from domain.verdict import Recommendation

FORMAT = "vigie-evidence-bundle/1"
EVENTS = "events.jsonl"
MEDIA = "media.json"
RULES = "rules.json"
DECISION = "decision.json"
MANIFEST = "manifest.json"
FILES = (EVENTS, MEDIA, RULES, DECISION)
_MEDIA_FIELDS = ("media_id", "content_hash")


def build_bundle(log: AuditLog, review_id: UUID) -> dict[str, bytes]:
    """The bundle's files for one review, read from the log (nothing is written to it)."""
    (report,) = replay_reviews(log, [review_id])
    streams = [review_id, *dict.fromkeys(UUID(e.id.split("/", 1)[0]) for e in report.evidence)]
    records = log.records(streams)
    if review_id not in records:
        raise AggregateNotFound(review_id, "review")
    lines, head = [], GENESIS.hex()
    media: list[dict[str, Any]] = []
    rules: Any = None
    for seq, record in enumerate(r for s in streams for r in records.get(s, ())):
        event = msgspec.json.decode(record.payload)
        if record.stream == review_id and record.version == 1:
            rules = event.get("rules")
        body = _line_body(seq, head, record, event)
        head = line_hash(head, canonical_json(body))
        lines.append(canonical_json({**body, "hash": head}))
        media.extend(_media_refs(body))
    files = {
        EVENTS: b"".join(line + b"\n" for line in lines),
        MEDIA: canonical_json(media),
        RULES: canonical_json(rules),
        DECISION: canonical_json(_decision(report)),
    }
    manifest = {
        "format": FORMAT,
        "review_id": str(review_id),
        "streams": [str(s) for s in streams],
        "files": {name: file_hash(content) for name, content in files.items()},
        "chain_head": head,
        "chain_length": len(lines),
        "matches": report.matches,
    }
    files[MANIFEST] = canonical_json(manifest)
    return files


def _line_body(seq: int, prev: str, record: StoredRecord, event: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "prev": prev,
        "stream": str(record.stream),
        "version": record.version,
        "topic": record.topic,
        "event": event,
        "payload": record.payload.decode(),
        "stored_hash": record.chain_hash,
        "stored_prev": record.prev_hash,
    }


def _media_refs(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    event = body.get("event")
    if not isinstance(event, dict) or not any(f in event for f in _MEDIA_FIELDS):
        return []
    ref: dict[str, Any] = {
        "evidence": f"{body.get('stream')}/{body.get('version')}",
        "kind": str(body.get("topic", "")).rsplit(".", 1)[-1],
    }
    ref.update({f: event[f] for f in _MEDIA_FIELDS if f in event})
    return [ref]


def _decision(report: ReplayReport) -> dict[str, Any]:
    def recommendation(rec: Recommendation | None) -> Any:
        return None if rec is None else msgspec.to_builtins(dataclasses.asdict(rec))

    decision = report.decision
    return {
        "review_id": str(report.review_id),
        "certification_code": report.certification_code,
        "rules_version": report.rules_version,
        "verdict_version": report.verdict_version,
        "verdict": report.verdict.value if report.verdict else None,  # the final verdict
        "first_verdict": report.first_verdict.value if report.first_verdict else None,
        "examiner_id": str(decision.examiner_id) if decision else None,
        "decided_at": decision.decided_at.isoformat() if decision else None,
        "overrides": [msgspec.to_builtins(dataclasses.asdict(o)) for o in decision.overrides]
        if decision
        else [],
        "reasons": [msgspec.to_builtins(dataclasses.asdict(r)) for r in report.reasons],
        "excused": [msgspec.to_builtins(dataclasses.asdict(r)) for r in report.excused],
        "appeal": _appeal(report.appeal),
        "recorded_recommendation": recommendation(report.recorded),
        "replayed_recommendation": recommendation(report.replayed),
        "matches": report.matches,
        "differences": [str(d) for d in report.differences],  # the English sentences
    }


def _appeal(appeal: AppealFacts | None) -> Any:
    if appeal is None:
        return None
    return {
        "candidate_reason": appeal.candidate_reason,
        "lodged_at": appeal.lodged_at.isoformat(),
        "examiner_id": str(appeal.examiner_id) if appeal.examiner_id else None,
        "outcome": appeal.outcome.value if appeal.outcome else None,
        "verdict": appeal.verdict.value if appeal.verdict else None,
        "answer": appeal.answer,
        "reasons": [msgspec.to_builtins(dataclasses.asdict(r)) for r in appeal.reasons],
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        "first_examiner_id": str(appeal.first_examiner_id) if appeal.first_examiner_id else None,
        "agrees": appeal.agrees,
    }


# --- the offline check ----------------------------------------------------------------------


@dataclass
class BundleCheck:
    """The verdict on a bundle: the first altered entry, and every problem found."""

    lines: int = 0
    first_altered: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def fail(self, where: str, problem: str) -> None:
        if self.first_altered is None:
            self.first_altered = where
        self.problems.append(f"{where}: {problem}")


def verify_bundle(files: Mapping[str, bytes]) -> BundleCheck:
    """Check a bundle from its files alone (no store)."""
    check = BundleCheck()
    try:
        manifest = msgspec.json.decode(files[MANIFEST])
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
    except (KeyError, ValueError, msgspec.DecodeError) as error:
        check.fail(MANIFEST, f"missing or unreadable ({error})")
        return check
    bodies = _check_lines(files.get(EVENTS, b""), check)
    if check.first_altered is None:
        if check.lines != manifest.get("chain_length"):
            check.fail(
                EVENTS, f"{check.lines} lines, the manifest says {manifest.get('chain_length')}"
            )
        head = bodies[-1]["hash"] if bodies else GENESIS.hex()
        if head != manifest.get("chain_head"):
            check.fail(f"{EVENTS} line {check.lines}", "the chain's head differs from the manifest")
    _check_stored_chain(bodies, check)
    _check_media(files.get(MEDIA), bodies, check)
    listed = manifest.get("files") or {}
    for name in FILES:
        if name not in files:
            check.fail(name, "missing")
        elif listed.get(name) != file_hash(files[name]):
            check.fail(name, "altered: its hash differs from the manifest")
    # The signature signs the manifest, so the manifest cannot list it (evidence_signature).
    for name in sorted(set(files) - {*FILES, MANIFEST, SIGNATURE}):
        check.fail(name, "not listed in the manifest")
    return check


def _check_lines(content: bytes, check: BundleCheck) -> list[dict[str, Any]]:
    """Each line: canonical, in sequence, linked to the previous one, its own hash right."""
    bodies: list[dict[str, Any]] = []
    prev = GENESIS.hex()
    raw_lines = content.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    for number, raw in enumerate(raw_lines, start=1):
        check.lines = number
        where = f"{EVENTS} line {number}"
        try:
            line = msgspec.json.decode(raw)
            if not isinstance(line, dict):
                raise ValueError("not an object")
        except (ValueError, msgspec.DecodeError) as error:
            check.fail(where, f"unreadable ({error})")
            return bodies
        where += f" ({line.get('stream')}/{line.get('version')} {line.get('topic')})"
        body = {k: v for k, v in line.items() if k != "hash"}
        if canonical_json(line) != raw:
            check.fail(where, "altered: not the canonical form it was written in")
        elif line.get("seq") != number - 1:
            check.fail(where, f"out of sequence: seq {line.get('seq')} where {number - 1} was due")
        elif line.get("prev") != prev:
            check.fail(where, "altered: its previous hash does not match the line before it")
        elif line_hash(prev, canonical_json(body)) != line.get("hash"):
            check.fail(where, "altered: its content does not match its hash")
        elif msgspec.json.decode(str(line.get("payload", "")).encode()) != line.get("event"):
            check.fail(where, "altered: the event differs from the stored payload")
        if check.first_altered is not None:
            return bodies
        bodies.append(line)
        prev = str(line["hash"])
    return bodies


def _check_stored_chain(bodies: list[dict[str, Any]], check: BundleCheck) -> None:
    """The store's own hashes, recomputed from the payloads: the bundle agrees with the store
    it came from (`vigie audit verify-store` checks the same hashes there)."""
    last: dict[str, str] = {}
    for number, body in enumerate(bodies, start=1):
        stored, prev = body.get("stored_hash"), body.get("stored_prev")
        stream = str(body.get("stream"))
        if stored is None or prev is None:
            continue
        where = f"{EVENTS} line {number} ({stream}/{body.get('version')})"
        computed = stored_event_hash(
            bytes.fromhex(str(prev)),
            UUID(stream),
            int(body.get("version", 0)),
            str(body.get("topic")),
            str(body.get("payload")).encode(),
        ).hex()
        if computed != stored:
            check.fail(where, "the payload does not match the store's hash")
        elif stream in last and last[stream] != prev:
            check.fail(where, "the store's chain is broken before this event")
        last[stream] = str(stored)


def _check_media(content: bytes | None, bodies: list[dict[str, Any]], check: BundleCheck) -> None:
    if content is None:
        return
    try:
        listed = msgspec.json.decode(content)
    except msgspec.DecodeError as error:
        check.fail(MEDIA, f"unreadable ({error})")
        return
    expected = [ref for body in bodies for ref in _media_refs(body)]
    if not isinstance(listed, list):
        check.fail(MEDIA, "not a list")
        return
    for index, (got, want) in enumerate(zip(listed, expected, strict=False)):
        if got != want:
            check.fail(
                f"{MEDIA} entry {index + 1} ({want.get('evidence')})",
                "altered: differs from the event it references",
            )
            return
    if len(listed) != len(expected):
        check.fail(MEDIA, f"{len(listed)} entries, the events carry {len(expected)}")
