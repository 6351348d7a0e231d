"""What a person wrote, shown on a page among the page's own words (F9, a tester's tour).

A justification ending in U+202E (RIGHT-TO-LEFT OVERRIDE) was shown as it was, and the text
after it on the line, the page's own « » included, read backwards on the candidate's result
and the examiner's page. Free text is shown isolated (`<bdi>`, whose direction is its own
and whose controls end with it: Unicode's bidirectional algorithm, isolates), so it cannot
reorder what is around it, and a sentence in Arabic or Hebrew still reads right to left. A
name and a birth place cannot hold these controls at all (domain.bounds)."""

from __future__ import annotations

from markupsafe import Markup


def isolated(text: object) -> Markup:
    """`text` escaped and isolated from the page around it: the `isolated` filter of every
    page (`{{ appeal.reason | isolated }}`), and the log's quoted words."""
    return Markup("<bdi>%s</bdi>") % (str(text),)
