"""The centre's API token form in Chromium: a double click on « Créer le jeton » and a reload
of its answer issued three active tokens, one secret seen, and the list named none of them (a
tester's tour). Now one form makes one token: the answer shows it with the short id the list
shows for it, in French and English; a refused webhook address is said beside its field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.tenancy import centre_of_operator
from domain.integrations import CentreIntegrations, integrations_id
from tests.browser.conftest import ARTIFACTS, Server
from tests.browser.test_centre_pages import a_centre_operator, centre_logged_in

SHOTS = ARTIFACTS / "tokens"
WORDS = {
    "fr": {"create": "Créer le jeton", "add": "Ajouter le webhook"},
    "en": {"create": "Create the token", "add": "Add the webhook"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_double_click_and_a_reload_make_one_token_named_in_the_list(
    server: Server, page: Any, language: str
) -> None:
    staff = a_centre_operator(server)
    centre_logged_in(page, server, language)
    page.goto(f"{server.url}/operator/integrations")
    page.fill("#name", "LMS")
    page.locator("input[name=scopes][value='results:read']").check()
    page.get_by_role("button", name=WORDS[language]["create"], exact=True).dblclick()
    page.locator("#token-value").wait_for()
    page.wait_for_load_state("networkidle")
    page.reload()  # the answer to a post: the form is sent again
    page.locator("#token-value").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{language}-token-made.png"), full_page=True)

    store = server.platform.ctx.store
    centre = centre_of_operator(staff)
    tokens = store.get(integrations_id(centre), CentreIntegrations).tokens
    assert len(tokens) == 1, "one form, one token"
    [token_id] = tokens
    shown = page.locator("#token-value").inner_text()
    assert f"_{token_id.hex}_" in shown
    assert page.locator("#token-list tbody tr").count() == 1
    short = page.locator("#token-list .token-id").inner_text()
    assert short == token_id.hex[:8] and short in page.locator("#new-token").inner_text()

    # A webhook address with a password: said beside the field, the address kept.
    url = "https://user:pass@example.org/hook"
    page.fill("#url", url)
    page.get_by_role("button", name=WORDS[language]["add"], exact=True).click()
    page.locator("#url-error").wait_for()
    assert page.input_value("#url") == url
    assert re.search(r"@", page.locator("#url-error").inner_text())
    page.locator("#url").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{language}-webhook-refused.png"), full_page=True)
