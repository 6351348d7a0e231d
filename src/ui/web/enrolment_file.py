"""A centre's file of enrolments read and checked, before anything is recorded (issue 12,
13): `;` or `,` as the header uses, a UTF-8 BOM ignored, every line checked and every
problem of each named by its column (the first alone made a centre fix, upload again and
find the next: a tester's tour). Codes and languages are read whatever their case and kept
as the catalogue spells them. Problems are codes; the pages word them."""

from __future__ import annotations

import csv
import difflib
import io
import unicodedata
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
# Other names a centre gives the columns Vigie reads, as `_folded` writes them: its own
# spelling, French, the usual English. A file whose `langue` column was silently dropped
# enrolled an English speaker in French (a reviewer's tour).
LIKELY_MEANT = {
    **{name: "email" for name in ("courriel", "mail", "adressemail", "adresseemail")},
    **{name: "email" for name in ("adressecourriel", "emailaddress", "mailaddress")},
    **{name: "surname" for name in ("nom", "nomdefamille", "lastname", "familyname", "name")},
    **{name: "first_name" for name in ("prenom", "givenname", "forename")},
    **{name: "certification_code" for name in ("certification", "code", "codecertification")},
    **{name: "certification_code" for name in ("certificationcode", "certif", "codeexamen")},
    **{name: "language" for name in ("langue", "lang", "langage", "langueducandidat")},
    **{name: "re_enrol" for name in ("reinscription", "reinscrire", "reenroll", "reenrolment")},
}


def _folded(name: str) -> str:
    """A column's name without case, accents, spaces or punctuation: `Prénom` is `prenom`,
    `E-mail` is `email`, `First Name` is `firstname`."""
    spelled = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in spelled if c.isalnum() and not unicodedata.combining(c))


def meant_column(name: str) -> str:
    """The column Vigie reads that `name` most likely means, or "" for an unrelated one
    (`notes`, `birth_date`): the same once folded, a usual other name, or one close
    letter-for-letter (`langauge`)."""
    by_fold = {_folded(column): column for column in CSV_COLUMNS} | LIKELY_MEANT
    folded = _folded(name)
    if folded in by_fold:
        return by_fold[folded]
    close = difflib.get_close_matches(folded, by_fold, n=1, cutoff=0.8)
    return by_fold[close[0]] if close else ""


@dataclass(frozen=True)
class Unread:
    """A column of the file Vigie does not read, and the one it likely means ("" if none);
    `has_meant`: the file has that column as well (Vigie reads that one: `name` beside
    `surname` and `first_name` is only ignored)."""

    column: str
    meant: str = ""
    has_meant: bool = False


@dataclass(frozen=True)
class Header:
    """The file's columns that Vigie does not read. One that looks like a column Vigie reads
    and the file lacks refuses the file, its lines still checked: its values would be
    dropped and the lines recorded otherwise (every mail in French when `langue` said `en`).
    Any other is only said: it is ignored and nothing of it is recorded."""

    unread: tuple[Unread, ...] = ()

    @property
    def to_rename(self) -> tuple[Unread, ...]:
        return tuple(u for u in self.unread if u.meant and not u.has_meant)

    @property
    def ignored(self) -> tuple[Unread, ...]:
        return tuple(u for u in self.unread if not u.meant or u.has_meant)


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
    language: str = ""  # as written: fr, en, "" (French by default) or what was typed
    re_enrol: str = ""  # yes, no, or what was typed


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


def _reader(text: str) -> tuple[csv.DictReader[str], list[str]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter_of(text))
    header = [(name or "").strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    return reader, header


def header_of(text: str) -> Header:
    """The columns of the file's first line that Vigie does not read, in the file's order
    (an empty name, as a separator at the end of the line leaves, is none)."""
    _, header = _reader(text)
    unread = []
    for name in dict.fromkeys(header):
        if name and name not in CSV_COLUMNS:
            meant = meant_column(name)
            unread.append(Unread(name, meant, meant in header))
    return Header(tuple(unread))


def check_csv(
    text: str, known_codes: set[str]
) -> tuple[list[enrolment.Enrolment], list[LineReport]]:
    """Every line checked before anything is recorded: nothing half-imported. The columns
    it does not read are `header_of`'s."""
    reader, header = _reader(text)
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
            language=row["language"],
            re_enrol=_yes_or_no(row["re_enrol"]),
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


def _yes_or_no(value: str) -> str:
    if value.lower() in YES:
        return "yes"
    return "no" if value.lower() in NO else value


def digest_of(wanted: list[enrolment.Enrolment]) -> str:
    """The file's content as checked: the same lines with other spaces or line endings are
    the same file."""
    return lines_digest(
        [
            (w.email, w.surname, w.first_name, w.certification_code, w.language, str(w.re_enrol))
            for w in wanted
        ]
    )
