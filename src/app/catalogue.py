"""The certification catalogue and its question banks, loaded from TOML files.

Operators provide one file per certification (and one per practice questionnaire); the
format is described in docs/question-banks.md and the shipped Access certification in
app/catalogue_data/ is the example. A bank is identified by the hash of its file, recorded in
each attempt, so an attempt is always scored and replayed against the bank it was given.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from app.safe_exam_browser import SafeExamBrowser
from domain.errors import InvalidArgument
from domain.exam_paper import Choice, ExamPaper, Matching, Question, QuestionKind


class BankError(ValueError):
    """A bank file is malformed: names the file and the field."""


@dataclass(frozen=True)
class Certification:
    """A certification's code, title, duration (R4), pass mark and practice offer (R12)."""

    code: str
    title: str
    language: str
    duration_minutes: int
    pass_mark_percent: int
    paper: ExamPaper
    practice: ExamPaper | None = None
    # Issue 8: photos and recordings are deleted this many days after the final decision
    # (after the appeal period, and after an appeal's decision). Not a decision rule: the
    # rule set frozen in a session does not hold it.
    media_retention_days: int = 365
    # Issue 16: the exam tab opens only in Safe Exam Browser with this certification's
    # configuration (None: any browser). docs/seb.md.
    safe_exam_browser: SafeExamBrowser | None = None
    # Issue 16: the proctoring page records the candidate's screen too, and a stopped share
    # is flagged (ScreenMustStayShared).
    screen_capture: bool = False

    @property
    def practice_offered(self) -> bool:
        """R12: not every session offers a practice questionnaire."""
        return self.practice is not None

    @property
    def questions(self) -> tuple[Question, ...]:
        """The paper's questions in the bank's order."""
        return self.paper.questions


def _question(raw: dict[str, Any], where: str) -> Question:
    try:
        kind = QuestionKind(raw.get("kind", "short"))
        choices = tuple(Choice(str(c["id"]), str(c["text"])) for c in raw.get("choices", []))
        expected = raw["accept"] if kind is QuestionKind.SHORT else raw["answer"]
        return Question(
            question_id=str(raw["id"]),
            section=str(raw["section"]),
            expected=tuple(str(e) for e in expected),
            points=int(raw.get("points", 1)),
            kind=kind,
            prompt=str(raw.get("prompt", "")),
            choices=choices,
            matching=Matching(raw.get("matching", "normalised")),
        )
    except KeyError as missing:
        raise BankError(f"{where}: missing field {missing}") from None
    except (ValueError, InvalidArgument) as error:
        raise BankError(f"{where}: {error}") from None


HEX_KEY = re.compile(r"[0-9a-f]{64}")
SEB_FIELDS = {"browser_exam_keys", "config_keys", "quit_password_sha256"}


def _keys(raw: dict[str, Any], field: str, where: str) -> tuple[str, ...]:
    values = raw.get(field, [])
    if not isinstance(values, list) or not all(
        isinstance(v, str) and HEX_KEY.fullmatch(v.lower()) for v in values
    ):
        raise BankError(f"{where}.{field}: a list of keys of 64 hexadecimal digits")
    return tuple(v.lower() for v in values)


def parse_safe_exam_browser(raw: object, name: str) -> SafeExamBrowser | None:
    """A `[certification.safe_exam_browser]` table (its presence requires SEB)."""
    where = f"{name}: [certification.safe_exam_browser]"
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BankError(f"{where} is a table")
    unknown = sorted(set(raw) - SEB_FIELDS)
    if unknown:
        raise BankError(f"{where}: unknown field {unknown[0]!r} (known: {sorted(SEB_FIELDS)})")
    quit_hash = raw.get("quit_password_sha256", "")
    if quit_hash and not (isinstance(quit_hash, str) and HEX_KEY.fullmatch(quit_hash.lower())):
        raise BankError(f"{where}.quit_password_sha256: 64 hexadecimal digits")
    return SafeExamBrowser(
        browser_exam_keys=_keys(raw, "browser_exam_keys", where),
        config_keys=_keys(raw, "config_keys", where),
        quit_password_hash=str(quit_hash).lower(),
    )


def _flag(header: dict[str, Any], field: str, name: str) -> bool:
    value = header.get(field, False)
    if not isinstance(value, bool):
        raise BankError(f"{name}: [certification] {field} is true or false")
    return value


