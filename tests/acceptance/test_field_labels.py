"""Every field a form posts is named, in a refusal, by the label the form shows, in the
reader's language: a reviewer's tour read « Vérifiez le champ « outcome » » (the form's name
for « Décision ») and « « Vos motifs » est trop long » (a label no form shows). The table of
labels (`refusals._FIELDS`) is held to every form of the templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ui.web import refusals
from ui.web.i18n import catalogue
from ui.web.refusals import edge_sentence, field_name, refusal_sentence

TEMPLATES = Path(refusals.__file__).parent / "templates"
FIELD = re.compile(r"<(?:input|textarea|select)\b[^>]*>", re.S)
NAME = re.compile(r'\bname="([^"]+)"')
# Named by each question's own words, beside it (the practice questionnaire: `q-<id>`).
OWN_LABELS = {"{{ name }}"}


def posted_fields() -> dict[str, set[str]]:
    """Each field name a form sends (hidden ones and buttons aside), with its templates;
    a name of several (`justification-{{ code.value }}`, `evidence-phone-excused`) by its
    first part, the one a refusal names."""
    found: dict[str, set[str]] = {}
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag in FIELD.findall(template.read_text()):
            named = NAME.search(tag)
            if named is None or re.search(r'type="(hidden|submit|button)"', tag):
                continue
            name = named.group(1)
            if name in OWN_LABELS:
                continue
            name = name.split("-", 1)[0]
            found.setdefault(name, set()).add(template.name)
    return found


def test_the_templates_forms_are_read() -> None:
    fields = posted_fields()
    assert {"outcome", "reason", "answer", "email", "surname", "slot", "mail"} <= set(fields)


@pytest.mark.parametrize("field", sorted(posted_fields()))
def test_every_field_a_form_posts_has_its_label_in_both_languages(field: str) -> None:
    label = refusals._FIELDS.get(field)
    assert label is not None, f"no label for « {field} » ({sorted(posted_fields()[field])})"
    where = refusals._FIELD_CONTEXTS.get(field)
    msgid = f"{where}\x04{label}" if where else label
    assert msgid in catalogue("fr")._catalog, f"« {label} » has no French"  # type: ignore[attr-defined]
    for language in ("fr", "en"):
        shown = field_name(language, field)
        assert shown != field or field == label, (field, language)
        assert f"“{field}”" not in refusal_sentence(language, None, field, "")
        assert f"« {field} »" not in refusal_sentence(language, None, field, "")


@pytest.mark.parametrize(
    ("language", "label"),
    [("fr", "Pourquoi contestez-vous la décision ?"), ("en", "Why do you contest the decision?")],
)
def test_a_contest_too_long_at_the_edge_names_the_box_as_the_result_page_does(
    language: str, label: str
) -> None:
    limit = refusals.LIMITS["appeal_reason"]
    said = edge_sentence(language, "reason", limit, "/results/0f0f/appeal")
    assert label in said and "Vos motifs" not in said and "Your reasons" not in said
