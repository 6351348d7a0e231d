"""Every message shown to people has its French translation, and no catalogue holds words
nothing shows (issue 13). The messages are found as `pybabel extract` finds them (babel.cfg),
so a word written in a template or a handler without a translation fails here, not in front
of a candidate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from app.catalogues import merged_catalogue

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
    "p_": ((1, "c"), 2),
}
# (what is extracted, from where, into which catalogue folder)
AREAS = [
    (
        ROOT / "src" / "ui",
        [("**.py", "python"), ("web/templates/**.html", "jinja2")],
        ROOT / "src" / "ui" / "web" / "locale",
    ),
    (
        ROOT / "src" / "adapters" / "launcher",
        [("**.py", "python"), ("**.jinja", "jinja2")],
        ROOT / "src" / "adapters" / "launcher" / "locale",
    ),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _singular(message_id: str | tuple[str, ...]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def _forms(text: str | tuple[str, ...]) -> list[str]:
    """A message's forms: one, or singular and plural (French has two forms as English)."""
    return list(text) if isinstance(text, tuple) else [text]


def _extracted(source: Path, methods: list[tuple[str, str]]) -> dict[tuple[str, str | None], str]:
    found: dict[tuple[str, str | None], str] = {}
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, _line, message, _comments, context in extract_from_dir(
        str(source), method_map=methods, options_map=options, keywords=KEYWORDS
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:
            found[(singular, context)] = filename
    return found


@pytest.mark.parametrize(("source", "methods", "locale"), AREAS, ids=["ui", "exam"])
def test_every_message_has_its_french_translation(
    source: Path, methods: list[tuple[str, str]], locale: Path
) -> None:
    french = merged_catalogue([locale], "fr")
    missing = [
        f"{where}: {message!r}"
        for (message, context), where in sorted(
            _extracted(source, methods).items(), key=lambda item: (item[0][0], item[0][1] or "")
        )
        if french.get(message, context=context) is None
    ]
    assert not missing, "no French for:\n" + "\n".join(missing)


@pytest.mark.parametrize(("source", "methods", "locale"), AREAS, ids=["ui", "exam"])
def test_no_catalogue_keeps_words_nothing_shows(
    source: Path, methods: list[tuple[str, str]], locale: Path
) -> None:
    shown = set(_extracted(source, methods))
    unused = [
        repr(message.id)
        for message in merged_catalogue([locale], "fr")
        if message.id and (_singular(message.id), message.context) not in shown
    ]
    assert not unused, "unused:\n" + "\n".join(sorted(unused))


@pytest.mark.parametrize(("source", "methods", "locale"), AREAS, ids=["ui", "exam"])
def test_translations_keep_every_placeholder(
    source: Path, methods: list[tuple[str, str]], locale: Path
) -> None:
    wrong = [
        message.id
        for message in merged_catalogue([locale], "fr")
        if message.id
        and any(
            set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(translated))
            for source, translated in zip(_forms(message.id), _forms(message.string), strict=False)
        )
    ]
    assert not wrong, wrong


# French typography in an English sentence: guillemets, or a space before « : ; ? ! », or
# before a percent sign (« The examiner's answer : », « confidence 87 % »: reviewers'
# readings of the English pages).
FRENCH_TYPOGRAPHY = re.compile(r"[«»]|[ \u00a0\u202f][:;?!](?:\s|$)|\)s[ \u00a0]%%")


@pytest.mark.parametrize(("source", "methods", "locale"), AREAS, ids=["ui", "exam"])
def test_english_messages_use_english_quotation_marks_and_spacing(
    source: Path, methods: list[tuple[str, str]], locale: Path
) -> None:
    french_style = sorted(
        f"{where}: {message!r}"
        for (message, _context), where in _extracted(source, methods).items()
        if FRENCH_TYPOGRAPHY.search(message)
    )
    assert not french_style, "French typography in English:\n" + "\n".join(french_style)


# Text a page template writes outside the catalogue is the same in both languages: French
# spacing there (« <strong>The examiner's answer</strong> : », a user's tour of the English
# result page) is wrong in English, and English spacing wrong in French. The punctuation goes
# into the message, where each language spaces it its own way.
SPACE_BEFORE_MARK_OUTSIDE_MESSAGES = re.compile(r"(?:>|\}\})[ \u00a0]+[:;?!](?:\s|<|$)")
SHARED_TEMPLATES = [
    *sorted((ROOT / "src/ui/web/templates").rglob("*.html")),
    *sorted((ROOT / "src/adapters/launcher").rglob("*.jinja")),
]


def test_templates_shared_by_both_languages_put_no_space_before_a_colon_outside_messages() -> None:
    assert SHARED_TEMPLATES
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SHARED_TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SPACE_BEFORE_MARK_OUTSIDE_MESSAGES.search(line)
    ]
    assert not found, "\n".join(found)
