"""Words in the reader's language from gettext catalogues (issue 13).

Every user-facing string is written once, in English, and looked up in a `.po` catalogue
per language. A catalogue folder may hold several `.po` files (one per area: base,
candidate, exam, examiner, centre, hotline…) so that teams add words without editing one
shared file; they are merged when first read. English, the source language, needs no
catalogue: a message is its own English text.

Babel reads and compiles the catalogues (no `msgfmt` step, nothing compiled to commit).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SOURCE_LANGUAGE = "en"


class CatalogueClash(ValueError):
    """Two area catalogues translate the same message differently: give one a context."""


def po_files(folders: Iterable[Path], language: str) -> list[Path]:
    """The `.po` files of one language under `<folder>/<language>/LC_MESSAGES/`."""
    return [
        po for folder in folders for po in sorted((folder / language / "LC_MESSAGES").glob("*.po"))
    ]


def merged_catalogue(folders: Iterable[Path], language: str) -> Catalog:
    """Every area's messages of one language in one catalogue; fuzzy or empty entries are
    left out (they fall back to English rather than show a guess)."""
    merged = Catalog(locale=language, fuzzy=False)
    for po in po_files(folders, language):
        with po.open("rb") as stream:
            area = read_po(stream, locale=language)
        for message in area:
            if not message.id or not message.string or message.fuzzy:
                continue
            key = message.id if message.context is None else (message.id, message.context)
            earlier = merged.get(message.id, context=message.context)
            if earlier is not None and earlier.string != message.string:
                raise CatalogueClash(f"{po.name}: {key!r} is translated twice, differently")
            merged[message.id] = message  # keyed by id and context
    return merged


def translations(folders: Iterable[Path], language: str) -> gettext.NullTranslations:
    """A gettext object for one language: the merged catalogue compiled in memory."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, merged_catalogue(folders, language))
    buffer.seek(0)
    return Translations(fp=buffer)
