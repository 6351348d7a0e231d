"""Issue 14's Content-Security-Policy allows no inline script or style: a page that carried
one would break silently in the browser. Every template is checked here, so the break shows
in the test run, not in front of a candidate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src"
TEMPLATES = sorted(
    [
        *(ROOT / "ui" / "web" / "templates").glob("*.html"),
        *ROOT.glob("adapters/launcher/**/*.jinja"),
    ]
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""href\s*=\s*["']javascript:""", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_carries_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    found = [
        f"{kind}: {match.group(0)!r}"
        for kind, pattern in (
            ("inline script", INLINE_SCRIPT),
            ("event handler attribute", HANDLER),
            ("inline style", STYLE),
            ("javascript: link", JS_URL),
        )
        for match in pattern.finditer(text)
    ]
    assert not found, found
