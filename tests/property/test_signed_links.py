"""A signed link with any text in place of its signature is refused (R24), never a 500: the
schemathesis fuzz sent non-ASCII characters, which `hmac.compare_digest` refuses on `str`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.links import LinkSigner
from domain.errors import RuleBroken

SIGNER = LinkSigner(b"k" * 32, "http://127.0.0.1:8000")


def test_a_link_signed_here_is_accepted() -> None:
    assert SIGNER.verify("create-session", SIGNER.sign("create-session", "abc")) == "abc"


@given(value=st.text(min_size=1), signature=st.text())
def test_any_other_signature_is_refused_under_its_rule(value: str, signature: str) -> None:
    forged = f"{value.replace('.', '')}.{signature}"
    if forged == SIGNER.sign("create-session", value.replace(".", "")):
        return
    with pytest.raises(RuleBroken):
        SIGNER.verify("create-session", forged)
