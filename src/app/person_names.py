"""One way to write a candidate's name wherever a member of staff reads it (a reviewer's tour:
one person read « MARTIN, Camille » on the examiner's page, « MARTIN Camille » in the centre's
list and « Camille MARTIN » at the hotline; a candidate enrolled as « dupont / jean » read
« DUPONT jean » in the list and « jean dupont » in the confirmation).

The rule, as French administrative pages write names:

- in running text (a heading, a sentence, a confirmation, a page's title, a fact of a page):
  the given name, then the surname in capitals, « Camille MARTIN » (`name_in_text`);
- in a list of people (a table's column, search results), which the eye runs down by
  surname: the surname in capitals first, then the given name, no comma, « MARTIN Camille »
  (`name_in_list`).

The surname is always in capitals, so it is told from the given name in either order
(« Martin Camille » could be read both ways round). A given name typed all in lower case
(« jean », « jean-pierre », « élodie ») is shown with a capital to each of its parts; one
typed with a capital anywhere is shown as typed (« McKenzie », « Anne-marie » written so).
Only what is shown changes: the stored name stays as it was typed, since the certificate
prints it.
"""

from __future__ import annotations

import re
import unicodedata

# A letter opening a part of a given name: at its start, after a space or a hyphen
# (« jean-pierre » → « Jean-Pierre », « marie josé » → « Marie José »).
_PART_START = re.compile(r"(^|[\s-])(\w)")


def given_name_words(first_name: str) -> str:
    """The given name as shown: spaces tidied, and a capital to each part when it was typed
    all in lower case."""
    text = " ".join(first_name.split())
    if text != text.lower():  # a capital somewhere: written on purpose, shown as typed
        return text
    return _PART_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def surname_words(surname: str) -> str:
    """The surname as shown: in capitals, spaces tidied (« de la fontaine » → « DE LA
    FONTAINE »)."""
    return " ".join(surname.split()).upper()


def name_in_text(surname: str, first_name: str) -> str:
    """« Camille MARTIN »: headings, sentences, confirmations, a page's facts."""
    return " ".join(p for p in (given_name_words(first_name), surname_words(surname)) if p)


def name_in_list(surname: str, first_name: str) -> str:
    """« MARTIN Camille »: a list of people, read down by surname."""
    return " ".join(p for p in (surname_words(surname), given_name_words(first_name)) if p)


# What a search ignores besides case and accents: the typographic apostrophe a word processor
# or a phone types (« d’Aubigné ») is the straight one, and the ligatures NFKD leaves whole
# are their two letters (« Lætitia », « Cœur »).
_SEARCH_SAME = str.maketrans({"\u2019": "'", "\u02bc": "'", "æ": "ae", "œ": "oe", "ß": "ss"})


def folded_for_search(text: str) -> str:
    """`text` as a search compares it: case, accents, ligatures and the apostrophe's shape
    ignored (« helene » finds « Hélène », « d'aubigne » finds « D’Aubigné »)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SEARCH_SAME))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
