"""A CSV import of enrolments, recorded once per centre and file content (issue 12).

Its id is derived from the centre and a digest of the file's checked lines, and it is saved in
the same transaction as every candidate and enrolment it made: the whole file or nothing. A
second upload of the same file (or two at once) meets the stream already written, and is told
when the file was imported; nothing changes. The record holds counts and a digest, never a
line's content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware

# Fixed for ever: changing it would let every file be imported again.
IMPORTS_NAMESPACE = UUID("c4a1e0f6-58d2-4b0c-8f1e-2d9b7a3c6e41")


def lines_digest(lines: Sequence[Sequence[str]]) -> str:
    """A digest of the file's lines as checked (cells trimmed, e-mails lower-cased by the
    caller): the same content uploaded with other line endings or spaces is the same file."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update("\x1f".join(line).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def import_id(centre_id: UUID, digest: str) -> UUID:
    """The import's stream id: one per centre and file content."""
    return uuid5(IMPORTS_NAMESPACE, f"{centre_id}/{digest}")


class CsvImport(Aggregate):
    """One file of enrolments, imported whole."""

    centre_id: UUID
    digest: str
    lines: int
    enrolled: int
    already_enrolled: int
    imported_by: UUID

    class CsvImported(Aggregate.Created):
        centre_id: UUID
        digest: str
        lines: int
        enrolled: int
        already_enrolled: int
        imported_by: UUID

    @classmethod
    def record(
        cls,
        *,
        centre_id: UUID,
        digest: str,
        lines: int,
        enrolled: int,
        already_enrolled: int,
        imported_by: UUID,
        at: datetime,
    ) -> CsvImport:
        """The file was imported: `enrolled` new enrolments, `already_enrolled` lines that
        changed nothing."""
        require_aware("at", at)
        if len(digest) != 64:
            raise InvalidArgument("digest", "a SHA-256 digest in hexadecimal is required")
        if min(lines - 1, enrolled, already_enrolled) < 0 or enrolled + already_enrolled != lines:
            raise InvalidArgument("lines", "every line is either enrolled or already enrolled")
        return cls._create(
            cls.CsvImported,
            id=import_id(centre_id, digest),
            timestamp=at,
            centre_id=centre_id,
            digest=digest,
            lines=lines,
            enrolled=enrolled,
            already_enrolled=already_enrolled,
            imported_by=imported_by,
        )

    @event(CsvImported)
    def __init__(
        self,
        centre_id: UUID,
        digest: str,
        lines: int,
        enrolled: int,
        already_enrolled: int,
        imported_by: UUID,
    ) -> None:
        self.centre_id = centre_id
        self.digest = digest
        self.lines = lines
        self.enrolled = enrolled
        self.already_enrolled = already_enrolled
        self.imported_by = imported_by
