"""A centre's file of enrolments read and checked, before anything is recorded (issue 12,
13): `;` or `,` as the header uses, a UTF-8 BOM ignored, every line checked and every
problem of each named by its column (the first alone made a centre fix, upload again and
find the next: a tester's tour). Codes and languages are read whatever their case and kept
as the catalogue spells them. Problems are codes; the pages word them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app.use_cases import enrolment
from domain.bounds import LIMITS, name_problem
from domain.candidate import check_email
from domain.errors import NotAnEmail, shown_character
from domain.imports import lines_digest

CSV_COLUMNS = ("email", "surname", "first_name", "certification_code", "language", "re_enrol")
REQUIRED_COLUMNS = CSV_COLUMNS[:4]
# One file is one transaction of about four events per line. eventsourcing 9.5.6's pipelined
# insert on PostgreSQL hung at 20,000 events in one save (a 5,000-line file; 4,500 lines
# passed): 2,000 lines (8,000 events, tested killed and whole) keeps a wide margin.
MAX_CSV_LINES = 2000
YES = frozenset({"yes", "oui", "y", "o", "1", "true", "vrai", "x"})
NO = frozenset({"", "no", "non", "n", "0", "false", "faux"})


@dataclass(frozen=True)
class Problem:
    """What refuses a value: the column, a key of the pages' PROBLEM_WORDS, the value it names."""

    column: str
    code: str
    value: str = ""


class FileRefused(Exception):
    """The file as a whole cannot be read: a key of the pages' FILE_PROBLEM_WORDS, and what
    it names."""

    def __init__(self, problem: str, value: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.value = value


@dataclass(frozen=True)
class LineReport:
    """One CSV line: who it names, and every problem that refuses it or what becomes of
    it."""

    line: int
    email: str
    name: str = ""
    certification: str = ""
    problems: tuple[Problem, ...] = ()
    outcome: str = ""


def as_written(row: dict[str, str], known_codes: set[str]) -> dict[str, str]:
    """The row with its certification code as the catalogue spells it and its language in
    lower case, whatever case the centre typed (`eni-access` was « unknown », `EN` refused:
    a tester's tour); an unknown code stays as typed, for its message."""
    by_fold = {code.casefold(): code for code in known_codes}
    code = row["certification_code"]
    return {
        **row,
        "certification_code": by_fold.get(code.casefold(), code),
        "language": row["language"].lower(),
    }


def form_problems(row: dict[str, str], known_codes: set[str]) -> list[Problem]:
    """Every value refused on a form or a line, in the form's order (the e-mail already
    checked): a form named only its first, and the next came at the next try (a reviewer's
    check)."""
    problems: list[Problem] = []
    for column in ("surname", "first_name"):
        if not row[column]:
            problems.append(Problem(column, "required"))
        elif len(row[column]) > LIMITS[column]:  # the domain's bound, said on the form
            problems.append(Problem(column, "too_long", str(LIMITS[column])))
        elif (refused := name_problem(column, row[column])) is not None:  # the domain's rule
            problems.append(Problem(column, "not_a_name", shown_character(refused.character)))
    if not row["certification_code"]:
        problems.append(Problem("certification_code", "required"))
    elif row["certification_code"] not in known_codes:
        problems.append(
            Problem("certification_code", "unknown_certification", row["certification_code"])
        )
    if row["language"] not in ("", "fr", "en"):
        problems.append(Problem("language", "bad_language", row["language"]))
    if row["re_enrol"].lower() not in YES | NO:
        problems.append(Problem("re_enrol", "bad_re_enrol", row["re_enrol"]))
    return problems


def email_problem(value: str) -> Problem | None:
    if not value:
        return Problem("email", "required")
    if len(value) > LIMITS["email"]:
        return Problem("email", "too_long", str(LIMITS["email"]))
    try:
        check_email(value)
    except NotAnEmail as refused:
        if refused.character is not None:  # named as the name rule names its character
            return Problem("email", "not_an_email", shown_character(refused.character))
        return Problem("email", "bad_email", value)
    return None


def delimiter_of(text: str) -> str:
    """`;` (French Excel's default) or `,`: whichever the header line uses more."""
    header = text.removeprefix("\ufeff").partition("\n")[0]
    return ";" if header.count(";") > header.count(",") else ","


def check_csv(
    text: str, known_codes: set[str]
) -> tuple[list[enrolment.Enrolment], list[LineReport]]:
    """Every line checked before anything is recorded: nothing half-imported."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter_of(text))
    header = [(name or "").strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FileRefused("missing_columns", ", ".join(missing))
    wanted: list[enrolment.Enrolment] = []
    reports: list[LineReport] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number > MAX_CSV_LINES + 1:
            raise FileRefused("too_long", str(MAX_CSV_LINES))
        row = as_written({k: (raw.get(k) or "").strip() for k in CSV_COLUMNS}, known_codes)
        row["email"] = row["email"].lower()
        emailed = email_problem(row["email"])
        if emailed is None and row["email"] in seen:
            emailed = Problem("email", "twice", str(seen[row["email"]]))
        problems = (*([emailed] if emailed else []), *form_problems(row, known_codes))
        seen.setdefault(row["email"], number)
        line = LineReport(
            number,
            row["email"],
            f"{row['first_name']} {row['surname']}".strip(),
            row["certification_code"],
            problems,
        )
        reports.append(line)
        if not problems:
            wanted.append(
                enrolment.Enrolment(
                    email=row["email"],
                    surname=row["surname"],
                    first_name=row["first_name"],
                    certification_code=row["certification_code"],
                    language=row["language"] or "fr",
                    re_enrol=row["re_enrol"].lower() in YES,
                )
            )
    if not reports:
        raise FileRefused("empty")
    return wanted, reports


def digest_of(wanted: list[enrolment.Enrolment]) -> str:
    """The file's content as checked: the same lines with other spaces or line endings are
    the same file."""
    return lines_digest(
        [
            (w.email, w.surname, w.first_name, w.certification_code, w.language, str(w.re_enrol))
            for w in wanted
        ]
    )
