"""The UI's words in French (default) and English (R25), from gettext catalogues (issue 13).

Messages are written in English in templates (`{{ _("…") }}`, `{% trans %}…{% endtrans %}`)
and in Python (`_ = gettext_for(language)`; tables mark theirs with `N_`). French lives in
`locale/fr/LC_MESSAGES/<area>.po`, one file per area. Placeholders use `%(name)s`, as Jinja's
i18n extension does, in templates and Python alike.

"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from app.catalogues import translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"


def browser_language(accept_language: str, default: str) -> str:
    """The language of ours a browser prefers by its `Accept-Language` (the highest `q`, the
    first listed of equals), else `default`: a staff page before any choice, a program."""
    best, best_q = default, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        if language not in LANGUAGES:
            continue
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        if q > best_q:
            best, best_q = language, q
    return best


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The merged catalogue of one language, read once per process."""
    return translations([LOCALE_DIR], language if language in LANGUAGES else DEFAULT_LANGUAGE)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    """Marks a message for extraction where it is defined (a table); translate it where it
    is shown."""
    return message


Gettext = Callable[..., str]


def gettext_for(language: str) -> Gettext:
    """`_(message, **values)` in one language: the translation, `%(name)s` filled in."""
    found = catalogue(language)

    def _(message: str, /, **values: Any) -> str:
        text = found.gettext(message)
        return text % values if values else text

    return _


def ngettext_for(language: str) -> Callable[..., str]:
    """`ngettext(singular, plural, n, **values)` in one language: the form for `n`, with
    `%(num)s` and the other values filled in."""
    found = catalogue(language)

    def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
        return found.ngettext(singular, plural, n) % {"num": n, **values}

    return ngettext


def pgettext_for(language: str) -> Callable[..., str]:
    """`p_(context, message, **values)`: a message whose translation depends on where it is."""
    found = catalogue(language)

    def p_(where: str, message: str, /, **values: Any) -> str:
        text = found.pgettext(where, message)
        return text % values if values else text

    return p_


def install(environment: Environment) -> None:
    """Jinja's i18n extension, answering in the page's language (its `lang` variable)."""
    environment.add_extension("jinja2.ext.i18n")

    @pass_context
    def _gettext(page: Context, message: str) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).gettext(message)

    @pass_context
    def _ngettext(page: Context, singular: str, plural: str, n: int) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).ngettext(singular, plural, n)

    @pass_context
    def _pgettext(page: Context, where: str, message: str) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).pgettext(where, message)

    @pass_context
    def _npgettext(page: Context, where: str, singular: str, plural: str, n: int) -> str:
        found = catalogue(page.get("lang", DEFAULT_LANGUAGE))
        return found.npgettext(where, singular, plural, n)

    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