def parse_paper(content: bytes, name: str) -> tuple[dict[str, Any], ExamPaper]:
    """A bank file's header table and its paper; BankError names what is wrong."""
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BankError(f"{name}: not a TOML file ({error})") from None
    header = data.get("certification") or data.get("practice")
    if not isinstance(header, dict):
        raise BankError(f"{name}: needs a [certification] or [practice] table")
    raw_questions = data.get("questions", [])
    questions = tuple(
        _question(raw, f"{name}, question {i + 1}") for i, raw in enumerate(raw_questions)
    )
    try:
        paper = ExamPaper(name, "sha256:" + hashlib.sha256(content).hexdigest(), questions)
    except InvalidArgument as error:
        raise BankError(f"{name}: {error}") from None
    return header, paper


def parse_certification(
    content: bytes, name: str, practice_content: bytes | None = None, practice_name: str = ""
) -> Certification:
    """A certification from its bank file (and its practice questionnaire's, if any)."""
    header, paper = parse_paper(content, name)
    try:
        duration = int(header["duration_minutes"])
        certification = Certification(
            code=str(header["code"]),
            title=str(header["title"]),
            language=str(header.get("language", "fr")),
            duration_minutes=duration,
            pass_mark_percent=int(header.get("pass_mark_percent", 70)),
            paper=paper,
            practice=parse_paper(practice_content, practice_name)[1] if practice_content else None,
            media_retention_days=int(header.get("media_retention_days", 365)),
            safe_exam_browser=parse_safe_exam_browser(header.get("safe_exam_browser"), name),
            screen_capture=_flag(header, "screen_capture", name),
        )
    except KeyError as missing:
        raise BankError(f"{name}: [certification] misses {missing}") from None
    if not 60 <= duration <= 150:
        raise BankError(f"{name}: R4: an exam lasts 60 to 150 minutes, not {duration}")
    if not 0 < certification.pass_mark_percent <= 100:
        raise BankError(f"{name}: pass_mark_percent lies between 1 and 100")
    if certification.media_retention_days < 1:
        raise BankError(f"{name}: media_retention_days is at least 1 day")
    if certification.screen_capture and certification.safe_exam_browser is not None:
        # SEB allows no screen sharing: the screen would never be recorded (docs/media.md).
        raise BankError(
            f"{name}: [certification] screen_capture and [certification.safe_exam_browser]: "
            "Safe Exam Browser allows no screen sharing; require one or the other"
        )
    return certification


class Catalogue:
    """Certifications by code, and every bank version seen, by hash."""

    def __init__(self, *certifications: Certification) -> None:
        self._by_code = {c.code: c for c in certifications}
        self._papers = {c.paper.content_hash: c.paper for c in certifications}

    def get(self, code: str) -> Certification:
        """The certification with that code; a clear error otherwise."""
        try:
            return self._by_code[code]
        except KeyError:
            known = ", ".join(sorted(self._by_code)) or "none"
            raise InvalidArgument(
                "certification_code", f"unknown certification {code!r} (known: {known})"
            ) from None

    def paper(self, code: str, content_hash: str) -> ExamPaper:
        """The bank an attempt was given (by its hash), even if the file changed since."""
        paper = self._papers.get(content_hash)
        if paper is None:
            current = self.get(code).paper
            if not content_hash:
                return current
            raise InvalidArgument(
                "bank", f"the bank {content_hash} of {code} is no longer loaded ({current.bank_id})"
            )
        return paper

    def __iter__(self) -> Iterator[Certification]:
        return iter(self._by_code.values())


def load_folder(folder: Path) -> Catalogue:
    """Every certification file (*.toml with a [certification] table) in an operator's folder."""
    certifications = []
    for path in sorted(folder.glob("*.toml")):
        content = path.read_bytes()
        if b"[certification]" not in content:
            continue
        header = tomllib.loads(content.decode("utf-8")).get("certification", {})
        practice_name = header.get("practice")
        practice = (folder / practice_name).read_bytes() if practice_name else None
        certifications.append(
            parse_certification(content, path.name, practice, practice_name or "")
        )
    if not certifications:
        raise BankError(f"{folder}: no certification file (*.toml with [certification])")
    return Catalogue(*certifications)


def default_catalogue() -> Catalogue:
    """The catalogue shipped for demos and tests (the Access certification)."""
    data = resources.files("app") / "catalogue_data"
    access = (data / "eni-access.toml").read_bytes()
    practice = (data / "eni-access-practice.toml").read_bytes()
    return Catalogue(
        parse_certification(access, "eni-access.toml", practice, "eni-access-practice.toml")
    )
