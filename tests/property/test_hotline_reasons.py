"""The hotline's reasons and links (issue 13): what is kept is what was typed, trimmed, and
bounded; the refusal names the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidArgument
from domain.hotline import REASON_LIMIT, check_link, check_reason


@given(st.text(max_size=REASON_LIMIT + 40), st.booleans())
def test_a_reason_is_kept_trimmed_or_refused_naming_its_field(text: str, required: bool) -> None:
    kept = text.strip()
    if len(kept) > REASON_LIMIT or (required and not kept):
        with pytest.raises(InvalidArgument) as refused:
            check_reason("reason", text, required=required)
        assert refused.value.field == "reason"
    else:
        assert check_reason("reason", text, required=required) == kept


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_only_a_full_https_address_without_spaces_is_a_screen_sharing_link(tail: str) -> None:
    link = "https://" + tail
    value = link.strip()
    spaced = any(c.isspace() for c in value)
    good = len(value) > len("https://") and not spaced and value.startswith("https://")
    if good:
        assert check_link(link) == value
    else:
        with pytest.raises(InvalidArgument):
            check_link(link)
